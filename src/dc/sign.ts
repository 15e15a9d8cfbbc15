/**
 * Signing a distributed config exactly as the Go vmesh's `vnconfigsign` does: a fresh ECDSA
 * P-256 key, a certificate from the CA with serial 0, NotBefore = now (UTC), NotAfter = one
 * year later, keyUsage digitalSignature, one URI SAN `vnet-conf://<sha256(content) hex>`,
 * empty subject; then the protobuf { version: 1, certificate, content }.
 * @module
 */
import { issueCertificate, x509Lib } from "../pki/mod.ts";
import { encodeDc } from "./codec.ts";
import { MAX_DC_BYTES } from "./errors.ts";

/** The URI scheme of the DC certificate's SAN. */
export const DC_URI_SCHEME = "vnet-conf";

/** A signed DC. */
export interface SignedDc {
  /** The DistributedConfig protobuf bytes, ready to write to a file. */
  bytes: Uint8Array;
  /** The default file name, `dconf-YYYY-MM-DD-HH-MM-SS.bin` (UTC), as vnconfigsign names it. */
  fileName: string;
  /** The certificate's NotBefore: what makes one DC newer than another. */
  notBefore: Date;
  /** Lower-case hex SHA-256 of the content. */
  contentHash: string;
}

/** Lower-case hex SHA-256. */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>);
  return new Uint8Array(d).toHex();
}

/** `dconf-YYYY-MM-DD-HH-MM-SS.bin` for a UTC time. */
export function dcFileName(t: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `dconf-${t.getUTCFullYear()}-${p(t.getUTCMonth() + 1)}-${p(t.getUTCDate())}-` +
    `${p(t.getUTCHours())}-${p(t.getUTCMinutes())}-${p(t.getUTCSeconds())}.bin`;
}

/** Go's `t.AddDate(1, 0, 0)`: same month, day and time next year (Feb 29 → Mar 1). */
function addOneYear(t: Date): Date {
  return new Date(Date.UTC(
    t.getUTCFullYear() + 1,
    t.getUTCMonth(),
    t.getUTCDate(),
    t.getUTCHours(),
    t.getUTCMinutes(),
    t.getUTCSeconds(),
  ));
}

/**
 * Signs DC content with the CA.
 * @param o.caCertPem Our CA certificate (PEM).
 * @param o.caKeyPem The CA's private key (PEM: PKCS#8, SEC1 or PKCS#1).
 * @param o.content The DC JSON bytes, signed as given (not re-serialised).
 * @param o.now Signing time (default now); NotBefore is it truncated to whole seconds.
 * @param o.notAfter End of the DC certificate's validity (default one year after NotBefore, as
 *   vnconfigsign); for tests of expiry.
 * @returns The protobuf bytes, default file name, NotBefore and content hash.
 * @throws {CertificateError} when the CA certificate or key is unusable; {RangeError} when
 *   the result would exceed 1 MiB.
 */
export async function signDc(o: {
  caCertPem: string;
  caKeyPem: string;
  content: Uint8Array;
  now?: Date;
  notAfter?: Date;
}): Promise<SignedDc> {
  if (o.content.length > MAX_DC_BYTES) {
    throw new RangeError(`the DC content is ${o.content.length} bytes, over the 1 MiB limit`);
  }
  const notBefore = new Date(Math.floor((o.now ?? new Date()).getTime() / 1000) * 1000);
  const x509 = await x509Lib();
  const contentHash = await sha256Hex(o.content);
  const keys = await crypto.subtle.generateKey(
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["sign", "verify"],
  ) as CryptoKeyPair;
  const der = await issueCertificate({
    caCertPem: o.caCertPem,
    caKeyPem: o.caKeyPem,
    publicKey: keys.publicKey,
    serialHex: "00",
    notBefore,
    notAfter: o.notAfter ?? addOneYear(notBefore),
    extensions: [
      // Go marks keyUsage critical, and the SAN critical when the subject is empty.
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.SubjectAlternativeNameExtension(
        [{ type: "url", value: `${DC_URI_SCHEME}://${contentHash}` }],
        true,
      ),
    ],
  });
  const bytes = encodeDc({ version: 1, certificate: der, content: o.content });
  return { bytes, fileName: dcFileName(notBefore), notBefore, contentHash };
}
