/**
 * `vmesh dc apply`: a signed DC handed to a running node over the control socket. The same
 * checks as `--initial-dc`: verified against the CA and valid now (an expired DC is refused:
 * sign a new one), newer than the DC in force; then applied, persisted and pushed to every
 * peer at once, as a DC from a peer would be.
 * @module
 */
import { DcError, isNewer, MAX_DC_BYTES, type VerifiedDc, verifyDc } from "../dc/mod.ts";
import { CertificateError, type TrustStore } from "../pki/mod.ts";
import type { DcSync } from "./dc_sync.ts";

/** The largest base64 text of a DC. */
const MAX_BASE64 = Math.ceil(MAX_DC_BYTES / 3) * 4;

/** Why `dc apply` refused a DC. */
export type DcApplyRefusal = "not_a_dc" | "foreign" | "invalid" | "expired" | "not_newer";

/** `vmesh dc apply` refused the DC; `reason` says why, the message what to do. */
export class DcApplyError extends Error {
  /**
   * @param reason machine-readable cause
   * @param message what is wrong and what to do
   */
  constructor(readonly reason: DcApplyRefusal, message: string) {
    super(message);
    this.name = "DcApplyError";
  }
}

/**
 * Applies the DC in a control request (`dc`: the file's bytes in base64).
 * @returns the DC now in force (signing time, end date, content hash)
 * @throws {DcApplyError} for an invalid, foreign, expired or older DC
 */
export async function applyDcRequest(
  node: { readonly dc: DcSync<VerifiedDc> },
  trust: TrustStore,
  b64: unknown,
  now: Date = new Date(),
): Promise<Record<string, unknown>> {
  if (typeof b64 !== "string" || b64.length === 0 || b64.length > MAX_BASE64) {
    throw new DcApplyError("not_a_dc", "the request carries no DC (base64, at most 1 MiB)");
  }
  let raw: Uint8Array;
  try {
    raw = Uint8Array.fromBase64(b64);
  } catch {
    throw new DcApplyError("not_a_dc", "the request's DC is not valid base64");
  }
  let dc: VerifiedDc;
  try {
    dc = await verifyDc(raw, trust, now);
  } catch (e) {
    if (!(e instanceof DcError)) throw e;
    const cert = e.cause instanceof CertificateError ? e.cause.reason : undefined;
    if (cert === "not_issued_by_ca" || cert === "bad_signature") {
      throw new DcApplyError(
        "foreign",
        `the DC is not signed by this mesh's CA: ${e.message}. Sign it with this mesh's CA key`,
      );
    }
    if (cert === "expired") {
      throw new DcApplyError("expired", `the DC has expired: ${e.message}. Sign a new one`);
    }
    throw new DcApplyError("invalid", `the DC is invalid (${e.reason}): ${e.message}`);
  }
  const current = node.dc.current;
  if (!await node.dc.applyVerified(dc)) {
    const same = current !== undefined && !isNewer(current, dc);
    throw new DcApplyError(
      "not_newer",
      same
        ? `the node already runs this DC (signed ${dc.notBefore.toISOString()})`
        : `the DC (signed ${dc.notBefore.toISOString()}) is not newer than the one in force ` +
          `(signed ${current?.notBefore.toISOString()}): sign a new one`,
    );
  }
  return {
    applied: true,
    signed_at: dc.notBefore.toISOString(),
    cert_expires: dc.notAfter.toISOString(),
    content_sha256: dc.contentHash,
    warnings: dc.warnings,
  };
}
