/**
 * Packet builders for tests.
 * @module
 */
import { parseIpv6 } from "../../src/net/ipv6.ts";
import { VNET_HDR_LEN, writeVnetHdr } from "../../src/vif/vnet_hdr.ts";
import type { PacketBatch } from "../../src/net/packet_batch.ts";
import { newVifStats, type Vif, type VifStats } from "../../src/vif/vif.ts";

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

/**
 * A 48-byte IPv6 packet with a UDP header only, hop limit 64, from `src` to `dst` (addresses as
 * text or 16 bytes): enough for the forwarder's checks, lookups and uRPF.
 */
export function udpHeaderPacket(src: string | Uint8Array, dst: string | Uint8Array): Uint8Array {
  const p = new Uint8Array(48);
  p[0] = 0x60;
  p[5] = 8;
  p[6] = 17;
  p[7] = 64;
  p.set(typeof src === "string" ? parseIpv6(src) : src, 8);
  p.set(typeof dst === "string" ? parseIpv6(dst) : dst, 24);
  return p;
}

/** A vif that only counts what the forwarder writes to it. */
export class CountingVif implements Vif {
  readonly stats: VifStats = newVifStats();
  readonly vnetHdr = false;
  readonly mtu = 1420;
  readonly batchSize = 64;
  /** Packets written so far. */
  written = 0;
  constructor(readonly name: string) {}
  read(): Promise<number> {
    return Promise.resolve(0);
  }
  write(b: PacketBatch): number {
    this.written += b.count;
    return b.count;
  }
  maxPacketSize(): number {
    return this.mtu;
  }
  close(): void {}
}
