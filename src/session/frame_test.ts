import { assert, assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import {
  encodeFrame,
  FRAME_HEADER_LEN,
  FrameDecoder,
  FrameError,
  FrameType,
  MAX_FRAME_PAYLOAD,
} from "./frame.ts";

type Got = [number, number[]];

function collect(dec: FrameDecoder, chunks: Uint8Array[]): { frames: Got[]; ends: number } {
  const frames: Got[] = [];
  let ends = 0;
  for (const c of chunks) {
    dec.push(c, {
      onFrame(type, payload) {
        frames.push([type, [...payload]]);
        return true;
      },
      onChunkEnd() {
        ends++;
      },
    });
  }
  return { frames, ends };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

Deno.test("FrameDecoder decodes many frames from one chunk without copying", () => {
  const stream = concat([
    encodeFrame(FrameType.Ping, new Uint8Array([0, 0, 0, 7])),
    encodeFrame(FrameType.IpPacket, new Uint8Array([0x60, 1, 2])),
    encodeFrame(FrameType.Dc, new Uint8Array(0)),
  ]);
  const dec = new FrameDecoder();
  const seen: Uint8Array[] = [];
  dec.push(stream, {
    onFrame(_t, p) {
      seen.push(p);
      return true;
    },
    onChunkEnd() {},
  });
  assertEquals(seen.length, 3);
  assert(seen.every((p) => p.buffer === stream.buffer), "payloads are views of the chunk");
  assertEquals([...seen[1]], [0x60, 1, 2]);
  assertEquals(dec.buffered, 0);
});

Deno.test("FrameDecoder reassembles frames split at every possible byte boundary", () => {
  const frames = [
    encodeFrame(FrameType.IpPacket, crypto.getRandomValues(new Uint8Array(300))),
    encodeFrame(FrameType.Pong, new Uint8Array([1, 2, 3, 4])),
    encodeFrame(0x7f, new Uint8Array([9])),
  ];
  const stream = concat(frames);
  const want = collect(new FrameDecoder(), [stream]).frames;
  for (let a = 0; a <= stream.length; a++) {
    for (const b of [a, Math.min(stream.length, a + 1), Math.min(stream.length, a + 5)]) {
      const got = collect(new FrameDecoder(), [
        stream.subarray(0, a),
        stream.subarray(a, b),
        stream.subarray(b),
      ]).frames;
      assertEquals(got, want, `split at ${a}/${b}`);
    }
  }
});

Deno.test("FrameDecoder reassembles a maximum-size frame from small chunks", () => {
  const payload = new Uint8Array(MAX_FRAME_PAYLOAD).map((_, i) => (i * 31 + 7) & 0xff);
  const stream = encodeFrame(FrameType.IpPacketVnet, payload);
  const dec = new FrameDecoder();
  const chunks: Uint8Array[] = [stream.subarray(0, 1), stream.subarray(1, 3)];
  for (let i = 3; i < stream.length; i += 4096) chunks.push(stream.subarray(i, i + 4096));
  const { frames } = collect(dec, chunks);
  assertEquals(frames.length, 1);
  assertEquals(frames[0][0], FrameType.IpPacketVnet);
  assertEquals(new Uint8Array(frames[0][1]), payload);
});

Deno.test("FrameDecoder rejects a header announcing an oversize payload, even split", () => {
  const header = new Uint8Array([FrameType.IpPacket, 0x01, 0x00, 0x33]); // 65587 bytes
  assertThrows(() => collect(new FrameDecoder(), [header]), FrameError, "more than the limit");
  assertThrows(
    () => collect(new FrameDecoder(), [header.subarray(0, 2), header.subarray(2)]),
    FrameError,
  );
  const dec = new FrameDecoder();
  assertThrows(() => collect(dec, [header]), FrameError);
  // After an error the decoder ignores input instead of resynchronising on garbage.
  assertEquals(collect(dec, [encodeFrame(FrameType.Ping, new Uint8Array(4))]).frames, []);
});

Deno.test("FrameDecoder survives random bytes: frames or FrameError, nothing else", () => {
  for (let i = 0; i < 200; i++) {
    const junk = crypto.getRandomValues(new Uint8Array(1 + Math.floor(Math.random() * 600)));
    const dec = new FrameDecoder(1024);
    try {
      collect(dec, [junk.subarray(0, 7), junk.subarray(7)]);
    } catch (e) {
      assert(e instanceof FrameError, `unexpected ${e}`);
    }
  }
});

Deno.test("FrameDecoder stops when the sink returns false", () => {
  const stream = concat([
    encodeFrame(FrameType.Ping, new Uint8Array(4)),
    encodeFrame(FrameType.Pong, new Uint8Array(4)),
  ]);
  const dec = new FrameDecoder();
  let n = 0;
  dec.push(stream, { onFrame: () => (n++, false), onChunkEnd: () => {} });
  assertEquals(n, 1);
  dec.push(stream, { onFrame: () => (n++, true), onChunkEnd: () => {} });
  assertEquals(n, 1);
});

Deno.test("encodeFrame refuses payloads over the limit", () => {
  assertThrows(
    () => encodeFrame(FrameType.IpPacket, new Uint8Array(MAX_FRAME_PAYLOAD + 1)),
    RangeError,
  );
  assertEquals(encodeFrame(FrameType.Ping, new Uint8Array(4)).length, FRAME_HEADER_LEN + 4);
});
