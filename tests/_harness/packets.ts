/**
 * Packet builders for tests.
 * @module
 */
import { parseIpv6 } from "../../src/net/ipv6.ts";
import { VNET_HDR_LEN, writeVnetHdr } from "../../src/vif/vnet_hdr.ts";

/** Source of {@link superPacket}. */
export const SRC: Uint8Array = parseIpv6("fd00::1");
/** Destination of {@link superPacket}. */
export const DST: Uint8Array = parseIpv6("fd00::a:b");

/** vnet header + IPv6 + TCP (thl bytes, options zero) + payload, checksum left partial. */
export function superPacket(payload: Uint8Array, opts: {
  gsoType?: number;
  gsoSize?: number;
  thl?: number;
  flags?: number;
  seq?: number;
}): Uint8Array {
  const thl = opts.thl ?? 32;
  const p = new Uint8Array(VNET_HDR_LEN + 40 + thl + payload.length);
  writeVnetHdr(p, 0, {
    flags: 1,
    gsoType: opts.gsoType ?? 4,
    hdrLen: 40 + thl,
    gsoSize: opts.gsoSize ?? 1000,
    csumStart: 40,
    csumOffset: 16,
  });
  const ip = VNET_HDR_LEN;
  p[ip] = 0x60;
  const plen = thl + payload.length;
  p[ip + 4] = (plen >> 8) & 0xff;
  p[ip + 5] = plen & 0xff;
  p[ip + 6] = 6;
  p[ip + 7] = 64;
  p.set(SRC, ip + 8);
  p.set(DST, ip + 24);
  const t = ip + 40;
  p[t] = 0x1f;
  p[t + 1] = 0x90; // port 8080
  p[t + 2] = 0xc0;
  p[t + 3] = 0x01;
  new DataView(p.buffer).setUint32(t + 4, opts.seq ?? 0xfffff000);
  p[t + 12] = (thl / 4) << 4;
  p[t + 13] = opts.flags ?? 0x10;
  p[t + 14] = 0xff;
  p.set(payload, t + thl);
  return p;
}
