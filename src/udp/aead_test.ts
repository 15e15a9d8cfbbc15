import { assert, assertEquals } from "../../tests/_harness/assert.ts";
import { createSecretKey } from "node:crypto";
import { sodiumAead } from "../../ffi/mod.ts";
import { type AeadBackend, AeadKey, TAG_BYTES } from "./aead.ts";
import { HEADER_BYTES, writeHeader } from "./datagram.ts";

const KEY = createSecretKey(new Uint8Array(32).map((_, i) => i * 7 + 1));
const BACKENDS: AeadBackend[] = sodiumAead() === undefined ? ["node"] : ["sodium", "node"];

function sealed(k: AeadKey, counter: number, pt: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + pt.length + TAG_BYTES);
  writeHeader(out, 1, 42, counter);
  assertEquals(k.sealInto(counter, out, HEADER_BYTES, pt), out.length);
  return out;
}

Deno.test("libsodium loads on the development VM (the fast AEAD path is exercised)", () => {
  assert(sodiumAead() !== undefined, "libsodium.so.23 missing: apt-get install libsodium23");
});

Deno.test("AeadKey: a datagram sealed by either backend opens in place with the other", () => {
  for (const size of [0, 1, 64, 1400]) {
    const pt = new Uint8Array(size).map((_, i) => (i * 31 + size) & 0xff);
    for (const from of BACKENDS) {
      const bytes = sealed(new AeadKey(KEY, from), 77 + size, pt);
      for (const to of BACKENDS) {
        const d = bytes.slice();
        const n = new AeadKey(KEY, to).openInPlace(77 + size, d, HEADER_BYTES);
        assertEquals(n, size, `${from} → ${to}, ${size} B`);
        assertEquals(d.subarray(HEADER_BYTES, HEADER_BYTES + n), pt);
      }
    }
  }
});

Deno.test("AeadKey.openInPlace() refuses forged, truncated, wrong-counter and wrong-key datagrams", () => {
  const pt = new Uint8Array(64).fill(0x5a);
  for (const backend of BACKENDS) {
    const k = new AeadKey(KEY, backend);
    const good = sealed(k, 9, pt);
    const cases: [string, Uint8Array, number][] = [];
    for (const at of [0, 7, HEADER_BYTES, HEADER_BYTES + 63, good.length - 1]) {
      const d = good.slice();
      d[at] ^= 0x01;
      cases.push([`bit ${at} flipped`, d, 9]);
    }
    cases.push(["wrong counter", good.slice(), 10]);
    cases.push(["truncated tag", good.slice(0, good.length - 1), 9]);
    cases.push(["shorter than a tag", good.slice(0, HEADER_BYTES + TAG_BYTES - 1), 9]);
    const other = new AeadKey(createSecretKey(new Uint8Array(32).fill(3)), backend);
    for (const [what, d, counter] of cases) {
      const header = d.slice(0, HEADER_BYTES);
      assertEquals(k.openInPlace(counter, d, HEADER_BYTES), -1, `${backend}: ${what}`);
      assertEquals(d.subarray(0, HEADER_BYTES), header, `${backend}: ${what}: header kept`);
    }
    const d = good.slice();
    assertEquals(other.openInPlace(9, d, HEADER_BYTES), -1, `${backend}: wrong key`);
  }
});

Deno.test("AeadKey backend 'node' never loads libsodium", () => {
  assertEquals(new AeadKey(KEY, "node").backend, "node");
});
