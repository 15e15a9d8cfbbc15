/**
 * The 10-byte `struct virtio_net_hdr` (little-endian) that precedes each packet on a TUN
 * opened with IFF_VNET_HDR: flags u8 @0, gso_type u8 @1, hdr_len u16 @2, gso_size u16 @4,
 * csum_start u16 @6, csum_offset u16 @8.
 * @module
 */
import { VNET_HDR_LEN } from "../net/packet_batch.ts";

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
