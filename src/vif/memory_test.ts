import { assert, assertEquals, assertRejects } from "../../tests/_harness/assert.ts";
import { newPacketBatch, packetBatchOf } from "../net/mod.ts";
import { DummyVif } from "./dummy.ts";
import { MemoryVif, memoryVifPair } from "./memory.ts";

function ipv6Packet(len: number, tag: number): Uint8Array {
  const p = new Uint8Array(len);
  p[0] = 0x60;
  p[len - 1] = tag;
  return p;
}

Deno.test("MemoryVif.read() returns injected packets in batches and drops non-IPv6", async () => {
  const vif = new MemoryVif({ name: "m" });
  assert(vif.inject(ipv6Packet(60, 1)));
  assert(vif.inject(new Uint8Array([0x45, 0, 0, 20])));
  assert(vif.inject(ipv6Packet(80, 2)));
  const batch = newPacketBatch(2, 1600);
  assertEquals(await vif.read(batch), 2);
  assertEquals(batch.count, 2);
  assertEquals(batch.sizes, [60, 80]);
  assertEquals(batch.vnet, [false, false]);
  assertEquals(batch.bufs[1][79], 2);
  assertEquals(vif.stats.rxDropNotIpv6, 1);
  assertEquals(vif.stats.rxPackets, 2);
});

Deno.test("MemoryVif collects written packets and a pending read ends on close", async () => {
  const vif = new MemoryVif();
  const out = packetBatchOf([ipv6Packet(50, 9)]);
  assertEquals(vif.write(out), 1);
  assertEquals((await vif.nextWritten()).length, 50);
  const pending = vif.read(newPacketBatch(1, 1600));
  vif.close();
  assertEquals(await pending, 0);
  assertEquals(vif.write(out), 0);
  assertEquals(vif.stats.txDropError, 1);
  await assertRejects(() => vif.nextWritten(10), Error, "closed");
});

Deno.test("MemoryVif bounds its queues", async () => {
  const vif = new MemoryVif({ queueLimit: 2 });
  assert(vif.inject(ipv6Packet(40, 0)) && vif.inject(ipv6Packet(40, 0)));
  assertEquals(vif.inject(ipv6Packet(40, 0)), false);
  const p = ipv6Packet(40, 0);
  assertEquals(vif.write(packetBatchOf([p, p, p])), 2);
  assertEquals(vif.stats.txDropFull, 1);
  await assertRejects(() => new MemoryVif().nextWritten(20), Error, "within 20 ms");
});

Deno.test("memoryVifPair() delivers what one side writes to the other side's read", async () => {
  const [a, b] = memoryVifPair({ name: "p" });
  const p = ipv6Packet(90, 7);
  assertEquals(a.write(packetBatchOf([p])), 1);
  const batch = newPacketBatch(1, 1600);
  assertEquals(await b.read(batch), 1);
  assertEquals(batch.bufs[0].subarray(0, 90), p);
  assertEquals([a.name, b.name], ["pa", "pb"]);
});

Deno.test("DummyVif discards writes and its read resolves 0 only on close", async () => {
  const vif = new DummyVif("d");
  assertEquals(vif.write(packetBatchOf([new Uint8Array(64)])), 1);
  assertEquals(vif.stats.txPackets, 1);
  let done = false;
  const r = vif.read(newPacketBatch(1, 1500)).then((n) => (done = true, n));
  await new Promise((res) => setTimeout(res, 20));
  assertEquals(done, false);
  vif.close();
  assertEquals(await r, 0);
});
