/**
 * Verifying a distributed config, and ordering two of them.
 * @module
 */
import { parseCertificate } from "../pki/certificate.ts";
import { checkIssuedBy } from "../pki/chain.ts";
import { CertificateError } from "../pki/errors.ts";
import { checkDcSignerRole } from "../pki/roles.ts";
import { parsedCa, type TrustStore, trustStoreFromPem } from "../pki/trust.ts";
import { decodeDc } from "./codec.ts";
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
  /** The whole DistributedConfig protobuf, as received (to store and to gossip on). */
  readonly raw: Uint8Array;
  /** Everything suspicious but accepted: unknown protobuf fields, content warnings. */
  readonly warnings: readonly string[];
}

const URI_RE = /^vnet-conf:\/\/([0-9a-fA-F]{64})$/;

/**
 * Verifies a DistributedConfig: version 1; certificate issued by our CA and valid at `now`;
 * exactly one URI SAN, scheme `vnet-conf`, whose host is the hex SHA-256 of the content; and
 * content that parses.
 * @param bytes The protobuf bytes (a `dconf-*.bin` file).
 * @param trust Our trust store, or our CA certificate as PEM.
 * @param now The time for certificate validity.
 * @returns The verified DC.
 * @throws {DcError} with the reason (a certificate problem has the CertificateError as cause).
 */
export async function verifyDc(
  bytes: Uint8Array,
  trust: TrustStore | string,
  now: Date = new Date(),
): Promise<VerifiedDc> {
  const msg = decodeDc(bytes);
  const warnings: string[] = msg.unknownFields.map((n) => `unknown protobuf field ${n} (ignored)`);
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
    await checkIssuedBy(cert, parsedCa(store), now, "the DC certificate");
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
  return {
    version: msg.version,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    contentHash,
    content,
    contentBytes: msg.content,
    raw: bytes,
    warnings,
  };
}

/**
 * Orders DCs by NotBefore (older first). Equal times compare 0: neither replaces the other.
 * @returns negative, zero or positive.
 */
export function compareDc(a: { notBefore: Date }, b: { notBefore: Date }): number {
  return a.notBefore.getTime() - b.notBefore.getTime();
}

/**
 * True when `candidate` should replace `current`: strictly later NotBefore (as in the Go
 * vmesh, an equal time is not newer). Any DC is newer than none.
 */
export function isNewer(candidate: { notBefore: Date }, current?: { notBefore: Date }): boolean {
  return current === undefined || compareDc(candidate, current) > 0;
}
