import { assertEquals } from "../../tests/_harness/assert.ts";
import { formatPrefix, parseIpv6, parsePrefix } from "../net/mod.ts";
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
  assertEquals(t.size, 3); // a prefix with no peer and no own mark adds nothing
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

Deno.test("SourceTable.update() keeps entries of prefixes inside the changed one right (::/0, own, removal)", () => {
  const t = new SourceTable();
  t.rebuild([item("fd00:c::/48", [C]), item("fd00:c:0:1::/64", [D])]);
  t.update(parsePrefix("::/0"), [B], false);
  assertEquals(at(t, "fd00:c:0:1::1", B), "ok");
  assertEquals(at(t, "2001:db8::1", B), "ok");
  t.update(parsePrefix("fd00:c::/32"), [], true);
  assertEquals(at(t, "fd00:c:0:1::1", D), "own");
  t.update(parsePrefix("fd00:c::/32"), [], false);
  assertEquals(at(t, "fd00:c:0:1::1", D), "ok");
  assertEquals(at(t, "fd00:c:0:1::1", C), "ok");
  t.update(parsePrefix("::/0"), [], false);
  assertEquals(at(t, "fd00:c:0:1::1", B), "unfeasible");
  assertEquals(at(t, "2001:db8::1", B), "unfeasible");
  assertEquals(t.size, 2);
});

Deno.test("SourceTable.update() after random changes answers as a rebuild from the same prefixes", () => {
  let seed = 7;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  const peers = [B, C, D];
  const state = new Map<
    string,
    { prefix: ReturnType<typeof parsePrefix>; peers: string[]; own: boolean }
  >();
  const t = new SourceTable();
  const lens = [0, 16, 24, 32, 40, 48, 64];
  for (let step = 0; step < 600; step++) {
    const len = lens[rnd(lens.length)];
    const addr = new Uint8Array(16);
    addr[0] = 0xfd;
    addr[1] = rnd(2);
    addr[2] = rnd(3);
    addr[3] = rnd(2);
    addr[4] = rnd(2);
    addr[5] = rnd(3);
    const prefix = parsePrefix(
      `${formatPrefix({ addr, len: 128 }).replace("/128", "")}/${len}`,
      true,
    );
    const ps = peers.filter(() => rnd(3) === 0);
    const own = rnd(12) === 0;
    state.set(formatPrefix(prefix), { prefix, peers: ps, own });
    t.update(prefix, ps, own);
  }
  const ref = new SourceTable();
  ref.rebuild(state.values());
  assertEquals(t.size, ref.size);
  for (let i = 0; i < 2000; i++) {
    const addr = new Uint8Array(16);
    addr[0] = 0xfd;
    for (let b = 1; b < 8; b++) addr[b] = rnd(4);
    for (const p of peers) assertEquals(t.checkAddress(addr, p), ref.checkAddress(addr, p));
  }
});

Deno.test("SourceTable in loose mode accepts a source any peer has a route for, never an own one", () => {
  const t = new SourceTable();
  t.rebuild([item("fd00:b::/48", [B]), item("fd00:1::/48", [], true), item("fd00:9::/48", [])]);
  assertEquals(at(t, "fd00:b::1", C), "unfeasible"); // feasible mode: C has no route for it
  t.loose = true;
  assertEquals(at(t, "fd00:b::1", C), "ok"); // loose: B has a route for it
  assertEquals(at(t, "fd00:b::1", B), "ok");
  assertEquals(at(t, "fd00:1::1", B), "own"); // our own prefix: refused in every mode
  assertEquals(at(t, "fd00:9::1", C), "unfeasible"); // nobody has a route for it
  assertEquals(at(t, "2001:db8::1", C), "unfeasible");
});

Deno.test("SourceTable.updateMany() in random batches answers as a rebuild from the same prefixes", () => {
  let seed = 11;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  const peers = [B, C, D];
  const state = new Map<
    string,
    { prefix: ReturnType<typeof parsePrefix>; peers: string[]; own: boolean }
  >();
  const t = new SourceTable();
  const lens = [0, 16, 24, 32, 40, 48, 64];
  for (let batch = 0; batch < 40; batch++) {
    const changes = new Map<
      string,
      { prefix: ReturnType<typeof parsePrefix>; peers: string[]; own: boolean }
    >();
    for (let k = 1 + rnd(60); k > 0; k--) {
      const len = lens[rnd(lens.length)];
      const addr = new Uint8Array(16);
      addr[0] = 0xfd;
      for (let b = 1; b < 6; b++) addr[b] = rnd(b === 2 || b === 5 ? 3 : 2);
      const prefix = parsePrefix(
        `${formatPrefix({ addr, len: 128 }).replace("/128", "")}/${len}`,
        true,
      );
      // A third of the changes remove the prefix (no peers, not own).
      const ps = rnd(3) === 0 ? [] : peers.filter(() => rnd(3) === 0);
      const own = ps.length > 0 && rnd(12) === 0;
      changes.set(formatPrefix(prefix), { prefix, peers: ps, own });
    }
    for (const [k, c] of changes) state.set(k, c);
    t.updateMany(changes.values());
    const ref = new SourceTable();
    ref.rebuild(state.values());
    assertEquals(t.size, ref.size);
    for (let i = 0; i < 300; i++) {
      const addr = new Uint8Array(16);
      addr[0] = 0xfd;
      for (let b = 1; b < 8; b++) addr[b] = rnd(4);
      for (const p of peers) assertEquals(t.checkAddress(addr, p), ref.checkAddress(addr, p));
    }
  }
});
