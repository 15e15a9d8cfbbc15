import { assert, assertEquals } from "../../tests/_harness/assert.ts";
import type { Ipv6Prefix } from "../net/mod.ts";
import { EXPIRY_SLICE } from "./router.ts";
import { MAX_RECEIVE_QUEUED, RECEIVE_SLICE } from "./receive_queue.ts";
import { ID, route, setup } from "../../tests/_harness/router_fixture.ts";
import type { Route } from "./route.ts";

const B = ID("b"), C = ID("c"), D = ID("d");

const prefix = (i: number) => `fd01:0:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64`;
const routesVia = (from: string, n: number, first = 0): Route[] =>
  Array.from({ length: n }, (_, i) => route(prefix(first + i), [from, 5], [D, 1]));

/** 64 KiB withdraw payloads hold about 7 000 /64s: `n` prefixes in payloads of that size. */
function payloads<T>(items: T[], per = 7000): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += per) out.push(items.slice(i, i + per));
  return out;
}

/** A router with peers B and C and `n` routes learned from B. */
function withRoutes(n: number) {
  const s = setup({ maxRoutesPerPeer: 4 * n, maxRoutesPerOrigin: 4 * n, worseRouteHoldMs: 0 });
  s.r.peerUp({ id: B, name: "b", external: false }, 5);
  s.r.peerUp({ id: C, name: "c", external: false }, 5);
  const routes = routesVia(B, n);
  s.r.receiveAnnounce(B, routes);
  while (s.r.pending) s.r.flush();
  return { ...s, routes };
}

Deno.test("Router: a 20 000-prefix withdrawal received in one read is applied in bounded slices", () => {
  const n = 20_000;
  const { r, routes } = withRoutes(n);
  assertEquals(r.counts().routes, n);
  const prefixes: Ipv6Prefix[] = routes.map((x) => x.prefix);
  // Every payload of one session read arrives before the node flushes.
  for (const p of payloads(prefixes)) r.queueWithdraw(B, p);
  const left = () => r.counts().routes;
  assertEquals(n - left(), RECEIVE_SLICE, "one slice on arrival, however many payloads");
  assertEquals(r.receiveBacklog, n - RECEIVE_SLICE);
  let flushes = 0;
  let withdrawnAtC = 0;
  while (r.pending && flushes < 1000) {
    const before = left();
    const m = r.flush(4096);
    withdrawnAtC += m.messages.get(C)?.withdraw.length ?? 0;
    assert(before - left() <= RECEIVE_SLICE, `flush ${flushes}: ${before - left()} applied`);
    flushes++;
  }
  assertEquals(left(), 0);
  assertEquals(withdrawnAtC, n, "every prefix withdrawn from the other neighbour once");
  assert(flushes >= (n - RECEIVE_SLICE) / RECEIVE_SLICE, `${flushes} flushes`);
});

Deno.test("Router: queued payloads apply in order with direct calls, and die with the session", () => {
  const { r, routes } = withRoutes(3000);
  // Withdraw all, then announce the first 100 again: the re-announcement must win.
  r.queueWithdraw(B, routes.map((x) => x.prefix));
  r.queueAnnounce(B, routes.slice(0, 100));
  while (r.pending) r.flush(4096);
  assertEquals(r.counts().routes, 100);
  // A session that ends takes what it sent and was not applied yet with it.
  r.queueAnnounce(B, routesVia(B, 5000, 10_000));
  assertEquals(r.receiveBacklog, 5000 - RECEIVE_SLICE);
  r.peerDown(B);
  assertEquals(r.receiveBacklog, 0);
  r.peerUp({ id: B, name: "b", external: false }, 5);
  while (r.pending) r.flush(4096);
  assertEquals(r.counts().routes, 0, "nothing of the old session is applied to the new one");
  // Direct calls keep applying at once.
  r.receiveAnnounce(B, routesVia(B, 10));
  assertEquals(r.counts().routes, 10);
});

Deno.test("Router: a peer that sends faster than the router applies cannot grow the queue", () => {
  const s = setup({ maxRoutesPerPeer: 1 << 20, maxRoutesPerOrigin: 1 << 20 });
  s.r.peerUp({ id: B, name: "b", external: false }, 5);
  const batch = routesVia(B, 7000).map((x) => x.prefix);
  for (let i = 0; i < 100; i++) {
    s.r.queueWithdraw(B, batch);
    assert(s.r.receiveBacklog <= MAX_RECEIVE_QUEUED, `${s.r.receiveBacklog} items queued`);
  }
  assertEquals(s.r.receiveBacklog, MAX_RECEIVE_QUEUED);
});

Deno.test("Router: counts() and routesVia() follow every change (kept, not walked)", () => {
  const { r, clock } = withRoutes(50);
  const walk = () => {
    const t = r.table();
    const via = new Map<string, number>();
    for (const v of t) {
      const h = v.nextHop;
      if (h?.kind === "peer") via.set(h.id, (via.get(h.id) ?? 0) + 1);
    }
    return { routes: t.length, via };
  };
  const check = (what: string) => {
    const w = walk();
    assertEquals(r.counts().routes, w.routes, what);
    assertEquals(r.routesVia(), w.via, what);
  };
  check("learned");
  r.receiveAnnounce(C, routesVia(C, 30, 20));
  check("a second neighbour");
  r.updateLatency(C, 0.1);
  r.resetLatency(B, 80);
  while (r.pending) r.flush();
  check("latency moved routes between neighbours");
  r.addLocal(route(prefix(25), [B, 1]).prefix, "tun0");
  check("a local route wins");
  r.removeLocal(route(prefix(25), [B, 1]).prefix);
  check("and goes");
  r.peerDown(C);
  check("a neighbour down");
  clock.t += 61_000;
  r.tick();
  check("expired");
  assertEquals(r.counts(), { routes: 0, candidates: 0 });
});

Deno.test("Router.tick() checks a big table for expiry a slice per tick, and expires all of it", () => {
  const n = EXPIRY_SLICE * 2 + 100;
  const { r, clock } = withRoutes(n);
  clock.t += 61_000;
  r.tick();
  assertEquals(r.counts().routes, n - EXPIRY_SLICE, "one slice per tick");
  r.tick();
  r.tick();
  assertEquals(r.counts().routes, 0);
});

Deno.test("Router: a latency re-base of a big table runs in flush slices", () => {
  const n = 20_000;
  const { r } = withRoutes(n);
  r.resetLatency(B, 50);
  let flushes = 0, announced = 0;
  while (r.pending && flushes < 1000) {
    announced += r.flush(4096).messages.get(C)?.announce.length ?? 0;
    flushes++;
  }
  assertEquals(announced, n);
  assert(flushes >= n / 4096, `${flushes} flushes`);
});
