import { assertEquals } from "../../tests/_harness/assert.ts";
import { parsePrefix } from "../net/prefix.ts";
import { filterRoute } from "./prefix_filter.ts";
import type { PrefixWhitelist } from "./whitelist.ts";

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
