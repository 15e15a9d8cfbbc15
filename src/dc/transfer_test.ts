import { assert, assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import { ManualClock } from "../clock/mod.ts";
import {
  DC_CHUNK_DATA_LEN,
  DC_CHUNK_HEADER_LEN,
  DC_MAX_CHUNKS,
  DC_TRANSFER_TIMEOUT_MS,
  DcError,
  DcReassembler,
  encodeDcChunks,
  MAX_DC_BYTES,
} from "./mod.ts";

function dcBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(b.subarray(i, i + 65536));
  return b;
}

/** Rewrites a chunk header field (total u32 @0, index u16 @4, count u16 @6). */
function patch(chunk: Uint8Array, f: (v: DataView) => void): Uint8Array {
  const c = chunk.slice();
  f(new DataView(c.buffer));
  return c;
}

function refused(r: DcReassembler, chunk: Uint8Array, why: string): void {
  const e = assertThrows(() => r.push(chunk), DcError, why);
  assertEquals((e as DcError).reason, "bad_transfer");
}

Deno.test("a 1 MiB DC is cut into at most 18 chunks that fit a frame and reassemble to the same bytes", () => {
  const clock = new ManualClock();
  for (const n of [1, DC_CHUNK_DATA_LEN, DC_CHUNK_DATA_LEN + 1, 200_000, MAX_DC_BYTES]) {
    const raw = dcBytes(n);
    const chunks = encodeDcChunks(raw);
    assertEquals(chunks.length, Math.ceil(n / DC_CHUNK_DATA_LEN));
    assert(chunks.length <= DC_MAX_CHUNKS && DC_MAX_CHUNKS === 18);
    assert(chunks.every((c) => c.length <= DC_CHUNK_HEADER_LEN + DC_CHUNK_DATA_LEN));
    assert(DC_CHUNK_HEADER_LEN + DC_CHUNK_DATA_LEN <= 10 + 40 + 65_535, "fits one frame");
    const r = new DcReassembler(() => clock.now());
    const out = chunks.map((c) => r.push(c));
    assertEquals(out.at(-1), raw, `${n} bytes`);
    assert(out.slice(0, -1).every((x) => x === undefined));
    assert(!r.busy);
  }
  assertThrows(() => encodeDcChunks(new Uint8Array(MAX_DC_BYTES + 1)), RangeError);
});

Deno.test("the reassembler refuses an oversize total, a wrong hash, chunks out of order and a second transfer", () => {
  const clock = new ManualClock();
  const chunks = encodeDcChunks(dcBytes(200_000)); // 4 chunks
  const r = new DcReassembler(() => clock.now());
  const good = () => {
    const x = new DcReassembler(() => clock.now());
    for (const c of chunks) x.push(c);
  };
  good();

  // A total over 1 MiB (with a count that matches it).
  const over = MAX_DC_BYTES + 1;
  refused(
    r,
    patch(chunks[0], (v) => {
      v.setUint32(0, over);
      v.setUint16(6, Math.ceil(over / DC_CHUNK_DATA_LEN));
    }),
    "over the 1 MiB limit",
  );
  // A count that does not match the total, an index past the count, an empty slice.
  refused(r, patch(chunks[0], (v) => v.setUint16(6, 9)), "chunks announced");
  refused(r, patch(chunks[0], (v) => v.setUint16(4, 4)), "chunk 4 of 4");
  refused(r, chunks[0].subarray(0, DC_CHUNK_HEADER_LEN), "shorter than its header");
  // Starting anywhere but 0.
  refused(r, chunks[1], "before chunk 0");
  // Out of order: 0, 2.
  r.push(chunks[0]);
  refused(r, chunks[2], "expected 1");
  assert(!r.busy, "a refused transfer is dropped");
  // Repeated chunk: 0, 1, 1.
  r.push(chunks[0]);
  r.push(chunks[1]);
  refused(r, chunks[1], "expected 2");
  // A second transfer while one is under way.
  r.push(chunks[0]);
  refused(r, chunks[0], "before the previous one ended");
  // A chunk from another transfer (other hash) in the middle.
  const other = encodeDcChunks(dcBytes(200_000));
  r.push(chunks[0]);
  refused(r, other[1], "another transfer");
  // A slice of the wrong size.
  r.push(chunks[0]);
  refused(r, chunks[1].subarray(0, chunks[1].length - 1), "expected 61440");
  // Every chunk in order, but the data is not what the hash says.
  const tampered = chunks.map((c) => c.slice());
  tampered[2][DC_CHUNK_HEADER_LEN + 5] ^= 1;
  for (const c of tampered.slice(0, 3)) r.push(c);
  refused(r, tampered[3], "SHA-256");
  // …and afterwards a good transfer still goes through.
  let whole: Uint8Array | undefined;
  for (const c of chunks) whole = r.push(c);
  assertEquals(whole?.length, 200_000);
});

Deno.test("a transfer not finished within the timeout is reported and refused", () => {
  const clock = new ManualClock();
  const chunks = encodeDcChunks(dcBytes(200_000));
  const r = new DcReassembler(() => clock.now());
  r.push(chunks[0]);
  clock.advance(DC_TRANSFER_TIMEOUT_MS);
  assert(!r.timedOut());
  r.push(chunks[1]);
  clock.advance(1);
  assert(r.timedOut(), "never finished");
  refused(r, chunks[2], "not finished within 60 s");
  assert(!r.busy && !r.timedOut());
});
