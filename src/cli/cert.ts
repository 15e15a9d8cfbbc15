/**
 * `vmesh cert ca` and `vmesh cert node`: make a CA and node certificates; `vmesh cert
 * fingerprint`: the key fingerprint the DC's `revoked_keys` lists.
 * @module
 */
import {
  CertificateError,
  createCa,
  issueNodeCertificate,
  type KeyAlgorithm,
  keyFingerprint,
  peerIdOf,
  pemCertificates,
  shortId,
} from "../pki/mod.ts";
import {
  CliFailure,
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

/** The largest certificate file `cert fingerprint` reads. */
const MAX_CERT_FILE = 1024 * 1024;

/** Reads at most `max` bytes of `path` (a device or a huge file is refused, not read whole). */
async function readBounded(path: string, max: number): Promise<Uint8Array> {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path);
  } catch (e) {
    throw new CliFailure(`cannot read certificate ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const buf = new Uint8Array(max + 1);
    let n = 0;
    while (n < buf.length) {
      const r = await f.read(buf.subarray(n));
      if (r === null) break;
      n += r;
    }
    if (n > max) throw new CliFailure(`${path}: over ${max} bytes, not a certificate`);
    return buf.slice(0, n);
  } catch (e) {
    if (e instanceof CliFailure) throw e;
    throw new CliFailure(`cannot read certificate ${path}: ${(e as Error).message}`, { cause: e });
  } finally {
    f.close();
  }
}

/** `vmesh cert fingerprint`. */
export const certFingerprint: Command = {
  name: "cert fingerprint",
  summary: "print a certificate's key fingerprint (for the DC's revoked_keys)",
  help: `Usage: vmesh cert fingerprint <cert.pem>

Prints the SHA-256 of the certificate's SubjectPublicKeyInfo DER in lower-case hex: the value
the distributed config's "revoked_keys" takes to revoke that key (every certificate issued for
the key pair). The same as
  openssl x509 -pubkey -noout -in <cert.pem> | openssl pkey -pubin -outform DER | sha256sum
The file is a PEM certificate (the first one counts when it holds a chain) or a DER one.

Options:
  -h, --help           show this help`,
  async run(args) {
    const { values, positionals } = parse(args, {}, { positionals: 1 });
    if (values.help) return help(this);
    const file = positionals[0];
    if (!file) throw new UsageError("missing the certificate file (cert.pem)");
    const bytes = await readBounded(file, MAX_CERT_FILE);
    const text = new TextDecoder().decode(bytes);
    let der: Uint8Array | undefined;
    if (text.includes("-----BEGIN")) {
      try {
        der = pemCertificates(text)[0];
      } catch (e) {
        throw new CliFailure(`${file}: not a PEM certificate: ${(e as Error).message}`, {
          cause: e,
        });
      }
      if (der === undefined) {
        throw new CliFailure(`${file}: holds no "BEGIN CERTIFICATE" block (a key or a CSR?)`);
      }
    } else {
      der = bytes;
    }
    try {
      console.log(keyFingerprint(der));
    } catch (e) {
      if (!(e instanceof CertificateError)) throw e;
      throw new CliFailure(`${file}: not a certificate: ${e.message}`, { cause: e });
    }
    return Exit.ok;
  },
};
