/**
 * A peer's virtio_net_hdr reaches the kernel through our TUN write: every header the
 * forwarder would not have made from what our senders produce is dropped and counted.
 */
import { assertEquals } from "../../tests/_harness/assert.ts";
import { superPacket } from "../../tests/_harness/packets.ts";
import {
  addressInPrefix,
  type PacketBatch,
  packetBatchOf,
  parseIpv6,
  parsePrefix,
} from "../net/mod.ts";
import { newVifStats, type Vif, writeVnetHdr } from "../vif/mod.ts";
import { Forwarder } from "./forwarder.ts";

class CaptureVif implements Vif {
  readonly name = "tun0";
  readonly mtu = 1420;
  readonly vnetHdr = true;
  readonly batchSize = 64;
  readonly stats = newVifStats();
  readonly written: Uint8Array[] = [];
  read(): Promise<number> {
    return Promise.resolve(0);
  }
  write(b: PacketBatch): number {
    for (let i = 0; i < b.count; i++) this.written.push(b.bufs[i].slice(0, b.sizes[i]));
    return b.count;
  }
  maxPacketSize(): number {
    return 65535 + 10;
  }
  close(): void {}
}

function forwarder() {
  const vif = new CaptureVif();
  const fwd = new Forwarder({ routerAddress: parseIpv6("fd00:1::1") });
  fwd.setSourceCheck({ check: () => "ok" }); // these tests are about vnet headers, not uRPF
  fwd.attachVif("tun0", vif);
  const local = parsePrefix("fd00::/16");
  fwd.setFib({
    lookup: (buf, off) =>
      addressInPrefix(buf, off, local) ? { kind: "local", target: "tun0" } : undefined,
  });
  return { vif, fwd };
}

/** A plain UDP packet behind a vnet header (fd00::1 → fd00::a:b), header fields from `hdr`. */
function plain(hdr: Parameters<typeof writeVnetHdr>[2] = {}, payload = 100): Uint8Array {
  const p = new Uint8Array(10 + 40 + payload);
  writeVnetHdr(p, 0, hdr);
  p[10] = 0x60;
  p[14] = payload >> 8;
  p[15] = payload & 0xff;
  p[16] = 17;
  p[17] = 64;
  p.set(parseIpv6("fd00::1"), 18);
  p.set(parseIpv6("fd00::a:b"), 34);
  return p;
}

const sp = () => superPacket(new Uint8Array(3000).fill(7), { gsoSize: 1000, thl: 20 });

/** Sets a little-endian u16 field of the vnet header. */
function set16(p: Uint8Array, at: number, v: number): Uint8Array {
  p[at] = v & 0xff;
  p[at + 1] = v >> 8;
  return p;
}

Deno.test("Forwarder passes peers' well-formed vnet headers to a vnet vif", () => {
  const { vif, fwd } = forwarder();
  const good = [
    sp(), // a TCPv6 super-packet as a TUN with TSO6 reads it
    superPacket(new Uint8Array(3000), { gsoSize: 1000, thl: 20, gsoType: 4 | 0x80 }), // ECN
    plain(), // the all-zero header of a plain packet
    plain({ flags: 1, csumStart: 40, csumOffset: 6 }), // UDP with a partial checksum
    plain({ flags: 2 }), // checksum already verified
  ];
  fwd.fromPeer("b", packetBatchOf(good, true));
  assertEquals(fwd.stats.dropBadVnetHdr, 0);
  assertEquals(vif.written.length, good.length);
});

Deno.test("Forwarder drops a peer's vnet packet with a header the kernel must not see, and counts it", () => {
  const bad: [string, Uint8Array][] = [
    [
      "unknown flags",
      (() => {
        const p = sp();
        p[0] = 1 | 4;
        return p;
      })(),
    ],
    [
      "gso_type TCPv4",
      (() => {
        const p = sp();
        p[1] = 1;
        return p;
      })(),
    ],
    [
      "gso_type UDP",
      (() => {
        const p = sp();
        p[1] = 3;
        return p;
      })(),
    ],
    [
      "gso_type UDP_L4",
      (() => {
        const p = sp();
        p[1] = 5;
        return p;
      })(),
    ],
    ["ECN bit without GSO", plain({ gsoType: 0x80 })],
    ["hdr_len past the packet", set16(sp(), 2, 40 + 20 + 3000 + 1)],
    ["gso_size 0 on a super-packet", set16(sp(), 4, 0)],
    ["gso_size cutting 3000 bytes into 3000 segments", set16(sp(), 4, 1)],
    ["gso_size on a plain packet", plain({ gsoSize: 1000 })],
    ["csum_start inside the IPv6 header", set16(sp(), 6, 8)],
    ["csum_start past the packet", set16(plain({ flags: 1, csumOffset: 6 }), 6, 60000)],
    ["checksum field past the packet", plain({ flags: 1, csumStart: 40, csumOffset: 99 })],
    ["csum fields without NEEDS_CSUM", plain({ csumStart: 40, csumOffset: 6 })],
    ["TCPv6 checksum not at TCP's field", set16(sp(), 8, 6)],
    [
      "TCPv6 without NEEDS_CSUM",
      (() => {
        const p = sp();
        p[0] = 0;
        return p;
      })(),
    ],
    [
      "TCPv6 over a UDP packet",
      plain({ flags: 1, gsoType: 4, gsoSize: 50, csumStart: 40, csumOffset: 16 }),
    ],
    [
      "TCP header longer than the packet",
      (() => {
        const p = superPacket(new Uint8Array(0), { gsoSize: 1000, thl: 20 });
        p[10 + 40 + 12] = 0xf0; // data offset 60 bytes, packet has 20
        return p;
      })(),
    ],
  ];
  for (const [what, p] of bad) {
    const { vif, fwd } = forwarder();
    fwd.fromPeer("b", packetBatchOf([p], true));
    assertEquals(fwd.stats.dropBadVnetHdr, 1, what);
    assertEquals(vif.written.length, 0, what);
  }
});

Deno.test("Forwarder trusts the vnet headers its own vif read (the kernel made them)", () => {
  const { vif, fwd } = forwarder();
  const p = set16(sp(), 4, 1); // would be refused from a peer
  fwd.fromVif(packetBatchOf([p], true));
  assertEquals(fwd.stats.dropBadVnetHdr, 0);
  assertEquals(vif.written.length, 1);
});
