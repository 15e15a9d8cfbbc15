import { assert, assertEquals } from "../../tests/_harness/assert.ts";
import { FrameDecoder, FrameType } from "./frame.ts";
import { SendQueue } from "./send_queue.ts";

function fakeSink() {
  const writes: Uint8Array[] = [];
  let backlog = 0;
  return {
    writes,
    setBacklog: (n: number) => (backlog = n),
    sink: { write: (b: Uint8Array) => writes.push(b), backlog: () => backlog },
  };
}

function decodeAll(chunks: Uint8Array[]): number[] {
  const types: number[] = [];
  const dec = new FrameDecoder();
  for (const c of chunks) {
    dec.push(c, { onFrame: (t) => (types.push(t), true), onChunkEnd: () => {} });
  }
  return types;
}

Deno.test("SendQueue writes a batch's packets once flushed, control frames first", () => {
  const s = fakeSink();
  const q = new SendQueue(s.sink, {}, () => {});
  const pkt = new Uint8Array(1400);
  for (let i = 0; i < 100; i++) assert(q.enqueuePacket(FrameType.IpPacket, pkt));
  assert(q.enqueueControl(FrameType.RouteAnnounce, new Uint8Array(10)));
  assertEquals(s.writes.length, 0);
  q.flush();
  assertEquals(s.writes.length, 2);
  const types = decodeAll(s.writes);
  assertEquals(types.length, 101);
  assertEquals(types[0], FrameType.RouteAnnounce);
});

Deno.test("SendQueue waits for the explicit flush to write packets; a control frame schedules its own", async () => {
  const s = fakeSink();
  const q = new SendQueue(s.sink);
  assert(q.enqueuePacket(FrameType.IpPacket, new Uint8Array(100)));
  await Promise.resolve();
  assertEquals(s.writes.length, 0, "no implicit flush for packets");
  q.flush();
  assertEquals(s.writes.length, 1);
  assert(q.enqueueControl(FrameType.RouteAnnounce, new Uint8Array(10)));
  await Promise.resolve();
  assertEquals(s.writes.length, 2);
});

Deno.test("SendQueue copies payloads: the caller may reuse its buffer at once", () => {
  const s = fakeSink();
  const q = new SendQueue(s.sink, {}, () => {});
  const buf = new Uint8Array([1, 2, 3]);
  q.enqueuePacket(FrameType.IpPacket, buf);
  buf.fill(9);
  q.flush();
  assertEquals([...s.writes[0].subarray(4)], [1, 2, 3]);
});

Deno.test("SendQueue refuses packets over the backlog limit but keeps control frames", () => {
  const s = fakeSink();
  const q = new SendQueue(
    s.sink,
    { maxPacketBacklog: 10_000, maxControlBacklog: 20_000 },
    () => {},
  );
  const pkt = new Uint8Array(1000);
  let accepted = 0;
  while (q.enqueuePacket(FrameType.IpPacket, pkt)) accepted++;
  assertEquals(accepted, 9);
  assert(q.enqueueControl(FrameType.Dc, new Uint8Array(5000)));
  s.setBacklog(15_000); // socket not draining
  assert(!q.enqueuePacket(FrameType.IpPacket, new Uint8Array(1)));
  assert(!q.enqueueControl(FrameType.Dc, new Uint8Array(100)), "control over its limit");
  q.close();
  assert(!q.enqueueControl(FrameType.Dc, new Uint8Array(1)));
});

Deno.test("SendQueue never hands the socket a buffer much larger than the bytes in it", () => {
  const { writes, sink } = fakeSink();
  const q = new SendQueue(sink, { maxPacketBacklog: 64 << 20 }, () => {});
  // One big burst grows the buffer to several MiB ...
  for (let i = 0; i < 40; i++) q.enqueuePacket(FrameType.IpPacket, new Uint8Array(65000));
  q.flush();
  // ... then a flood of small packets, one flush each (one forwarder batch each).
  for (let i = 0; i < 1000; i++) {
    q.enqueuePacket(FrameType.IpPacket, new Uint8Array(64));
    q.flush();
  }
  const small = writes.slice(1);
  assertEquals(small.length, 1000);
  const held = small.reduce((sum, w) => sum + w.buffer.byteLength, 0);
  const bytes = small.reduce((sum, w) => sum + w.length, 0);
  assert(held <= 2 * bytes, `socket holds ${held} bytes of buffers for ${bytes} bytes of frames`);
});

Deno.test("SendQueue refills a written buffer once the sink is done with it, never before", () => {
  const writes: { bytes: Uint8Array; done?: () => void }[] = [];
  const sink = {
    write: (bytes: Uint8Array, done?: () => void) => writes.push({ bytes, done }),
    backlog: () => 0,
  };
  const q = new SendQueue(sink, { maxPacketBacklog: 64 << 20 }, () => {});
  const burst = (fill: number) => {
    for (let i = 0; i < 40; i++) {
      q.enqueuePacket(FrameType.IpPacket, new Uint8Array(1400).fill(fill));
    }
    q.flush();
  };
  burst(1);
  burst(2); // the first buffer is still the sink's: a second one
  assertEquals(writes.length, 2);
  assert(writes[0].done !== undefined, "a whole buffer is handed off with a done callback");
  assert(writes[1].bytes.buffer !== writes[0].bytes.buffer, "in-flight buffer not reused");
  assertEquals(writes[0].bytes[4], 1, "the first write's bytes are untouched");
  writes[0].done!();
  burst(3);
  assertEquals(writes[2].bytes.buffer, writes[0].bytes.buffer, "the written buffer is refilled");
  assertEquals(writes[1].bytes[4], 2, "the second (still in flight) is untouched");
  // Bulk traffic whose writes complete keeps cycling through the same few buffers.
  const seen = new Set<ArrayBufferLike>();
  for (let round = 0; round < 50; round++) {
    burst(round);
    const w = writes[writes.length - 1];
    seen.add(w.bytes.buffer);
    w.done?.();
  }
  assert(seen.size <= 3, `${seen.size} distinct buffers for 50 flushes`);
});
