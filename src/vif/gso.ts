/**
 * Software GSO for packets read from a TUN with IFF_VNET_HDR: split a TCPv6 super-packet into
 * MSS-sized packets, and complete a partial checksum, so that the node can hand them to a vif
 * without the vnet header or over a path with a smaller MTU.
 *
 * Nothing here allocates: segments are written into caller buffers.
 * @module
 */
import { fillL4Checksum, foldSum, onesSum } from "./checksum.ts";
import {
  VNET_HDR_F_NEEDS_CSUM,
  VNET_HDR_GSO_ECN,
  VNET_HDR_GSO_NONE,
  VNET_HDR_GSO_TCPV6,
  VNET_HDR_LEN,
} from "./vnet_hdr.ts";

/** {@link segmentSuperPacket} result: the packet is truncated or its headers are inconsistent. */
export const SEGMENT_MALFORMED = -1;
/** {@link segmentSuperPacket} result: a gso_type or header chain this segmenter does not handle. */
export const SEGMENT_UNSUPPORTED = -2;
/** {@link segmentSuperPacket} result: too few output buffers, or one is too small. */
export const SEGMENT_NO_ROOM = -3;

const IPV6_HDR = 40;
const PROTO_TCP = 6;
const TCP_FIN = 0x01;
const TCP_PSH = 0x08;
const TCP_CWR = 0x80;

/** Options for {@link segmentSuperPacket}. */
export interface SegmentOptions {
  /** Payload bytes per segment; default the header's gso_size. Use a smaller one for a path
   * with a smaller MTU: `mss = mtu - 40 - tcpHeaderLength`. */
  mss?: number;
  /** Put a zeroed 10-byte virtio_net_hdr in front of every segment (for a vnet vif). */
  outVnetHdr?: boolean;
}

/**
 * Completes the partial checksum of a packet whose header has NEEDS_CSUM set: sums
 * `csum_start..end` (the checksum field already holds the pseudo-header sum) and stores the
 * complement at `csum_start + csum_offset`, then clears the header's flags.
 * `buf[off..off+len)` is the vnet header followed by the packet.
 * @returns true when done or nothing was needed, false when csum_start is inside the IPv6
 *   header or csum_start/offset point outside the packet.
 */
export function completeChecksum(buf: Uint8Array, off: number, len: number): boolean {
  if (len < VNET_HDR_LEN || off < 0 || off + len > buf.length) return false;
  if ((buf[off] & VNET_HDR_F_NEEDS_CSUM) === 0) return true;
  const p = off + VNET_HDR_LEN;
  const plen = len - VNET_HDR_LEN;
  const start = buf[off + 6] | (buf[off + 7] << 8);
  const field = start + (buf[off + 8] | (buf[off + 9] << 8));
  // The checksummed range starts after the IPv6 header: a start inside it (a hostile header)
  // would write the checksum over the address or version fields.
  if (start < IPV6_HDR || field + 2 > plen) return false;
  const c = ~foldSum(onesSum(buf, p + start, p + plen)) & 0xffff;
  const v = c === 0 ? 0xffff : c;
  buf[p + field] = v >> 8;
  buf[p + field + 1] = v & 0xff;
  buf[off] &= ~VNET_HDR_F_NEEDS_CSUM;
  return true;
}

/**
 * Turns one packet read from a vnet TUN (`pkt[off..off+len)`: virtio_net_hdr then IPv6) into
 * ordinary packets with complete checksums. A TCPv6 super-packet (gso_type 4, optionally with
 * the ECN bit) is split into MSS-sized segments: each gets the IPv6 and TCP headers with the
 * right payload length and sequence number, FIN and PSH only on the last, CWR only on the
 * first, and a full TCP checksum. A non-GSO packet is copied once, its checksum completed when
 * NEEDS_CSUM is set. Segment i is written to `outBufs[i][outOffset..outOffset+outSizes[i])`.
 *
 * Only IPv6 with TCP directly after the fixed header is segmented (the kernel's TSO output);
 * anything else is reported, never thrown, as this runs on the packet path.
 * @returns the number of segments (≥ 1), or {@link SEGMENT_MALFORMED},
 *   {@link SEGMENT_UNSUPPORTED} or {@link SEGMENT_NO_ROOM}.
 */
