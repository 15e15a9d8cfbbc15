/**
 * IPv6 header fields the forwarder reads and writes, by offset into a packet buffer.
 * No parsing objects: the packet path works on the bytes in place.
 * @module
 */

/** Fixed IPv6 header length. */
export const IPV6_HEADER_LEN = 40;
/** Offset of the payload length (u16, big-endian). */
export const OFF_PAYLOAD_LEN = 4;
/** Offset of the next-header byte. */
export const OFF_NEXT_HEADER = 6;
/** Offset of the hop limit byte. */
export const OFF_HOP_LIMIT = 7;
/** Offset of the source address. */
export const OFF_SRC = 8;
/** Offset of the destination address. */
export const OFF_DST = 24;
/** Next-header value of ICMPv6. */
export const PROTO_ICMPV6 = 58;

/** Why a buffer is not a forwardable IPv6 packet (0 = it is). */
export const enum PacketFault {
  None = 0,
  TooShort = 1,
  NotIpv6 = 2,
  LengthMismatch = 3,
}

/**
 * Checks that `buf[off..off+len]` holds an IPv6 packet: version 6 and a payload length that
 * matches the buffer. A payload length of 0 (jumbogram) is refused: vmesh does not carry them.
 */
export function checkIpv6(buf: Uint8Array, off: number, len: number): PacketFault {
  if (len < IPV6_HEADER_LEN) return PacketFault.TooShort;
  if ((buf[off] >> 4) !== 6) return PacketFault.NotIpv6;
  const payload = (buf[off + OFF_PAYLOAD_LEN] << 8) | buf[off + OFF_PAYLOAD_LEN + 1];
  if (payload + IPV6_HEADER_LEN !== len) return PacketFault.LengthMismatch;
  return PacketFault.None;
}

/** True when the address at `buf[off..off+16]` is multicast (ff00::/8). */
export function isMulticast(buf: Uint8Array, off: number): boolean {
  return buf[off] === 0xff;
}

/** True when the address at `buf[off..off+16]` is the unspecified address (::). */
export function isUnspecified(buf: Uint8Array, off: number): boolean {
  for (let i = 0; i < 16; i++) if (buf[off + i] !== 0) return false;
  return true;
}

/** True when the address is link-local (fe80::/10): never forwarded between links. */
export function isLinkLocal(buf: Uint8Array, off: number): boolean {
  return buf[off] === 0xfe && (buf[off + 1] & 0xc0) === 0x80;
}

/**
 * True when a packet with this address as source or destination must not be forwarded
 * (RFC 4291): multicast, link-local, unspecified or loopback. (Multicast destinations are not
 * carried by the mesh either.)
 */
export function isNeverForwarded(buf: Uint8Array, off: number): boolean {
  const b0 = buf[off];
  if (b0 === 0xff) return true;
  if (b0 === 0xfe) return (buf[off + 1] & 0xc0) === 0x80;
  if (b0 !== 0) return false;
  for (let i = 1; i < 15; i++) if (buf[off + i] !== 0) return false;
  return buf[off + 15] <= 1;
}
