import { assertEquals } from "../../tests/_harness/assert.ts";
import { parsePrefix } from "../net/mod.ts";
import { ClaimedSpace } from "./claimed_space.ts";
import { filterRoute } from "./prefix_filter.ts";
import { canonicalWhitelist, type PrefixWhitelist } from "./whitelist.ts";

const wl: PrefixWhitelist = new Map([
  ["alice", [{ prefix: parsePrefix("fd00:a::/32"), maxPrefixLen: 48 }]],
  ["bob", [
    { prefix: parsePrefix("fd00:b::/32"), maxPrefixLen: 32 },
    { prefix: parsePrefix("fd00:bb::/32"), maxPrefixLen: 128 },
  ]],
  ["mallory", []],
]);
const internal = (name: string) => ({ name, external: false });
const external = (name: string) => ({ name, external: true });

Deno.test("filterRoute() accepts a prefix covered by an entry within maxPrefixLen", () => {
  assertEquals(filterRoute(internal("alice"), parsePrefix("fd00:a:1::/48"), wl).accept, true);
  assertEquals(filterRoute(internal("alice"), parsePrefix("fd00:a::/32"), wl).accept, true);
  assertEquals(filterRoute(internal("bob"), parsePrefix("fd00:bb::1/128"), wl).accept, true);
});

Deno.test("filterRoute() rejects a prefix longer than maxPrefixLen", () => {
  const v = filterRoute(internal("alice"), parsePrefix("fd00:a:1:1::/64"), wl);
  assertEquals(v.accept, false);
  assertEquals(filterRoute(internal("bob"), parsePrefix("fd00:b:1::/48"), wl).accept, false);
});

Deno.test("filterRoute() rejects a prefix outside every entry, or wider than the entry", () => {
  assertEquals(filterRoute(internal("alice"), parsePrefix("fd00:b::/32"), wl).accept, false);
  assertEquals(filterRoute(internal("alice"), parsePrefix("fd00::/16"), wl).accept, false);
  assertEquals(filterRoute(internal("alice"), parsePrefix("::/0"), wl).accept, false);
});

Deno.test("filterRoute() rejects everything from a peer whose entry list is empty", () => {
  const v = filterRoute(internal("mallory"), parsePrefix("fd00:a::/32"), wl);
  assertEquals(v, {
    accept: false,
    reason: `fd00:a::/32 is outside the prefix whitelist of "mallory"`,
  });
});

Deno.test("filterRoute() accepts any prefix from an internal peer with no entry", () => {
  assertEquals(filterRoute(internal("carol"), parsePrefix("::/0"), wl).accept, true);
});

Deno.test("filterRoute() rejects an external peer with no entry unless the default is accept", () => {
  const p = parsePrefix("fd00:c::/48");
  assertEquals(filterRoute(external("carol"), p, wl).accept, false);
  assertEquals(filterRoute(external("carol"), p, wl, "reject").accept, false);
  assertEquals(filterRoute(external("carol"), p, wl, "accept").accept, true);
});

Deno.test("filterRoute() applies the entries of an external peer that has one", () => {
  assertEquals(
    filterRoute(external("alice"), parsePrefix("fd00:a::/40"), wl, "accept").accept,
    true,
  );
  assertEquals(
    filterRoute(external("alice"), parsePrefix("fd00:c::/40"), wl, "accept").accept,
    false,
  );
});

Deno.test("filterRoute() looks peers up as DNS names in a canonical whitelist", () => {
  const dc = canonicalWhitelist(
    new Map([["B.Vnet.Example.Com.", [{ prefix: parsePrefix("fd00:b::/32"), maxPrefixLen: 48 }]]]),
  );
  const b = internal("b.vnet.example.com");
  assertEquals(filterRoute(b, parsePrefix("fd00:b::/48"), dc).accept, true);
  assertEquals(filterRoute(b, parsePrefix("fd00:c::/48"), dc).accept, false);
  assertEquals(
    filterRoute(internal("B.VNET.example.com."), parsePrefix("fd00:c::/48"), dc).accept,
    false,
  );
});

Deno.test("canonicalWhitelist() merges keys that are the same name", () => {
  const e1 = { prefix: parsePrefix("fd00:1::/32"), maxPrefixLen: 48 };
  const e2 = { prefix: parsePrefix("fd00:2::/32"), maxPrefixLen: 48 };
  const dc = canonicalWhitelist(new Map([["b.x.y", [e1]], ["B.X.Y.", [e2]]]));
  assertEquals([...dc.keys()], ["b.x.y"]);
  assertEquals(dc.get("b.x.y"), [e1, e2]);
});

Deno.test("filterRoute() with a DC in force refuses an unlisted peer's prefix that overlaps a listed node's space", () => {
  const claimed = new ClaimedSpace(wl);
  const carol = internal("carol");
  for (const p of ["fd00:a::/32", "fd00:a:1::/48", "fd00::/16", "::/0", "fd00:bb::1/128"]) {
    const v = filterRoute(carol, parsePrefix(p), wl, "reject", claimed);
    assertEquals(v.accept, false, p);
  }
  for (const p of ["fd00:c::/32", "fd00:ab::/32", "fd01::/16"]) {
    assertEquals(filterRoute(carol, parsePrefix(p), wl, "reject", claimed).accept, true, p);
  }
  // Without a DC in force (no claimed space) the Go behaviour stays.
  assertEquals(filterRoute(carol, parsePrefix("fd00:a::/32"), wl).accept, true);
  // External peers accepted by default get the same limit.
  const v = filterRoute(external("dave"), parsePrefix("fd00:a::/40"), wl, "accept", claimed);
  assertEquals(v.accept, false);
});
