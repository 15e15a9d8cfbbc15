/**
 * Verifying a distributed config, and putting it in canonical form.
 *
 * Canonical form: the signature covers the content bytes (through the `vnet-conf://` hash in
 * the certificate) and the certificate (through the CA's signature), but not the protobuf
 * container around them. So a verified DC is kept, persisted and gossiped as the container
 * re-encoded the way Go's `proto.Marshal` writes it (`encodeDc`): fields 1, 2, 3 in order,
 * minimal varints, nothing else. Unknown fields, padding and non-minimal encodings a relaying
 * peer added are dropped (and reported as warnings); duplicate or mistyped known fields and
 * truncated input are refused by `decodeDc`. The certificate and content bytes are kept as
 * signed, so the re-encoded DC verifies everywhere, `vnconfigsign` files included.
 * @module
 */
import {
  CertificateError,
  checkDcSignerRole,
  checkIssuedBy,
  parseCertificate,
  parsedCa,
  type TrustStore,
  trustStoreFromPem,
} from "../pki/mod.ts";
import { bytesEqual } from "../net/mod.ts";
import { decodeDc, encodeDc } from "./codec.ts";
import { type DcContent, parseDcContent } from "./content.ts";
import { DcError } from "./errors.ts";
import { DC_URI_SCHEME, sha256Hex } from "./sign.ts";

/** A DC that passed {@link verifyDc}. */
export interface VerifiedDc {
  /** Always 1. */
  readonly version: number;
  /** The certificate's NotBefore: the DC's signing time and its order. */
  readonly notBefore: Date;
  /** The certificate's NotAfter. */
  readonly notAfter: Date;
  /** Lower-case hex SHA-256 of the content. */
  readonly contentHash: string;
  /** The parsed content. */
  readonly content: DcContent;
  /** The content bytes as signed. */
  readonly contentBytes: Uint8Array;
  /**
   * The whole DistributedConfig protobuf in canonical form (to store and to gossip on): the
   * bytes received when they were canonical, else their re-encoding (see the module doc).
   */
  readonly raw: Uint8Array;
  /** Everything suspicious but accepted: unknown protobuf fields, content warnings. */
  readonly warnings: readonly string[];
}

const URI_RE = /^vnet-conf:\/\/([0-9a-fA-F]{64})$/;

/** Options of {@link verifyDc}. */
export interface VerifyDcOptions {
  /**
   * Accept a DC whose certificate has expired (default false): the chain is then checked at
   * the certificate's NotAfter instead of `now`. Nodes pass true for DCs from peers and from
   * `state_dir`: an aged DC stays the CA's latest word and is enforced until a newer one
   * arrives (a DC not yet valid is still refused).
   */
  allowExpired?: boolean;
}

/**
 * Verifies a DistributedConfig: version 1; certificate issued by our CA and valid at `now`;
 * exactly one URI SAN, scheme `vnet-conf`, whose host is the hex SHA-256 of the content; and
 * content that parses.
 * @param bytes The protobuf bytes (a `dconf-*.bin` file).
 * @param trust Our trust store, or our CA certificate as PEM.
 * @param now The time for certificate validity.
 * @param opts See {@link VerifyDcOptions}.
 * @returns The verified DC, its `raw` in canonical form.
 * @throws {DcError} with the reason (a certificate problem has the CertificateError as cause).
 */
export async function verifyDc(
  bytes: Uint8Array,
  trust: TrustStore | string,
  now: Date = new Date(),
  opts: VerifyDcOptions = {},
): Promise<VerifiedDc> {
  const msg = decodeDc(bytes);
  const warnings: string[] = msg.unknownFields.map((n) => `unknown protobuf field ${n} (dropped)`);
  if (msg.version !== 1) {
    throw new DcError("unsupported_version", `unsupported DC version ${msg.version} (expected 1)`);
  }
  let store: TrustStore;
  try {
    store = typeof trust === "string" ? await trustStoreFromPem(trust) : trust;
  } catch (e) {
    throw new DcError("bad_certificate", `cannot use the CA: ${(e as Error).message}`, {
      cause: e,
    });
  }
  let cert;
  try {
    if (msg.certificate.length === 0) {
      throw new CertificateError("malformed", "the DC has no certificate");
    }
    cert = parseCertificate(msg.certificate);
    const at = opts.allowExpired && now.getTime() > cert.notAfter.getTime() ? cert.notAfter : now;
    await checkIssuedBy(cert, parsedCa(store), at, "the DC certificate");
    checkDcSignerRole(cert, "the DC certificate");
  } catch (e) {
    if (e instanceof CertificateError) {
      throw new DcError("bad_certificate", `${e.message} (${e.reason})`, { cause: e });
    }
    throw e;
  }
  if (cert.uriSans.length !== 1) {
    throw new DcError(
      "bad_uri",
      `the DC certificate must carry exactly one URI, it has ${cert.uriSans.length}`,
    );
  }
  const uri = cert.uriSans[0];
  if (!uri.toLowerCase().startsWith(`${DC_URI_SCHEME}://`)) {
    throw new DcError("bad_uri", `the DC certificate's URI "${uri}" is not ${DC_URI_SCHEME}://`);
  }
  const m = uri.match(URI_RE);
  if (!m) {
    throw new DcError(
      "bad_uri",
      `the DC certificate's URI "${uri}" does not hold a hex SHA-256 (64 hex digits)`,
    );
  }
  const contentHash = await sha256Hex(msg.content);
  if (m[1].toLowerCase() !== contentHash) {
    throw new DcError(
      "hash_mismatch",
      `the DC content's SHA-256 is ${contentHash}, the certificate says ${
        m[1]
      }: content tampered with`,
    );
  }
  const content = parseDcContent(msg.content);
  warnings.push(...content.warnings);
  const canonical = encodeDc(msg);
  if (!bytesEqual(canonical, bytes)) {
    warnings.push(
      `the DC container was not in canonical form (${bytes.length} bytes, ` +
        `${canonical.length} canonical): re-encoded`,
    );
  }
  return {
    version: msg.version,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    contentHash,
    content,
    contentBytes: msg.content,
    raw: bytesEqual(canonical, bytes) ? bytes : canonical,
    warnings,
  };
}
