import { assert, assertEquals } from "../../tests/_harness/assert.ts";
import {
  addressInPrefix,
  type Ipv6Prefix,
  type PacketBatch,
  packetBatchOf,
  parseIpv6,
  parsePrefix,
} from "../net/mod.ts";
import { newVifStats, type Vif } from "../vif/mod.ts";
import { Forwarder, type NextHop, type RouteLookup, type SourceCheck } from "./forwarder.ts";
import { icmpv6Checksum } from "./icmpv6.ts";
import { superPacket } from "../../tests/_harness/packets.ts";

/** A linear-scan FIB: fine for tests. */
function fib(routes: [string, NextHop][]): RouteLookup {
  const parsed: [Ipv6Prefix, NextHop][] = routes.map(([p, h]) => [parsePrefix(p), h]);
  parsed.sort((a, b) => b[0].len - a[0].len);
  return {
    lookup(buf, off) {
      for (const [p, h] of parsed) if (addressInPrefix(buf, off, p)) return h;
      return undefined;
    },
  };
}

class CaptureVif implements Vif {
  readonly stats = newVifStats();
  readonly batchSize = 64;
  readonly written: Uint8Array[] = [];
  writeCalls = 0;
  constructor(readonly name: string, readonly vnetHdr = false, readonly mtu = 1420) {}
  read(): Promise<number> {
    return Promise.resolve(0);
  }
  write(batch: PacketBatch): number {
    this.writeCalls++;
    for (let i = 0; i < batch.count; i++) {
      assertEquals(batch.vnet[i], this.vnetHdr, "packets reach a vif in its framing");
      this.written.push(batch.bufs[i].slice(0, batch.sizes[i]));
    }
    return batch.count;
  }
  maxPacketSize(): number {
    return this.mtu;
  }
  close(): void {}
}

function packet(src: string, dst: string, hopLimit = 64, payload = 8, next = 17): Uint8Array {
  const p = new Uint8Array(40 + payload);
  p[0] = 0x60;
  p[4] = payload >> 8;
  p[5] = payload & 0xff;
  p[6] = next;
  p[7] = hopLimit;
  p.set(parseIpv6(src), 8);
  p.set(parseIpv6(dst), 24);
  return p;
}

/** A batch of one packet: `size` bytes of `buf` (the rest of `buf` is not the packet's). */
function one(buf: Uint8Array, size = buf.length, vnet = false): PacketBatch {
  return { bufs: [buf], sizes: [size], vnet: [vnet], count: 1 };
}

function setup(vnetVif = false) {
  const vif = new CaptureVif("tun0", vnetVif);
  const sent: { pkt: Uint8Array; vnet: boolean }[] = [];
  const flushes = { b: 0 };
  const fwd = new Forwarder({ routerAddress: parseIpv6("fd00:1::1"), clock: { now: () => 0 } });
  fwd.setSourceCheck(ACCEPT_ALL);
  fwd.attachVif("tun0", vif);
  fwd.attachPeer("b", {
    sendPacket(pkt, vnet) {
      sent.push({ pkt: pkt.slice(), vnet });
      return true;
    },
    flush: () => flushes.b++,
  });
  fwd.setFib(fib([
    ["fd00:1::/48", { kind: "local", target: "tun0" }],
    ["fd00:2::/48", { kind: "peer", id: "b" }],
  ]));
  return { vif, sent, fwd, flushes };
}

/** Accepts every source: these tests are about forwarding, not uRPF. */
const ACCEPT_ALL: SourceCheck = { check: () => "ok" };

Deno.test("Forwarder sends a packet for a peer's prefix to that peer with hop limit - 1", () => {
  const { sent, fwd } = setup();
  const p = packet("fd00:1::5", "fd00:2::7", 64);
  fwd.fromVif(one(p));
  assertEquals(sent.length, 1);
  assertEquals(sent[0].pkt[7], 63);
  assertEquals(fwd.stats.toPeer, 1);
});

Deno.test("Forwarder writes packets for local prefixes to the vif in one batch", () => {
  const { vif, fwd } = setup();
  const a = packet("fd00:2::7", "fd00:1::5");
  const b = packet("fd00:2::7", "fd00:1::6");
  fwd.fromPeer("b", packetBatchOf([a, b]));
  assertEquals(vif.written.length, 2);
  assertEquals(vif.writeCalls, 1);
  assertEquals(vif.written[1][7], 63);
});

