import { assert, assertEquals } from "../../tests/_harness/assert.ts";
import { foldSum, pseudoHeaderSum, verifyL4Checksum } from "./checksum.ts";
import {
  completeChecksum,
  SEGMENT_MALFORMED,
  SEGMENT_NO_ROOM,
  SEGMENT_UNSUPPORTED,
  segmentSuperPacket,
} from "./gso.ts";
import { superPacket } from "../../tests/_harness/packets.ts";
import { writeVnetHdr } from "./vnet_hdr.ts";

function randomPayload(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(b.subarray(i, Math.min(n, i + 65536)));
  return b;
}

function outBufs(n: number, size = 2048): Uint8Array[] {
  return Array.from({ length: n }, () => new Uint8Array(size));
}

Deno.test("segmentSuperPacket() splits a TCPv6 super-packet into MSS-sized valid segments", () => {
  const payload = randomPayload(4500);
  const pkt = superPacket(payload, { flags: 0x80 | 0x10 | 0x08 | 0x01, gsoSize: 1000 });
  const outs = outBufs(8);
  const sizes = new Array(8).fill(0);
  const n = segmentSuperPacket(pkt, 0, pkt.length, outs, sizes, 4);
  assertEquals(n, 5);
  const got: number[] = [];
  for (let i = 0; i < n; i++) {
    const o = outs[i].subarray(4, 4 + sizes[i]);
    const chunk = i < 4 ? 1000 : 500;
    assertEquals(sizes[i], 40 + 32 + chunk);
    assertEquals((o[4] << 8) | o[5], 32 + chunk, "IPv6 payload length");
    const seq = new DataView(o.buffer, o.byteOffset).getUint32(44);
    assertEquals(seq, (0xfffff000 + i * 1000) >>> 0, "sequence number wraps mod 2^32");
    const flags = o[53];
    assertEquals((flags & 0x01) !== 0, i === n - 1, "FIN only on the last");
    assertEquals((flags & 0x08) !== 0, i === n - 1, "PSH only on the last");
    assertEquals((flags & 0x80) !== 0, i === 0, "CWR only on the first");
    assert((flags & 0x10) !== 0, "ACK on every segment");
    assert(verifyL4Checksum(o, 0, 40, o.length, 6), `segment ${i} checksum`);
    got.push(...o.subarray(72));
  }
  assertEquals(new Uint8Array(got), payload);
});

Deno.test("segmentSuperPacket() honours a smaller MSS and can emit vnet headers", () => {
  const payload = randomPayload(3000);
  const pkt = superPacket(payload, { gsoSize: 1440, thl: 20 });
  const outs = outBufs(8);
  const sizes: number[] = [];
  const n = segmentSuperPacket(pkt, 0, pkt.length, outs, sizes, 0, { mss: 700, outVnetHdr: true });
  assertEquals(n, 5);
  for (let i = 0; i < n; i++) {
    assertEquals(outs[i].subarray(0, 10), new Uint8Array(10));
    assert(verifyL4Checksum(outs[i], 10, 50, sizes[i], 6));
    assert(sizes[i] <= 10 + 40 + 20 + 700);
  }
});

Deno.test("segmentSuperPacket() copies a plain packet, completing its partial checksum", () => {
  const pkt = superPacket(randomPayload(333), { gsoType: 0, gsoSize: 0 });
  // Put the pseudo-header sum (with the real length) in the checksum field, as the kernel does.
  const ps = foldSum(pseudoHeaderSum(pkt, 10, pkt.length - 50, 6));
  pkt[10 + 40 + 16] = ps >> 8;
  pkt[10 + 40 + 17] = ps & 0xff;
  const outs = outBufs(1);
  const sizes: number[] = [];
  assertEquals(segmentSuperPacket(pkt, 0, pkt.length, outs, sizes, 0), 1);
  assertEquals(sizes[0], pkt.length - 10);
  assert(verifyL4Checksum(outs[0], 0, 40, sizes[0], 6));
});

Deno.test("completeChecksum() fills the checksum in place and clears NEEDS_CSUM", () => {
  const pkt = superPacket(randomPayload(101), { gsoType: 0 });
  const ps = foldSum(pseudoHeaderSum(pkt, 10, pkt.length - 50, 6));
  pkt[66] = ps >> 8;
  pkt[67] = ps & 0xff;
  assert(completeChecksum(pkt, 0, pkt.length));
  assertEquals(pkt[0], 0);
  assert(verifyL4Checksum(pkt, 10, 50, pkt.length, 6));
  // csum_offset pointing past the end is refused.
  const bad = superPacket(randomPayload(10), { gsoType: 0 });
  writeVnetHdr(bad, 0, { flags: 1, csumStart: 40, csumOffset: 200 });
  assertEquals(completeChecksum(bad, 0, bad.length), false);
});

Deno.test("segmentSuperPacket() reports hostile or unsupported input without throwing", () => {
  const outs = outBufs(2, 1100);
  const sizes: number[] = [];
  const pkt = superPacket(randomPayload(5000), { gsoSize: 1000 });
  assertEquals(segmentSuperPacket(pkt, 0, pkt.length, outs, sizes, 0), SEGMENT_NO_ROOM);
  assertEquals(segmentSuperPacket(pkt, 0, 30, outs, sizes, 0), SEGMENT_MALFORMED);
  assertEquals(segmentSuperPacket(pkt, 0, pkt.length + 1, outs, sizes, 0), SEGMENT_MALFORMED);
  const udp = superPacket(randomPayload(100), { gsoType: 5 });
  assertEquals(segmentSuperPacket(udp, 0, udp.length, outs, sizes, 0), SEGMENT_UNSUPPORTED);
  const zeroMss = superPacket(randomPayload(100), { gsoSize: 0 });
  assertEquals(segmentSuperPacket(zeroMss, 0, zeroMss.length, outs, sizes, 0), SEGMENT_MALFORMED);
  const badThl = superPacket(randomPayload(10), { thl: 20 });
  badThl[50 + 12] = 0xf0; // 60-byte TCP header in a 30-byte TCP packet
  assertEquals(segmentSuperPacket(badThl, 0, badThl.length, outs, sizes, 0), SEGMENT_MALFORMED);
  for (let i = 0; i < 500; i++) {
    const junk = randomPayload(10 + Math.floor(Math.random() * 300));
    const r = segmentSuperPacket(junk, 0, junk.length, outBufs(4, 512), [], 0);
    assert(r >= 1 || r === SEGMENT_MALFORMED || r === SEGMENT_UNSUPPORTED || r === SEGMENT_NO_ROOM);
  }
});

Deno.test("a NEEDS_CSUM header whose checksum would land in the IPv6 header is refused (found by fuzzing)", () => {
  // A peer's vnet header with csum_start 0, csum_offset 0: completing the checksum wrote it
  // over the IPv6 version byte, and the forwarder wrote the broken packet to a plain vif.
  for (const [csumStart, csumOffset] of [[0, 0], [8, 0], [38, 0], [24, 14]]) {
    const pkt = superPacket(randomPayload(50), { gsoType: 0 });
    writeVnetHdr(pkt, 0, { flags: 1, csumStart, csumOffset });
    const ipHeader = pkt.slice(10, 50);
    assertEquals(completeChecksum(pkt, 0, pkt.length), false, `csum_start ${csumStart}`);
    assertEquals(pkt.slice(10, 50), ipHeader, "the IPv6 header is untouched");
    const out = outBufs(1);
    assertEquals(segmentSuperPacket(pkt, 0, pkt.length, out, [0], 0), SEGMENT_MALFORMED);
  }
});
