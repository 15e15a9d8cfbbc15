/**
 * ICMPv6 error messages the router sends (RFC 4443): Destination Unreachable (no route),
 * Time Exceeded (hop limit) and Packet Too Big. Built into a caller-owned buffer.
 * @module
 */
import {
  IPV6_HEADER_LEN,
  isMulticast,
  isUnspecified,
  OFF_DST,
  OFF_NEXT_HEADER,
  OFF_SRC,
  PROTO_ICMPV6,
} from "./ipv6_packet.ts";

/** ICMPv6 type: Destination Unreachable. */
export const ICMP6_DST_UNREACH = 1;
/** ICMPv6 type: Packet Too Big. */
export const ICMP6_PACKET_TOO_BIG = 2;
/** ICMPv6 type: Time Exceeded. */
export const ICMP6_TIME_EXCEEDED = 3;
/** Destination Unreachable code 0: no route to destination. */
export const CODE_NO_ROUTE = 0;
/** Time Exceeded code 0: hop limit exceeded in transit. */
export const CODE_HOP_LIMIT = 0;

/** An ICMPv6 error message never exceeds the IPv6 minimum MTU (RFC 4443 §2.4(c)). */
export const ICMP_ERROR_MAX = 1280;
const ICMP_HEADER_LEN = 8;

/**
 * Whether an error may be sent about this packet (RFC 4443 §2.4(e)): never about an ICMPv6
 * error message, a packet from the unspecified or a multicast source, or (except Packet Too
 * Big) a packet to a multicast destination.
 */
export function mayAnswerWithError(
  pkt: Uint8Array,
  off: number,
  len: number,
  type: number,
): boolean {
  if (isUnspecified(pkt, off + OFF_SRC) || isMulticast(pkt, off + OFF_SRC)) return false;
  if (type !== ICMP6_PACKET_TOO_BIG && isMulticast(pkt, off + OFF_DST)) return false;
  if (pkt[off + OFF_NEXT_HEADER] === PROTO_ICMPV6) {
    // ICMPv6 directly after the fixed header: error messages have type < 128. Without even a
    // type byte it is malformed: no answer either.
    if (len <= IPV6_HEADER_LEN || pkt[off + IPV6_HEADER_LEN] < 128) return false;
  }
  return true;
}

/**
 * Writes an ICMPv6 error about the invoking packet `pkt[off..off+len]` into `out` (at least
 * {@link ICMP_ERROR_MAX} bytes) and returns the error packet's length. The error goes from
 * `routerAddr` to the invoking packet's source and quotes as much of it as fits in 1280 bytes.
 * @param param the 32-bit field after the checksum (the MTU for Packet Too Big, else 0)
 */
export function buildIcmpError(
  out: Uint8Array,
  routerAddr: Uint8Array,
  type: number,
  code: number,
  param: number,
  pkt: Uint8Array,
  off: number,
  len: number,
): number {
  const quote = Math.min(len, ICMP_ERROR_MAX - IPV6_HEADER_LEN - ICMP_HEADER_LEN);
  const payloadLen = ICMP_HEADER_LEN + quote;
  out[0] = 0x60;
  out[1] = 0;
  out[2] = 0;
  out[3] = 0;
  out[4] = payloadLen >> 8;
  out[5] = payloadLen & 0xff;
  out[6] = PROTO_ICMPV6;
  out[7] = 64;
  out.set(routerAddr.subarray(0, 16), OFF_SRC);
  out.set(pkt.subarray(off + OFF_SRC, off + OFF_SRC + 16), OFF_DST);
  const icmp = IPV6_HEADER_LEN;
  out[icmp] = type;
  out[icmp + 1] = code;
  out[icmp + 2] = 0;
  out[icmp + 3] = 0;
  out[icmp + 4] = (param >>> 24) & 0xff;
  out[icmp + 5] = (param >>> 16) & 0xff;
  out[icmp + 6] = (param >>> 8) & 0xff;
  out[icmp + 7] = param & 0xff;
  out.set(pkt.subarray(off, off + quote), icmp + ICMP_HEADER_LEN);
  const sum = icmpv6Checksum(out, 0, payloadLen);
  out[icmp + 2] = sum >> 8;
  out[icmp + 3] = sum & 0xff;
  return IPV6_HEADER_LEN + payloadLen;
}

/**
 * The ICMPv6 checksum (RFC 4443 §2.3) of the ICMPv6 message following the IPv6 header at
 * `buf[off]`, over the pseudo-header and `icmpLen` bytes. The checksum field must be zero
 * (or the result is the value that verifies to zero: 0 means valid when checking).
 */
export function icmpv6Checksum(buf: Uint8Array, off: number, icmpLen: number): number {
  let sum = 0;
  for (let i = off + OFF_SRC; i < off + OFF_SRC + 32; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  sum += (icmpLen >>> 16) + (icmpLen & 0xffff) + PROTO_ICMPV6;
  const start = off + IPV6_HEADER_LEN;
  const end = start + icmpLen;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  if (i < end) sum += buf[i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return (~sum) & 0xffff;
}
