// placeholder entry so the lock file can be created; replaced by the CLI.
import "reflect-metadata";
import "@peculiar/x509";
import "@bufbuild/protobuf";
import "@bufbuild/protobuf/wire";
import "@logtape/logtape";
