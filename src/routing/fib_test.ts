import { assert, assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import {
  addressInPrefix,
  formatPrefix,
  type Ipv6Prefix,
  maskAddress,
  parsePrefix,
} from "../net/prefix.ts";
import { parseIpv6 } from "../net/ipv6.ts";
import { Fib } from "./fib.ts";

/** Small deterministic PRNG (mulberry32) so failures are reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function naiveLookup(
  table: Map<string, { p: Ipv6Prefix; v: number }>,
  addr: Uint8Array,
): number | undefined {
  let best: { p: Ipv6Prefix; v: number } | undefined;
  for (const e of table.values()) {
    if (addressInPrefix(addr, 0, e.p) && (best === undefined || e.p.len > best.p.len)) best = e;
  }
  return best?.v;
}

Deno.test("Fib.lookup() prefers the longest matching prefix", () => {
  const fib = new Fib<string>();
  fib.set(parsePrefix("::/0"), "default");
  fib.set(parsePrefix("2001:db8::/32"), "doc");
  fib.set(parsePrefix("2001:db8:1::/48"), "site");
  fib.set(parsePrefix("2001:db8:1::1/128"), "host");
  assertEquals(fib.lookupAddress(parseIpv6("2001:db8:1::1")), "host");
  assertEquals(fib.lookupAddress(parseIpv6("2001:db8:1::2")), "site");
  assertEquals(fib.lookupAddress(parseIpv6("2001:db8:2::1")), "doc");
  assertEquals(fib.lookupAddress(parseIpv6("fe80::1")), "default");
  assertEquals(fib.size, 4);
});

Deno.test("Fib.lookup() reads the address at an offset inside a packet buffer", () => {
  const fib = new Fib<number>();
  fib.set(parsePrefix("fd00:1::/32"), 7);
  const pkt = new Uint8Array(40);
  pkt.set(parseIpv6("fd00:1::99"), 24);
  assertEquals(fib.lookup(pkt, 24), 7);
  assertEquals(fib.lookup(pkt, 8), undefined);
});

Deno.test("Fib.lookup() returns undefined with no covering prefix and after deletes", () => {
  const fib = new Fib<number>();
  assertEquals(fib.lookupAddress(parseIpv6("::1")), undefined);
  fib.set(parsePrefix("fd00::/8"), 1);
  fib.set(parsePrefix("fd00:1::/32"), 2);
  assertEquals(fib.lookupAddress(parseIpv6("fd00:1::1")), 2);
  assert(fib.delete(parsePrefix("fd00:1::/32")));
  assertEquals(fib.lookupAddress(parseIpv6("fd00:1::1")), 1);
  assert(!fib.delete(parsePrefix("fd00:1::/32")));
  assert(fib.delete(parsePrefix("fd00::/8")));
  assertEquals(fib.lookupAddress(parseIpv6("fd00:1::1")), undefined);
  assertEquals(fib.size, 0);
});

Deno.test("Fib.set() replaces the value of an existing prefix and reports whether it was new", () => {
  const fib = new Fib<string>();
  assert(fib.set(parsePrefix("fd00::/16"), "a"));
  assert(!fib.set(parsePrefix("fd00::/16"), "b"));
  assertEquals(fib.get(parsePrefix("fd00::/16")), "b");
  assertEquals(fib.get(parsePrefix("fd00::/17")), undefined);
  assertEquals(fib.size, 1);
});

Deno.test("Fib.set() refuses malformed prefixes", () => {
  const fib = new Fib<number>();
  assertThrows(() => fib.set({ addr: parseIpv6("fd00::1"), len: 64 }, 1), RangeError, "host bits");
  assertThrows(() => fib.set({ addr: new Uint8Array(16), len: 129 }, 1), RangeError, "length");
  assertThrows(() => fib.set({ addr: new Uint8Array(4), len: 0 }, 1), RangeError, "16-byte");
});

Deno.test("Fib.entries() lists every prefix once", () => {
  const fib = new Fib<number>();
  const texts = ["::/0", "fd00::/8", "fd00::/16", "fd80::/9", "::1/128"];
  texts.forEach((t, i) => fib.set(parsePrefix(t), i));
  const got = [...fib.entries()].map(([p, v]) => `${formatPrefix(p)}=${v}`).sort();
  assertEquals(got, texts.map((t, i) => `${t}=${i}`).sort());
});

Deno.test("Fib matches a naive linear scan over random nested prefixes, addresses and deletes", () => {
  const rand = rng(12345);
  const fib = new Fib<number>(8);
  const ref = new Map<string, { p: Ipv6Prefix; v: number }>();
  const bases: Uint8Array[] = [];
  const randomAddr = (): Uint8Array => {
    // Half of the addresses start from a known prefix so that nesting is exercised.
    const a = new Uint8Array(16);
    for (let i = 0; i < 16; i++) a[i] = Math.floor(rand() * 256);
    if (bases.length > 0 && rand() < 0.7) {
      const b = bases[Math.floor(rand() * bases.length)];
      const keep = Math.floor(rand() * 17);
      a.set(b.subarray(0, keep));
    }
    return a;
  };
  const randomLen = (): number => {
    const r = rand();
    if (r < 0.05) return 0;
    if (r < 0.1) return 128;
    if (r < 0.6) return 32 + Math.floor(rand() * 17);
    return Math.floor(rand() * 129);
  };
  let value = 0;
  for (let round = 0; round < 40; round++) {
    for (let i = 0; i < 100; i++) {
      const a = randomAddr();
      bases.push(a);
      const len = randomLen();
      const prefix = { addr: maskAddress(a, len), len };
      const v = value++;
      fib.set(prefix, v);
      ref.set(formatPrefix(prefix), { p: prefix, v });
    }
    // Delete about a third of the prefixes, sometimes ones that are absent.
    for (const [k, e] of [...ref]) {
      if (rand() < 0.33) {
        assert(fib.delete(e.p), `delete ${k}`);
        ref.delete(k);
      }
    }
    const absent = { addr: maskAddress(randomAddr(), 127), len: 127 };
    if (!ref.has(formatPrefix(absent))) assert(!fib.delete(absent), "delete of an absent prefix");
    assertEquals(fib.size, ref.size);
    for (let i = 0; i < 300; i++) {
      const a = randomAddr();
      const want = naiveLookup(ref, a);
      const got = fib.lookupAddress(a);
      if (got !== want) {
        throw new Error(`round ${round}: lookup mismatch: fib ${got}, naive ${want}`);
      }
    }
    for (const e of ref.values()) assertEquals(fib.get(e.p), e.v);
    const listed = [...fib.entries()].map(([p, v]) => `${formatPrefix(p)}=${v}`).sort();
    assertEquals(listed, [...ref].map(([k, e]) => `${k}=${e.v}`).sort());
  }
  // Deleting everything leaves an empty table that still answers.
  for (const e of ref.values()) assert(fib.delete(e.p));
  assertEquals(fib.size, 0);
  assertEquals(fib.lookupAddress(randomAddr()), undefined);
  assertEquals([...fib.entries()].length, 0);
});
