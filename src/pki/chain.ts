/**
 * The one-level chain check: is a certificate issued by our CA and valid now?
 * Used for peer certificates, our own certificate and distributed-config certificates.
 * @module
 */
import { KeyUsageBit, type ParsedCertificate } from "./certificate.ts";
import { bytesEqual } from "./der.ts";
import { CertificateError } from "./errors.ts";
import { checkNameConstraints } from "./name_constraints.ts";
import { verifyCertificateSignature } from "./signature.ts";

/**
 * Refuses a CA certificate that may not sign: a v3 certificate with basicConstraints CA:FALSE,
 * or with keyUsage lacking keyCertSign, or with a critical extension we do not understand (its
 * constraint would otherwise be ignored). v1 certificates (no extensions), as openssl makes
 * them, and v3 certificates without basicConstraints are accepted.
 * @throws {CertificateError} "ca_not_a_ca", "unknown_critical".
 */
export function checkCaMaySign(ca: ParsedCertificate): void {
  if (ca.unknownCritical.length > 0) {
    throw new CertificateError(
      "unknown_critical",
      `the CA certificate "${ca.cn ?? ""}" has critical extensions vmesh does not understand ` +
        `(${ca.unknownCritical.join(", ")}): its constraints cannot be honoured, so it is refused`,
    );
  }
  if (ca.basicConstraints && !ca.basicConstraints.ca) {
    throw new CertificateError(
      "ca_not_a_ca",
      `the CA certificate "${
        ca.cn ?? ""
      }" has basicConstraints CA:FALSE: it may not sign certificates`,
    );
  }
  if (ca.keyUsage && !ca.keyUsage[KeyUsageBit.keyCertSign]) {
    throw new CertificateError(
      "ca_not_a_ca",
      `the CA certificate "${
        ca.cn ?? ""
      }" has a keyUsage without keyCertSign: it may not sign certificates`,
    );
  }
}

/** Refuses a certificate outside its validity window at `now`. */
export function checkValidity(c: ParsedCertificate, now: Date, what: string): void {
  if (now.getTime() > c.notAfter.getTime()) {
    throw new CertificateError(
      "expired",
      `${what} expired at ${c.notAfter.toISOString()} (now ${now.toISOString()})`,
    );
  }
  if (now.getTime() < c.notBefore.getTime()) {
    throw new CertificateError(
      "not_yet_valid",
      `${what} is not valid before ${c.notBefore.toISOString()} (now ${now.toISOString()})`,
    );
  }
}

/**
 * Checks that `leaf` is issued by `ca` and that both are valid at `now`.
 * Also applies the CA's nameConstraints and refuses unknown critical extensions on both.
 * @throws {CertificateError} with reason "not_issued_by_ca", "unknown_external",
 *   "bad_signature", "unsupported_algorithm", "ca_not_a_ca", "unknown_critical",
 *   "name_constraints", "expired", "not_yet_valid", "malformed".
 */
export async function checkIssuedBy(
  leaf: ParsedCertificate,
  ca: ParsedCertificate,
  now: Date,
  what = "certificate",
): Promise<void> {
  if (bytesEqual(leaf.der, ca.der)) {
    throw new CertificateError("not_issued_by_ca", `${what} is the CA certificate itself`);
  }
  if (!bytesEqual(leaf.issuerRaw, ca.subjectRaw)) {
    if (bytesEqual(leaf.issuerRaw, leaf.subjectRaw)) {
      throw new CertificateError(
        "unknown_external",
        `${what} "${leaf.cn ?? ""}" is self-signed and not one of the pinned external certificates`,
      );
    }
    throw new CertificateError(
      "not_issued_by_ca",
      `${what} "${leaf.cn ?? ""}" is not issued by our CA "${ca.cn ?? ""}"`,
    );
  }
  checkCaMaySign(ca);
  checkValidity(ca, now, `the CA certificate "${ca.cn ?? ""}"`);
  if (!(await verifyCertificateSignature(leaf, ca))) {
    throw new CertificateError(
      "bad_signature",
      `${what} "${leaf.cn ?? ""}" names our CA as issuer but its signature does not verify`,
    );
  }
  if (leaf.unknownCritical.length > 0) {
    throw new CertificateError(
      "unknown_critical",
      `${what} has critical extensions we do not understand: ${leaf.unknownCritical.join(", ")}`,
    );
  }
  if (ca.nameConstraints) checkNameConstraints(leaf, ca.nameConstraints, ca.cn ?? "", what);
  checkValidity(leaf, now, `${what} "${leaf.cn ?? ""}"`);
}
