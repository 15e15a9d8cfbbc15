/**
 * The one error type of the PKI: every refusal carries a machine-readable reason.
 * @module
 */

/** Why a certificate, key or trust store was refused. */
export type CertificateErrorReason =
  /** Past its notAfter (the leaf, or the CA when the message says so). */
  | "expired"
  /** Before its notBefore. */
  | "not_yet_valid"
  /** Issuer name matches our CA but the signature does not verify with the CA key. */
  | "bad_signature"
  /** Issued by some other CA (issuer name differs from our CA's subject). */
  | "not_issued_by_ca"
  /** The CA certificate may not sign certificates (CA:FALSE, or keyUsage without keyCertSign). */
  | "ca_not_a_ca"
  /** Self-signed and not one of the pinned external certificates. */
  | "unknown_external"
  /** A pinned external certificate whose name falls inside our own domain. */
  | "external_in_own_domain"
  /** A pinned external certificate named inside a domain our CA issues for (a sibling domain). */
  | "external_in_mesh_domain"
  /** A certificate used in a role it may not have (a CA or DC certificate as a node, a node's as a DC's). */
  | "wrong_role"
  /** A critical extension vmesh does not understand, on the CA or the leaf. */
  | "unknown_critical"
  /** A name outside the CA's nameConstraints (or of a constrained form vmesh does not evaluate). */
  | "name_constraints"
  /** Not parseable as an X.509 certificate (or PEM without a certificate). */
  | "malformed"
  /** A signature or key algorithm we do not verify (fail closed). */
  | "unsupported_algorithm"
  /** The certificate has no subject CN, or a CN that is not a node name. */
  | "no_name"
  /** The private key does not belong to the certificate. */
  | "key_mismatch"
  /** The private key could not be read. */
  | "bad_key"
  /** A file could not be read. */
  | "unreadable";

/** A certificate, key or trust store was refused; `reason` says why. */
export class CertificateError extends Error {
  /** Machine-readable cause of the refusal. */
  readonly reason: CertificateErrorReason;

  /** Creates the error; `options.cause` keeps the underlying error. */
  constructor(reason: CertificateErrorReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CertificateError";
    this.reason = reason;
  }
}
