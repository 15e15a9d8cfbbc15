/**
 * The UDP channel's datagram format (all integers big-endian):
 *
 * ```
 *  0       1       2       4               8                              16
 *  +-------+-------+-------+---------------+-------------------------------+
 *  | type  | 0     | 0     | receiver idx  | counter (u64)                 |
 *  +-------+-------+-------+---------------+-------------------------------+
 *  | ciphertext (same length as the plaintext) ‖ Poly1305 tag (16 B)       |
 *  +-----------------------------------------------------------------------+
 * ```
 *
 * - type: 1 = data (an IPv6 packet), 2 = vnet data (a 10-byte virtio_net_hdr then the IPv6
 *   packet), 3 = keepalive (1 plaintext byte of flags: bit 0 = "I have heard you recently",
 *   bit 1 = challenge, bit 2 = response; with bit 1 or 2 set, 8 more bytes: the challenge
 *   to echo, or the echo — see channel.ts, "Roaming").
 * - byte 1 and bytes 2–3 are zero in version 1 (a receiver drops datagrams where they are not).
 * - receiver idx: chosen at random by the receiving side during channel setup; one socket
 *   serves many peers and finds the channel (and its key) without trial decryption.
 * - counter: per-direction packet number, the AEAD nonce; the receiver's anti-replay window
 *   works on it. Version 1 keeps it below 2^52 (exact in a JS number).
 * - The whole 16-byte header is the AEAD's additional data: changing any header bit makes
 *   the datagram fail authentication.
 *
 * Overhead: 16 + 16 = 32 bytes per packet, plus 8 (UDP) and 40 (IPv6) or 20 (IPv4) below.
 * @module
 */
import { TAG_BYTES } from "./aead.ts";

/** Header length. */
export const HEADER_BYTES = 16;
/** Per-datagram overhead of the channel (header + tag). */
export const OVERHEAD_BYTES = HEADER_BYTES + TAG_BYTES;
/** Smallest datagram that can authenticate: header + tag (an empty payload). */
export const MIN_DATAGRAM_BYTES = OVERHEAD_BYTES;

/** Type: an IPv6 packet. */
export const TYPE_DATA = 1;
/** Type: a 10-byte virtio_net_hdr then an IPv6 packet. */
export const TYPE_VNET_DATA = 2;
/** Type: keepalive / path probe. */
export const TYPE_KEEPALIVE = 3;

/** Keepalive flag: the sender has received an authenticated datagram recently. */
export const KEEPALIVE_HEARD = 1;
/** Keepalive flag: the body carries a challenge; answer it with {@link KEEPALIVE_RESPONSE}. */
export const KEEPALIVE_CHALLENGE = 2;
/** Keepalive flag: the body echoes a challenge this keepalive answers. */
export const KEEPALIVE_RESPONSE = 4;
/** Bytes of a keepalive challenge (after the flags byte). */
export const CHALLENGE_BYTES = 8;

/** Counters at and above this are never sent and never accepted (2^52). */
export const COUNTER_LIMIT = 2 ** 52;

const TWO32 = 0x1_0000_0000;

/** Writes a header into `out[0..16)`. */
export function writeHeader(
  out: Uint8Array,
  type: number,
  receiver: number,
  counter: number,
): void {
  out[0] = type;
  out[1] = 0;
  out[2] = 0;
  out[3] = 0;
  out[4] = receiver >>> 24;
  out[5] = (receiver >>> 16) & 0xff;
  out[6] = (receiver >>> 8) & 0xff;
  out[7] = receiver & 0xff;
  const hi = Math.floor(counter / TWO32);
  const lo = counter % TWO32;
  out[8] = hi >>> 24;
  out[9] = (hi >>> 16) & 0xff;
  out[10] = (hi >>> 8) & 0xff;
  out[11] = hi & 0xff;
  out[12] = lo >>> 24;
  out[13] = (lo >>> 16) & 0xff;
  out[14] = (lo >>> 8) & 0xff;
  out[15] = lo & 0xff;
}

/**
 * Checks the fixed fields of a received datagram: length, known type, zero reserved bytes.
 * Returns the type, or 0 when the datagram is malformed.
 */
export function checkHeader(d: Uint8Array): number {
  if (d.length < MIN_DATAGRAM_BYTES) return 0;
  const t = d[0];
  if (t < TYPE_DATA || t > TYPE_KEEPALIVE) return 0;
  if (d[1] !== 0 || d[2] !== 0 || d[3] !== 0) return 0;
  return t;
}

/** Reads the receiver index (u32) of a datagram whose header was checked. */
export function readReceiver(d: Uint8Array): number {
  return ((d[4] << 24) | (d[5] << 16) | (d[6] << 8) | d[7]) >>> 0;
}

/**
 * Reads the counter of a datagram whose header was checked; returns -1 when it is at or
 * beyond {@link COUNTER_LIMIT} (never sent by a correct peer).
 */
export function readCounter(d: Uint8Array): number {
  const hi = ((d[8] << 24) | (d[9] << 16) | (d[10] << 8) | d[11]) >>> 0;
  const lo = ((d[12] << 24) | (d[13] << 16) | (d[14] << 8) | d[15]) >>> 0;
  if (hi >= COUNTER_LIMIT / TWO32) return -1;
  return hi * TWO32 + lo;
}
