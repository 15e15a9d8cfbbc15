/**
 * The DC offer: what a node tells each peer about the DC it runs, so that the side with the
 * newer one sends it. 40 bytes: the signing time in ms since the epoch (u64, big-endian) and
 * the SHA-256 of the content (32 bytes): exactly what {@link compareDc} orders by.
 * @module
 */
import { DcError } from "./errors.ts";
import type { DcRank } from "./order.ts";

/** Length of an offer. */
export const DC_OFFER_LEN = 40;

/** Latest signing time an offer may carry (the largest valid JS Date, in ms). */
const MAX_TIME_MS = 8.64e15;

/** A decoded offer. */
export interface DcOffer {
  /** Signing time, ms since the epoch. */
  readonly notBefore: number;
  /** Lower-case hex SHA-256 of the content. */
  readonly contentHash: string;
}

/** The offer of a node that has no DC: time 0, hash zero (older than any DC). */
export const NO_DC_OFFER: DcOffer = { notBefore: 0, contentHash: "00".repeat(32) };

/**
 * Encodes the offer for a DC (or {@link NO_DC_OFFER}).
 * @throws {RangeError} when the hash is not 64 hex digits or the time is out of range.
 */
export function encodeDcOffer(dc: DcRank): Uint8Array {
  const t = typeof dc.notBefore === "number" ? dc.notBefore : dc.notBefore.getTime();
  if (!Number.isInteger(t) || t < 0 || t > MAX_TIME_MS) {
    throw new RangeError(`DC offer time ${t} is out of range`);
  }
  if (!/^[0-9a-fA-F]{64}$/.test(dc.contentHash)) {
    throw new RangeError("DC offer hash must be 64 hex digits");
  }
  const out = new Uint8Array(DC_OFFER_LEN);
  new DataView(out.buffer).setBigUint64(0, BigInt(t));
  out.set(Uint8Array.fromHex(dc.contentHash.toLowerCase()), 8);
  return out;
}

/**
 * Decodes an offer from a peer.
 * @throws {DcError} "malformed" when it is not 40 bytes or the time is out of range.
 */
export function decodeDcOffer(payload: Uint8Array): DcOffer {
  if (payload.length !== DC_OFFER_LEN) {
    throw new DcError(
      "malformed",
      `DC offer must be ${DC_OFFER_LEN} bytes, got ${payload.length}`,
    );
  }
  const t = new DataView(payload.buffer, payload.byteOffset, 8).getBigUint64(0);
  if (t > BigInt(MAX_TIME_MS)) throw new DcError("malformed", "DC offer time is out of range");
  return { notBefore: Number(t), contentHash: payload.subarray(8).toHex() };
}