export function segmentSuperPacket(
  pkt: Uint8Array,
  off: number,
  len: number,
  outBufs: Uint8Array[],
  outSizes: number[],
  outOffset: number,
  opts: SegmentOptions = {},
): number {
  if (off < 0 || len < VNET_HDR_LEN + IPV6_HDR || off + len > pkt.length) return SEGMENT_MALFORMED;
  const gsoType = pkt[off + 1] & ~VNET_HDR_GSO_ECN;
  const ip = off + VNET_HDR_LEN;
  const ipLen = len - VNET_HDR_LEN;
  if (pkt[ip] >> 4 !== 6) return SEGMENT_MALFORMED;
  const hdrOut = opts.outVnetHdr ? VNET_HDR_LEN : 0;
  if (gsoType === VNET_HDR_GSO_NONE) {
    const out = outBufs[0];
    if (out === undefined || outOffset < 0 || out.length - outOffset < hdrOut + ipLen) {
      return SEGMENT_NO_ROOM;
    }
    out.set(pkt.subarray(off, off + len), outOffset);
    if (!completeChecksum(out, outOffset, len)) return SEGMENT_MALFORMED;
    if (!opts.outVnetHdr) out.copyWithin(outOffset, outOffset + VNET_HDR_LEN, outOffset + len);
    else out.fill(0, outOffset, outOffset + VNET_HDR_LEN);
    outSizes[0] = hdrOut + ipLen;
    return 1;
  }
  if (gsoType !== VNET_HDR_GSO_TCPV6) return SEGMENT_UNSUPPORTED;
  if (pkt[ip + 6] !== PROTO_TCP) return SEGMENT_UNSUPPORTED;
  const tcp = ip + IPV6_HDR;
  if (ipLen < IPV6_HDR + 20) return SEGMENT_MALFORMED;
  const thl = (pkt[tcp + 12] >> 4) * 4;
  if (thl < 20 || IPV6_HDR + thl > ipLen) return SEGMENT_MALFORMED;
  const hdrs = IPV6_HDR + thl;
  const payload = ipLen - hdrs;
  const gsoSize = pkt[off + 4] | (pkt[off + 5] << 8);
  const mss = opts.mss ?? gsoSize;
  if (!Number.isInteger(mss) || mss <= 0) return SEGMENT_MALFORMED;
  const count = payload === 0 ? 1 : Math.ceil(payload / mss);
  if (count > outBufs.length || outOffset < 0) return SEGMENT_NO_ROOM;
  for (let i = 0; i < count; i++) {
    const chunk = i === count - 1 ? payload - i * mss : mss;
    if (outBufs[i].length - outOffset < hdrOut + hdrs + chunk) return SEGMENT_NO_ROOM;
  }
  const seq0 =
    ((pkt[tcp + 4] << 24) | (pkt[tcp + 5] << 16) | (pkt[tcp + 6] << 8) | pkt[tcp + 7]) >>>
    0;
  const flags0 = pkt[tcp + 13];
  for (let i = 0; i < count; i++) {
    const out = outBufs[i];
    const chunk = i === count - 1 ? payload - i * mss : mss;
    let o = outOffset;
    if (hdrOut) {
      out.fill(0, o, o + VNET_HDR_LEN);
      o += VNET_HDR_LEN;
    }
    out.set(pkt.subarray(ip, ip + hdrs), o);
    const from = ip + hdrs + i * mss;
    out.set(pkt.subarray(from, from + chunk), o + hdrs);
    const plen = thl + chunk;
    out[o + 4] = plen >> 8;
    out[o + 5] = plen & 0xff;
    const t = o + IPV6_HDR;
    const seq = (seq0 + i * mss) >>> 0;
    out[t + 4] = seq >>> 24;
    out[t + 5] = (seq >>> 16) & 0xff;
    out[t + 6] = (seq >>> 8) & 0xff;
    out[t + 7] = seq & 0xff;
    let f = flags0;
    if (i < count - 1) f &= ~(TCP_FIN | TCP_PSH);
    if (i > 0) f &= ~TCP_CWR;
    out[t + 13] = f;
    fillL4Checksum(out, o, t, t + plen, PROTO_TCP, 16);
    outSizes[i] = hdrOut + hdrs + chunk;
  }
  return count;
}
