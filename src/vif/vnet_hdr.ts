/**
 * The 10-byte `struct virtio_net_hdr` (little-endian) that precedes each packet on a TUN
 * opened with IFF_VNET_HDR: flags u8 @0, gso_type u8 @1, hdr_len u16 @2, gso_size u16 @4,
 * csum_start u16 @6, csum_offset u16 @8.
 * @module
 */
import { VNET_HDR_LEN } from "../net/mod.ts";

export { VNET_HDR_LEN };

/** flags: the checksum at csum_start + csum_offset must still be completed. */
export const VNET_HDR_F_NEEDS_CSUM = 1;
/** flags: the checksum was already verified. */
export const VNET_HDR_F_DATA_VALID = 2;
/** gso_type: an ordinary packet. */
export const VNET_HDR_GSO_NONE = 0;
/** gso_type: TCP over IPv4 super-packet. */
export const VNET_HDR_GSO_TCPV4 = 1;
/** gso_type: UDP fragmentation offload. */
export const VNET_HDR_GSO_UDP = 3;
/** gso_type: TCP over IPv6 super-packet. */
export const VNET_HDR_GSO_TCPV6 = 4;
/** gso_type: UDP segmentation (USO). */
export const VNET_HDR_GSO_UDP_L4 = 5;
/** gso_type bit: the TCP flow uses ECN (CWR only on the first segment). */
export const VNET_HDR_GSO_ECN = 0x80;

/** The decoded header. */
export interface VnetHdr {
  /** {@link VNET_HDR_F_NEEDS_CSUM} / {@link VNET_HDR_F_DATA_VALID} bits. */
  flags: number;
  /** One of the VNET_HDR_GSO_* values, possibly with {@link VNET_HDR_GSO_ECN}. */
  gsoType: number;
  /** Length of the headers (IP + TCP) of a super-packet; advisory. */
  hdrLen: number;
  /** Payload bytes per segment (the MSS) of a super-packet. */
  gsoSize: number;
  /** Where checksumming starts, from the start of the IP header. */
  csumStart: number;
  /** Where the checksum is stored, from csumStart. */
  csumOffset: number;
}

/**
 * Decodes the header at `buf[off..off+10]`.
 * @throws {RangeError} when fewer than 10 bytes are available.
 */
export function parseVnetHdr(buf: Uint8Array, off = 0): VnetHdr {
  if (off < 0 || buf.length - off < VNET_HDR_LEN) {
    throw new RangeError(`virtio_net_hdr needs ${VNET_HDR_LEN} bytes at offset ${off}`);
  }
  return {
    flags: buf[off],
    gsoType: buf[off + 1],
    hdrLen: buf[off + 2] | (buf[off + 3] << 8),
    gsoSize: buf[off + 4] | (buf[off + 5] << 8),
    csumStart: buf[off + 6] | (buf[off + 7] << 8),
    csumOffset: buf[off + 8] | (buf[off + 9] << 8),
  };
}

/**
 * Encodes a header at `buf[off..off+10]`; missing fields are 0, so `writeVnetHdr(buf, 0)`
 * writes the all-zero header of a plain packet.
 * @throws {RangeError} when fewer than 10 bytes are available.
 */
export function writeVnetHdr(buf: Uint8Array, off = 0, hdr: Partial<VnetHdr> = {}): void {
  if (off < 0 || buf.length - off < VNET_HDR_LEN) {
    throw new RangeError(`virtio_net_hdr needs ${VNET_HDR_LEN} bytes at offset ${off}`);
  }
  const u16 = (at: number, v = 0) => {
    buf[off + at] = v & 0xff;
    buf[off + at + 1] = (v >> 8) & 0xff;
  };
  buf[off] = (hdr.flags ?? 0) & 0xff;
  buf[off + 1] = (hdr.gsoType ?? 0) & 0xff;
  u16(2, hdr.hdrLen);
  u16(4, hdr.gsoSize);
  u16(6, hdr.csumStart);
  u16(8, hdr.csumOffset);
}

