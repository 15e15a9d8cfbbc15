/**
 * Fuzz target: IPv6/ICMPv6 packets into the forwarder (`src/dataplane/forwarder.ts`) with a
 * real FIB, two in-memory vifs (plain and vnet) and two peers. The forwarder never throws;
 * what it writes to a vif or hands to a peer is a well-formed IPv6 packet (after the vnet
 * header, if any).
 * @module
 */
import { Forwarder, type NextHop } from "../src/dataplane/forwarder.ts";
import { checkIpv6, PacketFault } from "../src/dataplane/ipv6_packet.ts";
import { parseIpv6 } from "../src/net/ipv6.ts";
import { parsePrefix } from "../src/net/prefix.ts";
import { Fib } from "../src/fib/fib.ts";
import { type PacketBatch, packetBatchOf } from "../src/net/packet_batch.ts";
import { newVifStats, type Vif, VNET_HDR_LEN } from "../src/vif/vif.ts";
import { superPacket } from "../tests/_harness/packets.ts";
import type { Rng, Seed } from "./mutator.ts";
import { ContractViolation, type FuzzTarget } from "./target.ts";

function checkOut(pkt: Uint8Array, vnet: boolean, where: string): void {
  const ip = vnet ? VNET_HDR_LEN : 0;
  if (pkt.length < ip || checkIpv6(pkt, ip, pkt.length - ip) !== PacketFault.None) {
    throw new ContractViolation(`${where}: the forwarder emitted a malformed IPv6 packet`);
  }
}

class CheckVif implements Vif {
  readonly stats = newVifStats();
  readonly mtu = 1420;
  readonly batchSize = 64;
  constructor(readonly name: string, readonly vnetHdr: boolean) {}
  read(): Promise<number> {
    return Promise.resolve(0);
  }
  write(batch: PacketBatch): number {
    for (let i = 0; i < batch.count; i++) {
      if (batch.vnet[i] !== this.vnetHdr) {
        throw new ContractViolation(`vif ${this.name}: a packet in the wrong framing`);
      }
      checkOut(batch.bufs[i].subarray(0, batch.sizes[i]), this.vnetHdr, `vif ${this.name}`);
    }
    return batch.count;
  }
  maxPacketSize(): number {
    return 1420;
  }
  close(): void {}
}

function packet(dst: string, o: { hop?: number; next?: number; payload?: Uint8Array } = {}) {
  const payload = o.payload ?? new Uint8Array(8).fill(0xab);
  const p = new Uint8Array(40 + payload.length);
  p[0] = 0x60;
  p[4] = payload.length >> 8;
  p[5] = payload.length & 0xff;
  p[6] = o.next ?? 17;
  p[7] = o.hop ?? 64;
  p.set(parseIpv6("fd00:1::5"), 8);
  p.set(parseIpv6(dst), 24);
  p.set(payload, 40);
  return p;
}

let fwd: Forwarder;
let seeds: Seed[] = [];
let clock = 0;

/**
 * Input layout: byte 0 bit 0 = vnet header present, bit 1 = from a peer, bit 2 = from peer p2
 * (not a feasible next hop for any source) instead of p1; then the packet.
 */
const mode = (m: number, p: Uint8Array) => ({ bytes: Uint8Array.of(m, ...p) });

/** The forwarder target. */
export const forwarderTarget: FuzzTarget = {
  name: "forwarder",
  description: "IPv6/ICMPv6 packets into Forwarder.fromVif/fromPeer with a FIB (src/dataplane)",
  setup() {
    fwd = new Forwarder({ routerAddress: parseIpv6("fd00:1::1"), clock: { now: () => clock } });
    fwd.attachVif("plain", new CheckVif("plain", false));
    fwd.attachVif("vnet", new CheckVif("vnet", true));
    for (const id of ["p1", "p2"]) {
      fwd.attachPeer(id, {
        sendPacket(pkt, vnet) {
          checkOut(pkt, vnet, `peer ${id}`);
          return id === "p1";
        },
        flush() {},
      });
    }
    const fib = new Fib<NextHop>();
    fib.set(parsePrefix("fd00:1::/48"), { kind: "local", target: "plain" });
    fib.set(parsePrefix("fd00::/64"), { kind: "local", target: "plain" });
    fib.set(parsePrefix("fd00:3::/48"), { kind: "local", target: "vnet" });
    fib.set(parsePrefix("fd00:2::/48"), { kind: "peer", id: "p1" });
    fib.set(parsePrefix("fd00:5::/48"), { kind: "peer", id: "p2" });
    fib.set(parsePrefix("fd00:4::/48"), { kind: "peer", id: "gone" });
    fwd.setFib(fib);
    // uRPF: sources in fd00:1::/48 are our own; p1 may send from anywhere else, p2 not.
    fwd.setSourceCheck({
      check: (buf, off, peer) =>
        buf[off] === 0xfd && buf[off + 1] === 0 && buf[off + 2] === 0 && buf[off + 3] === 1
          ? "own"
          : peer === "p1"
          ? "ok"
          : "unfeasible",
    });
    const echo = new Uint8Array(16);
    echo[0] = 128; // ICMPv6 echo request
    const sp = superPacket(new Uint8Array(3000).fill(7), {});
    const spTo = (dst: string) => {
      const s = sp.slice();
      s.set(parseIpv6(dst), VNET_HDR_LEN + 24);
      return s;
    };
    seeds = [
      mode(0, packet("fd00:1::7")),
      mode(2, packet("fd00:2::7")),
      mode(6, packet("fd00:1::7")), // from p2: refused by the source check
      mode(0, packet("fd00:3::7", { next: 58, payload: echo })),
      mode(2, packet("fd00:9::1")), // no route: ICMPv6 error back to fd00:1::5
      mode(0, packet("fd00:1::7", { hop: 1 })), // Time Exceeded
      mode(0, packet("fd00:4::1", { next: 58, payload: echo })),
      mode(1, spTo("fd00:1::9")), // super-packet split for a plain vif
      mode(3, spTo("fd00:3::9")),
      mode(3, spTo("fd00:2::9")),
      mode(1, superPacket(new Uint8Array(100), { gsoType: 0 })),
    ];
    return Promise.resolve();
  },
  seeds: () => seeds,
  run(input: Uint8Array, rng: Rng) {
    if (input.length === 0) return;
    clock += rng.below(100); // lets the ICMP rate limiter refill now and then
    const vnet = (input[0] & 1) === 1;
    const pkt = input.slice(1);
    const batch = packetBatchOf([pkt], vnet);
    if (input[0] & 2) fwd.fromPeer(input[0] & 4 ? "p2" : "p1", batch);
    else fwd.fromVif(batch);
  },
};