Deno.test("Forwarder answers a packet with no route with ICMPv6 Destination Unreachable", () => {
  const { vif, fwd } = setup();
  const p = packet("fd00:1::5", "fd00:99::1");
  fwd.fromVif(one(p));
  assertEquals(fwd.stats.dropNoRoute, 1);
  assertEquals(vif.written.length, 1);
  const e = vif.written[0];
  assertEquals(e[6], 58);
  assertEquals(e[40], 1); // type: destination unreachable
  assertEquals(e[41], 0); // code: no route
  assertEquals(e.subarray(8, 24), parseIpv6("fd00:1::1"));
  assertEquals(e.subarray(24, 40), parseIpv6("fd00:1::5"));
  assertEquals(icmpv6Checksum(e, 0, e.length - 40), 0, "checksum verifies");
  assertEquals(e.subarray(48), p, "the invoking packet is quoted");
});

Deno.test("Forwarder drops a packet at hop limit 1 with ICMPv6 Time Exceeded", () => {
  const { vif, sent, fwd } = setup();
  const p = packet("fd00:1::5", "fd00:2::7", 1);
  fwd.fromVif(one(p));
  assertEquals(sent.length, 0);
  assertEquals(fwd.stats.dropHopLimit, 1);
  assertEquals(vif.written[0][40], 3);
});

Deno.test("Forwarder never answers an ICMPv6 error with another error", () => {
  const { vif, fwd } = setup();
  const p = packet("fd00:1::5", "fd00:99::1", 64, 8, 58);
  p[40] = 1; // an ICMPv6 error message
  fwd.fromVif(one(p));
  assertEquals(fwd.stats.dropNoRoute, 1);
  assertEquals(vif.written.length, 0);
});

Deno.test("Forwarder does not answer a bare ICMPv6 header-only packet (no type byte)", () => {
  const { vif, fwd } = setup();
  const p = packet("fd00:1::5", "fd00:99::1", 64, 0, 58);
  const big = new Uint8Array(p.length + 1); // a byte past the packet that must not be read
  big.set(p);
  big[p.length] = 200; // an informational type there would wrongly allow an answer
  fwd.fromVif(one(big, p.length));
  assertEquals(fwd.stats.dropNoRoute, 1);
  assertEquals(vif.written.length, 0);
});

Deno.test("Forwarder rate-limits ICMPv6 errors", () => {
  let t = 0;
  const vif = new CaptureVif("tun0");
  const fwd = new Forwarder({
    routerAddress: parseIpv6("fd00:1::1"),
    icmpRate: 10,
    clock: { now: () => t },
  });
  fwd.setSourceCheck(ACCEPT_ALL);
  fwd.attachVif("tun0", vif);
  fwd.setFib(fib([["fd00:1::/48", { kind: "local", target: "tun0" }]]));
  const p = packet("fd00:1::5", "fd00:99::1");
  for (let i = 0; i < 50; i++) fwd.fromVif(one(p.slice()));
  assertEquals(fwd.stats.icmpSent, 2, "burst of rate/5");
  assertEquals(fwd.stats.icmpRateLimited, 48);
  t += 1000;
  fwd.fromVif(one(p.slice()));
  assertEquals(fwd.stats.icmpSent, 3);
});

Deno.test("Forwarder drops malformed, non-IPv6 and multicast packets and counts them", () => {
  const { vif, sent, fwd } = setup();
  const short = new Uint8Array(20);
  const v4 = packet("fd00:1::5", "fd00:2::7");
  v4[0] = 0x45;
  const badLen = packet("fd00:1::5", "fd00:2::7");
  badLen[5] = 200;
  const mcast = packet("fd00:1::5", "ff02::1");
  const ll = packet("fd00:1::5", "fe80::1");
  const pkts = [short, v4, badLen, mcast, ll];
  fwd.fromVif(packetBatchOf(pkts));
  assertEquals(fwd.stats.dropMalformed, 2);
  assertEquals(fwd.stats.dropNotIpv6, 1);
  assertEquals(fwd.stats.dropScope, 2);
  assertEquals(sent.length + vif.written.length, 0);
});