/** Why {@link checkPeerVnetHdr} refused a header (0: it did not). */
export const enum VnetFault {
  None = 0,
  /** flags other than NEEDS_CSUM / DATA_VALID. */
  Flags,
  /** gso_type other than none or TCPv6 (ECN only with TCPv6). */
  GsoType,
  /** hdr_len longer than the packet. */
  HdrLen,
  /** gso_size zero for a super-packet, non-zero for a plain one, or too small (too many segments). */
  GsoSize,
  /** csum_start/csum_offset outside the packet, set without NEEDS_CSUM, or not TCP's for TCPv6. */
  Checksum,
  /** A TCPv6 super-packet whose IPv6/TCP headers do not fit the packet or are not TCP. */
  Headers,
}

/** Most segments a peer's super-packet may ask the kernel to cut (64 KiB at an MSS of 1024). */
export const MAX_PEER_GSO_SEGMENTS = 64;

const IPV6_HDR = 40;
const TCP_CSUM_OFFSET = 16;
const KNOWN_FLAGS = VNET_HDR_F_NEEDS_CSUM | VNET_HDR_F_DATA_VALID;

/**
 * Checks a virtio_net_hdr that arrived from a peer before it goes to our TUN (the kernel
 * acts on it: segmentation, checksum offsets). `buf[off..off+len)` is the header then an IPv6
 * packet whose fixed header the caller has already checked (version, payload length equal to
 * the rest of the buffer). Accepts exactly what our senders produce — a TUN with TSO6 (the
 * kernel's headers), `segmentSuperPacket`'s and the forwarder's all-zero headers:
 * - flags: only NEEDS_CSUM and DATA_VALID;
 * - gso_type: none, or TCPv6 (optionally with the ECN bit) with TCP right after the IPv6
 *   header, a TCP header inside the packet, NEEDS_CSUM set, and gso_size ≥ 1 cutting the
 *   payload into at most {@link MAX_PEER_GSO_SEGMENTS} segments; none with gso_size 0;
 * - hdr_len at most the packet;
 * - with NEEDS_CSUM: csum_start past the IPv6 header and the 2-byte checksum field at
 *   csum_start + csum_offset inside the packet (TCP's, 40 + 16, for TCPv6); without it both
 *   are zero.
 * Never throws; returns the first fault found.
 */
export function checkPeerVnetHdr(buf: Uint8Array, off: number, len: number): VnetFault {
  const ipLen = len - VNET_HDR_LEN;
  const ip = off + VNET_HDR_LEN;
  const flags = buf[off];
  const gso = buf[off + 1];
  const hdrLen = buf[off + 2] | (buf[off + 3] << 8);
  const gsoSize = buf[off + 4] | (buf[off + 5] << 8);
  const csumStart = buf[off + 6] | (buf[off + 7] << 8);
  const csumOffset = buf[off + 8] | (buf[off + 9] << 8);
  if ((flags & ~KNOWN_FLAGS) !== 0) return VnetFault.Flags;
  if (hdrLen > ipLen) return VnetFault.HdrLen;
  const needsCsum = (flags & VNET_HDR_F_NEEDS_CSUM) !== 0;
  if (needsCsum) {
    if (csumStart < IPV6_HDR || csumStart + csumOffset + 2 > ipLen) return VnetFault.Checksum;
  } else if (csumStart !== 0 || csumOffset !== 0) {
    return VnetFault.Checksum;
  }
  if (gso === VNET_HDR_GSO_NONE) return gsoSize === 0 ? VnetFault.None : VnetFault.GsoSize;
  if ((gso & ~VNET_HDR_GSO_ECN) !== VNET_HDR_GSO_TCPV6) return VnetFault.GsoType;
  if (buf[ip + 6] !== 6 || ipLen < IPV6_HDR + 20) return VnetFault.Headers;
  const thl = (buf[ip + IPV6_HDR + 12] >> 4) * 4;
  if (thl < 20 || IPV6_HDR + thl > ipLen) return VnetFault.Headers;
  if (!needsCsum || csumStart !== IPV6_HDR || csumOffset !== TCP_CSUM_OFFSET) {
    return VnetFault.Checksum;
  }
  const payload = ipLen - IPV6_HDR - thl;
  if (gsoSize === 0 || Math.ceil(payload / gsoSize) > MAX_PEER_GSO_SEGMENTS) {
    return VnetFault.GsoSize;
  }
  return VnetFault.None;
}
