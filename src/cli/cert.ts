/**
 * `vmesh cert ca` and `vmesh cert node`: make a CA and node certificates.
 * @module
 */
import {
  createCa,
  issueNodeCertificate,
  type KeyAlgorithm,
  peerIdOf,
  pemCertificates,
  shortId,
} from "../pki/mod.ts";
import {
  type Command,
  Exit,
  help,
  parse,
  positiveInt,
  readTextFor,
  required,
  UsageError,
  writeFiles,
} from "./common.ts";

function algorithm(v: string | undefined): KeyAlgorithm {
  if (v === undefined) return "ed25519";
  if (v === "ed25519" || v === "ecdsa-p256") return v;
  throw new UsageError(`--algorithm must be ed25519 or ecdsa-p256, got "${v}"`);
}

/** `vmesh cert ca`. */
export const certCa: Command = {
  name: "cert ca",
  summary: "create a certificate authority (<prefix>.crt, <prefix>.key)",
  help: `Usage: vmesh cert ca --name <cn> --out <prefix> [options]

Creates a self-signed CA certificate and its private key, written to <prefix>.crt and
<prefix>.key (mode 0600). Every node of the mesh trusts this CA.

Options:
  --name <cn>          the CA's common name, conventionally the mesh domain (vnet.example.com)
  --out <prefix>       output path prefix
  --days <n>           validity in days (default 3650)
  --algorithm <alg>    ed25519 (default) or ecdsa-p256
  --force              overwrite existing files
  -h, --help           show this help

Example:
  vmesh cert ca --name vnet.example.com --out ca`,
  async run(args) {
    const { values } = parse(args, {
      name: { type: "string" },
      out: { type: "string" },
      days: { type: "string" },
      algorithm: { type: "string" },
      force: { type: "boolean" },
    });
    if (values.help) return help(this);
    const name = required(values.name, "--name");
    const out = required(values.out, "--out");
    const days = positiveInt(values.days, "--days", 3650);
    const ca = await createCa({ name, days, algorithm: algorithm(values.algorithm) });
    await writeFiles([
      { path: `${out}.crt`, data: ca.certPem, mode: 0o644 },
      { path: `${out}.key`, data: ca.keyPem, mode: 0o600 },
    ], values.force ?? false);
    console.log(`wrote ${out}.crt and ${out}.key (CA "${name}", ${days} days)`);
    return Exit.ok;
  },
};

/** `vmesh cert node`. */
export const certNode: Command = {
  name: "cert node",
  summary: "issue a node certificate from the CA",
  help: `Usage: vmesh cert node --ca <prefix> --name <cn> --out <prefix> [options]

Issues a node certificate signed by the CA at <ca-prefix>.crt / <ca-prefix>.key, and writes
it with a new private key to <prefix>.crt and <prefix>.key (mode 0600). The certificate has
CN=<name> and subjectAltName DNS:<name>; the node's domain is the name after its first dot.

Options:
  --ca <prefix>        the CA's path prefix (reads <prefix>.crt and <prefix>.key)
  --name <cn>          the node's name, e.g. a.vnet.example.com
  --out <prefix>       output path prefix
  --days <n>           validity in days (default 365)
  --algorithm <alg>    ed25519 (default) or ecdsa-p256
  --force              overwrite existing files
  -h, --help           show this help

Example:
  vmesh cert node --ca ca --name a.vnet.example.com --out a`,
  async run(args) {
    const { values } = parse(args, {
      ca: { type: "string" },
      name: { type: "string" },
      out: { type: "string" },
      days: { type: "string" },
      algorithm: { type: "string" },
      force: { type: "boolean" },
    });
    if (values.help) return help(this);
    const caPrefix = required(values.ca, "--ca");
    const name = required(values.name, "--name");
    const out = required(values.out, "--out");
    const days = positiveInt(values.days, "--days", 365);
    const alg = algorithm(values.algorithm);
    const caCertPem = await readTextFor(`${caPrefix}.crt`, "CA certificate");
    const caKeyPem = await readTextFor(`${caPrefix}.key`, "CA key");
    let node;
    try {
      node = await issueNodeCertificate({ caCertPem, caKeyPem, name, days, algorithm: alg });
    } catch (e) {
      if (e instanceof TypeError) throw new UsageError(e.message);
      throw e;
    }
    await writeFiles([
      { path: `${out}.crt`, data: node.certPem, mode: 0o644 },
      { path: `${out}.key`, data: node.keyPem, mode: 0o600 },
    ], values.force ?? false);
    const id = await peerIdOf(pemCertificates(node.certPem)[0]);
    console.log(
      `wrote ${out}.crt and ${out}.key (node "${name}", id ${shortId(id)}, ${days} days)`,
    );
    return Exit.ok;
  },
};
