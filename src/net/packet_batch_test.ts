import { assertEquals } from "../../tests/_harness/assert.ts";
import { newPacketBatch } from "./packet_batch.ts";

Deno.test("newPacketBatch with bufSize gives every slot its own, disjoint buffer of that size", () => {
  const b = newPacketBatch(4, 100);
  assertEquals(b.bufs.map((x) => x.length), [100, 100, 100, 100]);
  b.bufs[1].fill(0xff);
  b.bufs[2][0] = 7;
  assertEquals([b.bufs[0][99], b.bufs[1][0], b.bufs[1][99], b.bufs[2][0], b.bufs[2][1]], [
    0,
    0xff,
    0xff,
    7,
    0,
  ]);
  assertEquals(b.bufs[3].every((x) => x === 0), true);
  assertEquals([b.sizes, b.vnet, b.count], [[0, 0, 0, 0], [false, false, false, false], 0]);
});

Deno.test("newPacketBatch without bufSize leaves the slots empty", () => {
  const b = newPacketBatch(3);
  assertEquals(b.bufs.map((x) => x.length), [0, 0, 0]);
});
