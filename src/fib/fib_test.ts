import { seededRandom } from "../../tests/_harness/random.ts";
import { assert, assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import {
  addressInPrefix,
  formatPrefix,
  type Ipv6Prefix,
  maskAddress,
  parseIpv6,
  parsePrefix,
} from "../net/mod.ts";
import { Fib } from "./fib.ts";

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
  const rand = seededRandom(12345);
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

/** Checks every lookup of `addrs` and every listed entry of `fib` against the naive table. */
function checkAgainst(
  fib: Fib<number>,
  ref: Map<string, { p: Ipv6Prefix; v: number }>,
  addrs: Uint8Array[],
  step: string,
): void {
  assertEquals(fib.size, ref.size, `${step}: size`);
  for (const a of addrs) {
    const want = naiveLookup(ref, a), got = fib.lookupAddress(a);
    if (got !== want) throw new Error(`${step}: lookup mismatch: fib ${got}, naive ${want}`);
  }
  for (const e of ref.values()) assertEquals(fib.get(e.p), e.v, `${step}: get`);
  const listed = [...fib.entries()].map(([p, v]) => `${formatPrefix(p)}=${v}`).sort();
  assertEquals(listed, [...ref].map(([k, e]) => `${k}=${e.v}`).sort(), `${step}: entries`);
}

Deno.test("Fib splits and merges compressed paths correctly under random insert/delete order", () => {
  // Prefixes along one long address and its near neighbours (one byte or one bit different at
  // various depths), so that almost every insert splits a compressed edge and almost every
  // delete merges one; short prefixes (/0–/16) exercise the direct table.
  const rand = seededRandom(777);
  const base = parseIpv6("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff");
  const lens = [0, 3, 8, 13, 15, 16, 17, 23, 24, 31, 32, 33, 40, 47, 48, 56, 63, 64, 72, 100, 120];
  const universe: Ipv6Prefix[] = [];
  for (const len of [...lens, 127, 128]) universe.push({ addr: maskAddress(base, len), len });
  for (const at of [2, 3, 4, 5, 6, 7, 9, 12, 15]) {
    for (const flip of [0x80, 0x01]) {
      const a = base.slice();
      a[at] ^= flip;
      for (const len of lens) if (len > at * 8) universe.push({ addr: maskAddress(a, len), len });
      universe.push({ addr: a, len: 128 });
    }
  }
  const addrs: Uint8Array[] = [];
  for (const p of universe) {
    addrs.push(p.addr);
    const a = p.addr.slice();
    for (let i = p.len >> 3; i < 16; i++) a[i] = Math.floor(rand() * 256);
    addrs.push(maskAddress(a, 128));
    if (p.len < 128) {
      const b = p.addr.slice();
      b[p.len >> 3] ^= 0x80 >>> (p.len & 7); // just outside p
      addrs.push(b);
    }
  }
  for (let run = 0; run < 6; run++) {
    const fib = new Fib<number>(1);
    const ref = new Map<string, { p: Ipv6Prefix; v: number }>();
    for (let step = 0; step < 400; step++) {
      const p = universe[Math.floor(rand() * universe.length)], k = formatPrefix(p);
      if (ref.has(k) && rand() < 0.6) {
        assert(fib.delete(p), `delete ${k}`);
        ref.delete(k);
      } else {
        assertEquals(fib.set(p, step), !ref.has(k), `set ${k}`);
        ref.set(k, { p, v: step });
      }
      checkAgainst(fib, ref, addrs, `run ${run} step ${step} (${k})`);
    }
    for (const [k, e] of [...ref].sort(() => rand() - 0.5)) {
      assert(fib.delete(e.p));
      ref.delete(k);
      checkAgainst(fib, ref, addrs, `run ${run} drain ${k}`);
    }
    assert(!fib.has(universe[0]));
  }
});

Deno.test("Fib.lookup() follows changes of short prefixes over existing longer ones", () => {
  const fib = new Fib<string>();
  fib.set(parsePrefix("2001:db8::/32"), "doc");
  fib.set(parsePrefix("2001:db9::/32"), "doc9");
  const inDoc = parseIpv6("2001:db8::1"), beside = parseIpv6("2001:dba::1");
  const outside = parseIpv6("2002::1");
  assertEquals(fib.lookupAddress(beside), undefined);
  fib.set(parsePrefix("2000::/3"), "global");
  assertEquals(fib.lookupAddress(beside), "global");
  assertEquals(fib.lookupAddress(outside), "global");
  fib.set(parsePrefix("2001::/16"), "sixteen");
  fib.set(parsePrefix("2000::/15"), "fifteen");
  assertEquals(fib.lookupAddress(beside), "sixteen");
  assertEquals(fib.lookupAddress(outside), "global");
  assertEquals(fib.lookupAddress(parseIpv6("2000::1")), "fifteen");
  assertEquals(fib.lookupAddress(inDoc), "doc");
  assert(fib.delete(parsePrefix("2001::/16")));
  assertEquals(fib.lookupAddress(beside), "fifteen");
  assert(fib.delete(parsePrefix("2001:db8::/32")));
  assert(fib.delete(parsePrefix("2001:db9::/32")));
  assertEquals(fib.lookupAddress(inDoc), "fifteen");
  assert(fib.delete(parsePrefix("2000::/15")));
  assertEquals(fib.lookupAddress(inDoc), "global");
  fib.set(parsePrefix("::/0"), "default");
  assert(fib.delete(parsePrefix("2000::/3")));
  assertEquals(fib.lookupAddress(inDoc), "default");
  assertEquals(fib.lookupAddress(parseIpv6("fe80::1")), "default");
  fib.clear();
  assertEquals(fib.lookupAddress(inDoc), undefined);
  assertEquals(fib.size, 0);
});

Deno.test("Fib reuses freed space: insert/delete churn does not grow the table", () => {
  const rand = seededRandom(4242);
  const fib = new Fib<number>();
  const randomPrefix = (): Ipv6Prefix => {
    const a = new Uint8Array(16);
    for (let i = 0; i < 16; i++) a[i] = Math.floor(rand() * 256);
    a[0] = 0x20;
    a[1] = 0x01;
    a[2] &= 0x0f; // few /24s, so prefixes share paths: inserts split edges, deletes merge them
    const len = [20, 32, 40, 48, 48, 52, 64, 128][Math.floor(rand() * 8)];
    return { addr: maskAddress(a, len), len };
  };
  const live: Ipv6Prefix[] = [];
  for (let i = 0; i < 3000; i++) {
    const p = randomPrefix();
    if (fib.set(p, i)) live.push(p);
  }
  let peak = 0;
  for (let round = 0; round < 8; round++) {
    for (let i = 0; i < 1500; i++) {
      const j = Math.floor(rand() * live.length);
      assert(fib.delete(live[j]));
      live[j] = live[live.length - 1];
      live.pop();
    }
    while (live.length < 3000) {
      const p = randomPrefix();
      if (fib.set(p, round)) live.push(p);
    }
    // Freed blocks are reused: once warmed up, the pools stay the same size.
    if (round === 1) peak = fib.byteLength;
    if (round > 1) assert(fib.byteLength <= peak * 1.2, `round ${round}: ${fib.byteLength} B`);
  }
  assertEquals(fib.size, live.length);
  for (const p of live) assert(fib.delete(p));
  assertEquals([...fib.entries()].length, 0);
});