Deno.test("Forwarder never forwards a link-local, multicast, unspecified or loopback source, nor to ::1", () => {
  const { vif, sent, fwd } = setup();
  // RFC 4291 §2.5.2, 2.5.3, 2.5.6, 2.7: such packets never leave their link or node.
  const pkts = [
    packet("fe80::5", "fd00:2::7"),
    packet("fe80::5", "fd00:1::7"),
    packet("ff02::1", "fd00:2::7"),
    packet("::", "fd00:2::7"),
    packet("::1", "fd00:2::7"),
    packet("fd00:1::5", "::1"),
  ];
  fwd.setFib(fib([
    ["::/0", { kind: "peer", id: "b" }],
    ["fd00:1::/48", { kind: "local", target: "tun0" }],
  ]));
  fwd.fromPeer("b", packetBatchOf(pkts));
  assertEquals(fwd.stats.dropScope, 6);
  assertEquals(fwd.stats.icmpSent, 0);
  assertEquals(sent.length + vif.written.length, 0);
});

Deno.test("Forwarder prepends a zero virtio header for a vnet vif and strips nothing else", () => {
  const vif = new CaptureVif("tun0", true);
  const fwd = new Forwarder({ routerAddress: parseIpv6("fd00:1::1") });
  fwd.setSourceCheck(ACCEPT_ALL);
  fwd.attachVif("tun0", vif);
  fwd.setFib(fib([["fd00:1::/48", { kind: "local", target: "tun0" }]]));
  const p = packet("fd00:2::7", "fd00:1::5");
  fwd.fromPeer("b", packetBatchOf([p]));
  assertEquals(vif.written[0].length, p.length + 10);
  assertEquals(vif.written[0].subarray(0, 10), new Uint8Array(10));
  assertEquals(vif.written[0][10 + 7], 63);
});

Deno.test("Forwarder passes vnet packets to peers whole, header included", () => {
  const { sent, fwd } = setup();
  const p = packet("fd00:1::5", "fd00:2::7");
  const withHdr = new Uint8Array(10 + p.length);
  withHdr[1] = 4;
  withHdr.set(p, 10);
  fwd.fromVif(one(withHdr, withHdr.length, true));
  assertEquals(sent[0].vnet, true);
  assertEquals(sent[0].pkt.length, withHdr.length);
  assert(sent[0].pkt[1] === 4);
});

Deno.test("Forwarder drops packets for a detached peer as dropNoTarget", () => {
  const { fwd } = setup();
  fwd.detachPeer("b");
  const p = packet("fd00:1::5", "fd00:2::7");
  fwd.fromVif(one(p));
  assertEquals(fwd.stats.dropNoTarget, 1);
});

Deno.test("Forwarder splits a vnet super-packet for a plain vif into MSS-sized packets", () => {
  const vif = new CaptureVif("tun0");
  const fwd = new Forwarder({ routerAddress: parseIpv6("fd00:1::1") });
  fwd.setSourceCheck(ACCEPT_ALL);
  fwd.attachVif("tun0", vif);
  fwd.setFib(fib([["fd00::/16", { kind: "local", target: "tun0" }]]));
  const sp = superPacket(new Uint8Array(3000).fill(7), { gsoSize: 1000, thl: 20 });
  fwd.fromPeer("b", packetBatchOf([sp], true));
  assertEquals(vif.written.length, 3);
  for (const seg of vif.written) {
    assertEquals(seg[0] >> 4, 6);
    assertEquals((seg[4] << 8) | seg[5], 20 + 1000);
    assertEquals(seg[7], 63);
  }
  assertEquals(fwd.stats.dropVnet, 0);
});

Deno.test("Forwarder flushes each peer sink it queued to once, at the end of the batch", () => {
  const { fwd, sent, flushes } = setup();
  const pkts = [1, 2, 3].map((i) => packet("fd00:1::5", `fd00:2::${i}`));
  fwd.fromVif(packetBatchOf(pkts));
  assertEquals(sent.length, 3);
  assertEquals(flushes.b, 1);
  fwd.fromVif(packetBatchOf([packet("fd00:2::7", "fd00:1::5")])); // local only
  assertEquals(flushes.b, 1, "no flush for a peer the batch did not reach");
});
