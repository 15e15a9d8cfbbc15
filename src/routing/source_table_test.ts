import { assertEquals } from "../../tests/_harness/assert.ts";
import { parseIpv6 } from "../net/ipv6.ts";
import { parsePrefix } from "../net/prefix.ts";
import { SourceTable } from "./source_table.ts";

const B = "b".repeat(64), C = "c".repeat(64), D = "d".repeat(64);
const item = (p: string, peers: string[], own = false) => ({ prefix: parsePrefix(p), peers, own });
const at = (t: SourceTable, addr: string, peer: string) => t.checkAddress(parseIpv6(addr), peer);

Deno.test("SourceTable answers with the peers of the longest match and of every covering prefix", () => {
  const t = new SourceTable();
  t.rebuild([
    item("fd00:1:2::/48", [D]),
    item("fd00::/16", [B]),
    item("fd00:1::/32", [C]),
    item("fd00:9::/32", []),
  ]);
  assertEquals(t.size, 4);
  assertEquals(at(t, "fd00:1:2::1", D), "ok");
  assertEquals(at(t, "fd00:1:2::1", C), "ok"); // covering /32
  assertEquals(at(t, "fd00:1:2::1", B), "ok"); // covering /16
  assertEquals(at(t, "fd00:1:3::1", D), "unfeasible"); // outside D's /48
  assertEquals(at(t, "fd00:9::1", B), "ok"); // a prefix with no peer inherits its cover's
  assertEquals(at(t, "fd00:9::1", C), "unfeasible");
  assertEquals(at(t, "fd01::1", B), "unfeasible"); // no prefix at all
});

Deno.test("SourceTable: ::/0 makes every source feasible through its peer", () => {
  const t = new SourceTable();
  t.rebuild([item("::/0", [B]), item("fd00:c::/48", [C])]);
  assertEquals(at(t, "2001:db8::1", B), "ok");
  assertEquals(at(t, "fd00:c::1", B), "ok");
  assertEquals(at(t, "2001:db8::1", C), "unfeasible");
});

Deno.test("SourceTable: sources inside an own prefix are 'own' for every peer, more-specifics included", () => {
  const t = new SourceTable();
  t.rebuild([item("::/0", [B]), item("fd00:a::/48", [], true), item("fd00:a:0:1::/64", [B])]);
  assertEquals(at(t, "fd00:a::1", B), "own");
  assertEquals(at(t, "fd00:a:0:1::1", B), "own");
  assertEquals(at(t, "fd00:b::1", B), "ok");
});

Deno.test("SourceTable: a rebuild replaces the whole table, and an empty table refuses everything", () => {
  const t = new SourceTable();
  assertEquals(at(t, "fd00::1", B), "unfeasible");
  t.rebuild([item("fd00::/16", [B])]);
  assertEquals(at(t, "fd00::1", B), "ok");
  t.rebuild([item("fd00::/16", [C])]);
  assertEquals(at(t, "fd00::1", B), "unfeasible");
  assertEquals(at(t, "fd00::1", C), "ok");
});
