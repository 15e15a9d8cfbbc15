import { assert, assertEquals } from "../../tests/_harness/assert.ts";
import { formatPrefix, parsePrefix } from "../net/mod.ts";
import { BIG_TABLE, BIG_TABLE_LATENCY_MS, type FlushResult } from "./router.ts";
import { ID, route, setup } from "../../tests/_harness/router_fixture.ts";

const B = ID("b"), C = ID("c"), D = ID("d"), E = ID("e");

/** What a neighbour believes after the messages so far (withdrawals applied first, as sent). */
function apply(view: Map<string, string>, f: FlushResult, id: string): number {
  const m = f.messages.get(id);
  if (m === undefined) return 0;
  for (const p of m.withdraw) view.delete(formatPrefix(p));
  for (const r of m.announce) view.set(formatPrefix(r.prefix), r.path.map((h) => h.id[0]).join(""));
  return m.withdraw.length + m.announce.length;
}

const prefix = (i: number) => `fd00:${(i >> 8).toString(16)}:${(i & 255).toString(16)}::/48`;

Deno.test("Router.flush(max) sends a big change in slices, in order, and ends with the same view", () => {
  const { r, clock } = setup({ worseRouteHoldMs: 0 });
  r.peerUp({ id: B, name: "b", external: false }, 5);
  r.peerUp({ id: C, name: "c", external: false }, 5);
  r.flush();
  const n = 3000;
  const routes = Array.from({ length: n }, (_, i) => route(prefix(i), [B, 5], [D, 1]));
  r.receiveAnnounce(B, routes);
  const atC = new Map<string, string>();
  let flushes = 0;
  // Withdraw every third prefix after the first slice: some were sent already, some not yet.
  const first = r.flush(500);
  assert(apply(atC, first, C) <= 500, "a slice holds at most about max prefixes");
  assert(r.pending, "the rest waits for the next flush");
  r.receiveWithdraw(B, routes.filter((_, i) => i % 3 === 0).map((x) => x.prefix));
  while (r.pending && flushes < 100) {
    clock.t += 10;
    const sent = apply(atC, r.flush(500), C);
    assert(sent <= 500 * 2, `slice ${flushes}: ${sent} changes`);
    flushes++;
  }
  assert(flushes >= 4, `${flushes} flushes`);
  assertEquals(atC.size, n - n / 3);
  for (let i = 0; i < n; i++) {
    assertEquals(
      atC.get(formatPrefix(parsePrefix(prefix(i)))),
      i % 3 === 0 ? undefined : "abd",
      prefix(i),
    );
  }
  // A full table to a new neighbour is sliced too, and sent once.
  r.peerUp({ id: E, name: "e", external: false }, 5);
  const atE = new Map<string, string>();
  let sentToE = 0;
  for (let k = 0; k < 100 && r.pending; k++) {
    clock.t += 10;
    sentToE += apply(atE, r.flush(400), E);
  }
  assertEquals(atE.size, n - n / 3);
  assertEquals(sentToE, n - n / 3);
});

Deno.test("Router: with a big table, a link's latency change re-bases its routes at most every 5 s", () => {
  const { r, clock } = setup();
  r.peerUp({ id: B, name: "b", external: false }, 5);
  r.peerUp({ id: C, name: "c", external: false }, 5);
  r.flush();
  const n = BIG_TABLE + 100;
  r.receiveAnnounce(B, Array.from({ length: n }, (_, i) => route(prefix(i), [B, 5], [D, 1])));
  while (r.pending) r.flush();
  const toC = () => {
    const out = [];
    while (r.pending) out.push(...(r.flush().messages.get(C)?.announce ?? []));
    return out;
  };
  const viaB = (a: { path: readonly { id: string; latencyMs: number }[] }[]) =>
    a[0]?.path.find((h) => h.id === B)?.latencyMs;
  r.resetLatency(B, 50); // applied at once: the last application is long ago
  const first = toC();
  assertEquals(first.length, n, "the routes via B moved by more than 2 ms and 10 %");
  assertEquals(viaB(first), 50);
  clock.t += 1000;
  r.resetLatency(B, 100); // within 5 s of the last one: waits for a tick after the 5 s
  r.tick();
  assertEquals(toC().length, 0);
  clock.t += BIG_TABLE_LATENCY_MS;
  r.tick();
  const later = toC();
  assertEquals(later.length, n);
  assertEquals(viaB(later), 100);
  // A small table follows every change at once.
  const small = setup();
  small.r.peerUp({ id: C, name: "c", external: false }, 5);
  small.r.receiveAnnounce(C, [route(prefix(1), [C, 5], [D, 1])]);
  small.r.flush();
  small.r.resetLatency(C, 50);
  assertEquals(small.r.pending, true);
});
