/**
 * The error of the distributed-config (DC) module.
 * @module
 */

/** Why a distributed config was refused. */
export type DcErrorReason =
  /** Not a DistributedConfig protobuf (truncated, garbage, duplicate or mistyped fields). */
  | "malformed"
  /** Larger than {@link MAX_DC_BYTES}. */
  | "oversize"
  /** The version field is not 1. */
  | "unsupported_version"
  /** The certificate is not issued by our CA, expired, malformed, ... (`cause` has details). */
  | "bad_certificate"
  /** The certificate does not carry exactly one `vnet-conf://<sha256 hex>` URI. */
  | "bad_uri"
  /** The content's SHA-256 differs from the hash in the certificate. */
  | "hash_mismatch"
  /** The content is not valid DC JSON (bad CIDR, bad max_prefix_len, wrong types). */
  | "bad_content"
  /** A DC that is not newer than the current one. */
  | "not_newer"
  /** A chunked DC transfer from a peer broke the rules (size, order, hash, timeout). */
  | "bad_transfer";

/** A distributed config was refused; `reason` says why. */
export class DcError extends Error {
  /** Machine-readable cause of the refusal. */
  readonly reason: DcErrorReason;

  /** Creates the error; `options.cause` keeps the underlying error. */
  constructor(reason: DcErrorReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DcError";
    this.reason = reason;
  }
}

/** The largest DC accepted, encoded: 1 MiB. */
export const MAX_DC_BYTES = 1024 * 1024;
