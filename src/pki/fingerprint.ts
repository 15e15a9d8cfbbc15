/**
 * The key fingerprint of a certificate: the SHA-256 of its SubjectPublicKeyInfo DER, lower-case
 * hex, as the DC's `revoked_keys` lists it. It names the key, not the certificate: every
 * certificate issued for one key pair has the same fingerprint. It equals
 * `openssl x509 -pubkey -noout -in c.pem | openssl pkey -pubin -outform DER | sha256sum`.
 * @module
 */
import { createHash } from "node:crypto";
import { parseCertificate } from "./certificate.ts";

/** SHA-256 of a SubjectPublicKeyInfo DER, lower-case hex. */
export function spkiFingerprint(spki: Uint8Array): string {
  return createHash("sha256").update(spki).digest("hex");
}

/**
 * The key fingerprint of a DER certificate.
 * @throws {CertificateError} "malformed" when the DER does not parse as a certificate
 */
export function keyFingerprint(der: Uint8Array): string {
  return spkiFingerprint(parseCertificate(der).spki);
}
