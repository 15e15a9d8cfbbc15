import { assert, assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import { parsePrefix } from "../net/mod.ts";
import type { Route } from "./route.ts";
import {
  decodeAnnounce,
  decodeWithdraw,
  encodeAnnounce,
  encodeWithdraw,
  MAX_ROUTE_PAYLOAD,
  WireError,
} from "./wire.ts";

const idA = "a".repeat(64), idB = "0123456789abcdef".repeat(4);

function route(prefix: string, ...lat: number[]): Route {
  return {
    prefix: parsePrefix(prefix),
    path: lat.map((l, i) => ({ id: i % 2 === 0 ? idA : idB, latencyMs: l })),
  };
}

Deno.test("encodeAnnounce() and decodeAnnounce() round-trip prefixes of every length class", () => {
  const routes = [
    route("::/0", 1),
    route("fc00::/7", 0.5, 2.25),
    route("2001:db8:1::/48", 12.345, 0, 4294967.295),
    route("fd00:1:2:3:4:5:6:7/128", 3),
  ];
  const [payload, ...more] = encodeAnnounce(routes);
  assertEquals(more.length, 0);
  assertEquals(decodeAnnounce(payload), routes);
  // 1+2 header; /0 route: 1+0+1+36
  assertEquals(encodeAnnounce([route("::/0", 1)])[0].length, 3 + 38);
});

Deno.test("encodeAnnounce() rounds latencies to microseconds", () => {
  const [p] = encodeAnnounce([route("fd00::/16", 1.0004)]);
  assertEquals(decodeAnnounce(p)[0].path[0].latencyMs, 1);
});

Deno.test("encodeAnnounce() splits long lists into payloads of at most 64 KiB", () => {
  const routes: Route[] = [];
  for (let i = 0; i < 3000; i++) {
    const a = new Uint8Array(16);
    a[0] = 0xfd;
    a[4] = i >> 8;
    a[5] = i & 0xff;
    routes.push({ prefix: { addr: a, len: 48 }, path: [{ id: idA, latencyMs: i }] });
  }
  const payloads = encodeAnnounce(routes);
  assert(payloads.length > 1, "expected several payloads");
  for (const p of payloads) assert(p.length <= MAX_ROUTE_PAYLOAD);
  assertEquals(payloads.flatMap(decodeAnnounce), routes);
  const long = Array.from({ length: 64 }, (_, i) => i);
  const many = Array.from({ length: 100 }, () => route("fd00::/16", ...long));
  for (const p of encodeAnnounce(many)) assert(p.length <= MAX_ROUTE_PAYLOAD);
  assertEquals(encodeAnnounce(many).flatMap(decodeAnnounce).length, 100);
  assertEquals(encodeAnnounce([]), []);
});

Deno.test("encodeWithdraw() and decodeWithdraw() round-trip and split", () => {
  const prefixes = [parsePrefix("::/0"), parsePrefix("fd00:1::/33"), parsePrefix("::1/128")];
  const [p] = encodeWithdraw(prefixes);
  assertEquals(decodeWithdraw(p), prefixes);
  const many = Array.from({ length: 70000 }, () => parsePrefix("fd00::/8"));
  const ps = encodeWithdraw(many);
  assert(ps.length === 3 && ps.every((x) => x.length <= MAX_ROUTE_PAYLOAD));
  assertEquals(ps.flatMap(decodeWithdraw).length, 70000);
});

Deno.test("encodeAnnounce() refuses malformed routes", () => {
  assertThrows(() => encodeAnnounce([route("fd00::/16")]), RangeError, "hops");
  assertThrows(() => encodeAnnounce([route("fd00::/16", -1)]), RangeError, "latency");
  assertThrows(() => encodeAnnounce([route("fd00::/16", NaN)]), RangeError, "latency");
  assertThrows(() => encodeAnnounce([route("fd00::/16", 5e6)]), RangeError, "latency");
  const bad = { prefix: parsePrefix("fd00::/16"), path: [{ id: "xyz", latencyMs: 1 }] };
  assertThrows(() => encodeAnnounce([bad]), RangeError, "hop ID");
  const host = { addr: parsePrefix("fd00::1/128").addr, len: 16 };
  assertThrows(() => encodeAnnounce([{ prefix: host, path: [] }]), RangeError, "host bits");
});

Deno.test("decodeAnnounce() refuses hostile input with a WireError", () => {
  const [good] = encodeAnnounce([route("fd00:1::/32", 1, 2)]);
  // Every truncation fails.
  for (let n = 0; n < good.length; n++) {
    assertThrows(() => decodeAnnounce(good.subarray(0, n)), WireError);
  }
  // Trailing garbage.
  assertThrows(() => decodeAnnounce(new Uint8Array([...good, 0])), WireError, "trailing");
  // Wrong version.
  const v = good.slice();
  v[0] = 2;
  assertThrows(() => decodeAnnounce(v), WireError, "version");
  // Prefix length over 128.
  const l = good.slice();
  l[3] = 129;
  assertThrows(() => decodeAnnounce(l), WireError, "over 128");
  // Host bits: a /31 whose 32nd bit is set.
  const h = good.slice();
  h[3] = 31;
  h[7] = 1;
  assertThrows(() => decodeAnnounce(h), WireError, "bits set");
  // Zero hops and too many hops.
  const z = good.slice();
  z[8] = 0;
  assertThrows(() => decodeAnnounce(z), WireError, "0 hops");
  z[8] = 65;
  assertThrows(() => decodeAnnounce(z), WireError, "65 hops");
  // A count larger than the entries present.
  const c = good.slice();
  c[2] = 2;
  assertThrows(() => decodeAnnounce(c), WireError, "truncated");
  // Oversize payload.
  assertThrows(() => decodeAnnounce(new Uint8Array(MAX_ROUTE_PAYLOAD + 1)), WireError, "over");
});

Deno.test("decodeWithdraw() refuses hostile input with a WireError", () => {
  const [good] = encodeWithdraw([parsePrefix("fd00:1::/32")]);
  for (let n = 0; n < good.length; n++) {
    assertThrows(() => decodeWithdraw(good.subarray(0, n)), WireError);
  }
  assertThrows(() => decodeWithdraw(new Uint8Array([...good, 7])), WireError, "trailing");
  assertThrows(() => decodeWithdraw(new Uint8Array([1, 0, 1, 7, 0x81])), WireError, "bits set");
  assertThrows(() => decodeWithdraw(new Uint8Array([1, 0xff, 0xff])), WireError, "truncated");
});

Deno.test("decoders never throw anything but WireError on random bytes", () => {
  let seed = 7;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
  for (let i = 0; i < 3000; i++) {
    const buf = new Uint8Array(next() % 200);
    for (let j = 0; j < buf.length; j++) buf[j] = next();
    if (buf.length > 0 && i % 2 === 0) buf[0] = 1;
    for (const decode of [decodeAnnounce, decodeWithdraw]) {
      try {
        decode(buf);
      } catch (e) {
        assert(e instanceof WireError, `unexpected ${String(e)}`);
      }
    }
  }
});

Deno.test("decodeAnnounce() shares the path of consecutive routes with equal hops, and only theirs", () => {
  const routes = [
    route("fd01::/64", 1, 2),
    route("fd01:0:0:1::/64", 1, 2),
    route("fd01:0:0:2::/64", 1, 3),
    route("fd01:0:0:3::/64", 1, 3),
    route("fd01:0:0:4::/64", 1),
    route("fd01:0:0:5::/64", 1, 2),
  ];
  const [payload] = encodeAnnounce(routes);
  const out = decodeAnnounce(payload);
  assertEquals(out, routes);
  assert(out[0].path === out[1].path, "equal consecutive paths are one array");
  assert(out[2].path === out[3].path);
  assert(out[1].path !== out[2].path && out[4].path !== out[5].path);
  assert(Object.isFrozen(out[0].path), "a shared path cannot be changed through one route");
});
