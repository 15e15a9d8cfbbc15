import { assert, assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import { parseIpv6 } from "../net/mod.ts";
import type { Route } from "./route.ts";
import { hopOf, ID, P, route, setup, texts } from "../../tests/_harness/router_fixture.ts";

const A = ID("a"), B = ID("b"), C = ID("c"), D = ID("d"), E = ID("e");

Deno.test("Router announces a local prefix to every peer with its own hop first", () => {
  const { r } = setup();
  r.peerUp({ id: B, name: "b", external: false }, 5);
  r.addLocal(P("fd00:a::/48"), "tun0");
  assertEquals(hopOf(r, "fd00:a::1"), { kind: "local", target: "tun0" });
  const f = r.flush();
  assert(f.fibChanged);
  assertEquals(f.messages.get(B)?.announce, [route("fd00:a::/48", [A, 5])]);
  assert(!r.pending);
  assertEquals(r.flush().messages.size, 0);
});

Deno.test("Router installs a learned route and passes it on, never back to its only source", () => {
  const { r, clock } = setup();
  r.peerUp({ id: B, name: "b", external: false }, 5);
  r.peerUp({ id: C, name: "c", external: false }, 7);
  r.flush();
  const res = r.receiveAnnounce(B, [route("fd00:d::/48", [B, 5], [D, 4])]);
  assertEquals(res.accepted, 1);
  assertEquals(hopOf(r, "fd00:d::9"), { kind: "peer", id: B });
  const f = r.flush();
  assertEquals(f.messages.get(C)?.announce, [route("fd00:d::/48", [A, 7], [B, 5], [D, 4])]);
  // Not even poisoned: nobody but B could send us D's traffic (router_poison_test.ts).
  assertEquals(f.messages.get(B), undefined);
  clock.t += 1000;
  assertEquals(r.flush().messages.size, 0);
});

Deno.test("Router refuses routes with a wrong first hop, a loop, a repeated node, bad latency or too many hops", () => {
  const { r } = setup();
  r.peerUp({ id: B, name: "b", external: false }, 5);
  const long: [string, number][] = [
    [B, 1],
    ...Array.from({ length: 64 }, (_, i) =>
      [
        (i + 16).toString(16).padStart(2, "0").repeat(32),
        1,
      ] as [string, number]),
  ];
  const bad = [
    route("fd00:1::/48", [C, 1]),
    route("fd00:2::/48", [B, 1], [A, 1]),
    route("fd00:3::/48", [B, 1], [C, 1], [B, 1]),
    route("fd00:4::/48", [B, -1]),
    route("fd00:5::/48", [B, NaN]),
    route("fd00:6::/48", ...long),
    route("fd00:7::/48"),
    { prefix: { addr: parseIpv6("fd00::1"), len: 16 }, path: [{ id: B, latencyMs: 1 }] },
  ];
  const res = r.receiveAnnounce(B, bad);
  // fd00:2::/48 (only a loop) is a poisoned announcement: feasible only, never a route.
  assertEquals([res.accepted, res.rejected, res.feasibleOnly], [0, 7, 1]);
  assertEquals(res.problems[0], "fd00:1::/48: first hop is not the announcing peer");
  assertEquals(res.problems[1], "fd00:3::/48: path visits a node twice");
  assertEquals(r.fib.size, 0);
  // A loop with anything else wrong is refused for the other fault.
  const loopAndBad = r.receiveAnnounce(B, [route("fd00:8::/48", [B, 1], [A, -1])]);
  assertEquals([loopAndBad.rejected, loopAndBad.feasibleOnly], [1, 0]);
  assertEquals(loopAndBad.problems[0], "fd00:8::/48: hop latency -1 ms is not in 0..4294967.295");
});

Deno.test("Router treats a refused re-announcement as a withdrawal of the earlier route", () => {
  const { r } = setup();
  r.peerUp({ id: B, name: "b", external: false }, 5);
  r.receiveAnnounce(B, [route("fd00:d::/48", [B, 3], [D, 4])]);
  assert(r.fib.size === 1);
  r.receiveAnnounce(B, [route("fd00:d::/48", [B, 3], [A, 4])]);
  assertEquals(r.fib.size, 0);
});

Deno.test("Router switches to the next best route at once when a peer goes down", () => {
  const { r } = setup({ hysteresisMs: 10, worseRouteHoldMs: 0 });
  r.peerUp({ id: B, name: "b", external: false }, 10);
  r.peerUp({ id: C, name: "c", external: false }, 15);
  r.peerUp({ id: D, name: "d", external: false }, 5);
  r.receiveAnnounce(B, [route("fd00:e::/48", [B, 10])]);
  r.receiveAnnounce(C, [route("fd00:e::/48", [C, 15])]);
  assertEquals(hopOf(r, "fd00:e::1"), { kind: "peer", id: B });
  r.flush();
  r.peerDown(B);
  assertEquals(hopOf(r, "fd00:e::1"), { kind: "peer", id: C });
  const f = r.flush();
  assert(f.fibChanged);
  // D learns the new path; C had our route via B and now must drop it (split horizon).
  assertEquals(f.messages.get(D)?.announce, [route("fd00:e::/48", [A, 5], [C, 15])]);
  assertEquals(texts(f.messages.get(C)!.withdraw), ["fd00:e::/48"]);
  r.peerDown(C);
  assertEquals(hopOf(r, "fd00:e::1"), undefined);
  assertEquals(texts(r.flush().messages.get(D)!.withdraw), ["fd00:e::/48"]);
});

Deno.test("Router withdraws at once and announces a slower replacement route only after the hold", () => {
  const { r, clock } = setup({ hysteresisMs: 10, worseRouteHoldMs: 100 });
  r.peerUp({ id: B, name: "b", external: false }, 10);
  r.peerUp({ id: C, name: "c", external: false }, 15);
  r.peerUp({ id: D, name: "d", external: false }, 5);
  r.receiveAnnounce(B, [route("fd00:e::/48", [B, 10])]);
  r.receiveAnnounce(C, [route("fd00:e::/48", [C, 15])]);
  r.flush();
  r.peerDown(B);
  // The FIB uses the slower route at once; the neighbours are only told the old one is gone.
  assertEquals(hopOf(r, "fd00:e::1"), { kind: "peer", id: C });
  const f = r.flush();
  assertEquals(f.messages.get(D)?.announce ?? [], []);
  assertEquals(texts(f.messages.get(D)!.withdraw), ["fd00:e::/48"]);
  assertEquals(texts(f.messages.get(C)!.withdraw), ["fd00:e::/48"]);
  assert(r.pending, "the held announcement keeps the router pending");
  clock.t += 50;
  assertEquals(r.flush().messages.size, 0);
  clock.t += 50;
  const later = r.flush();
  assertEquals(later.messages.get(D)?.announce, [route("fd00:e::/48", [A, 5], [C, 15])]);
  assertEquals(later.messages.get(C), undefined);
  assert(!r.pending);
});

Deno.test("Router ends the hold early when a route faster than the lost one wins on its merits", () => {
  const { r } = setup({ hysteresisMs: 10, worseRouteHoldMs: 100 });
  r.peerUp({ id: B, name: "b", external: false }, 10);
  r.peerUp({ id: C, name: "c", external: false }, 15);
  r.peerUp({ id: D, name: "d", external: false }, 4);
  r.receiveAnnounce(B, [route("fd00:e::/48", [B, 10])]);
  r.receiveAnnounce(C, [route("fd00:e::/48", [C, 15])]);
  r.flush();
  r.receiveAnnounce(B, [route("fd00:e::/48", [B, 10], [E, 20])]); // B now hunts a longer path
  assertEquals(hopOf(r, "fd00:e::1"), { kind: "peer", id: C });
  assertEquals(r.flush().messages.get(D)?.announce ?? [], []);
  r.receiveAnnounce(D, [route("fd00:e::/48", [D, 4])]);
  assertEquals(r.flush().messages.get(B)?.announce, [route("fd00:e::/48", [A, 10], [D, 4])]);
});

Deno.test("Router does not hold back a route whose path stays the same while its latency grows", () => {
  const { r } = setup({ hysteresisMs: 10, worseRouteHoldMs: 100 });
  r.peerUp({ id: B, name: "b", external: false }, 10);
  r.peerUp({ id: C, name: "c", external: false }, 5);
  r.receiveAnnounce(B, [route("fd00:e::/48", [B, 10], [E, 1])]);
  r.flush();
  r.receiveAnnounce(B, [route("fd00:e::/48", [B, 10], [E, 30])]);
  assertEquals(r.flush().messages.get(C)?.announce, [
    route("fd00:e::/48", [A, 5], [B, 10], [E, 30]),
  ]);
});

Deno.test("Router keeps the current route unless another is at least hysteresisMs faster", () => {
  const { r } = setup({ hysteresisMs: 10 });
  r.peerUp({ id: B, name: "b", external: false }, 5);
  r.peerUp({ id: C, name: "c", external: false }, 5);
  r.receiveAnnounce(B, [route("fd00:e::/48", [B, 5], [D, 30])]);
  r.receiveAnnounce(C, [route("fd00:e::/48", [C, 5], [D, 21])]);
  assertEquals(hopOf(r, "fd00:e::1"), { kind: "peer", id: B });
  assertEquals(r.table()[0].reason, "hysteresis");
  r.receiveAnnounce(C, [route("fd00:e::/48", [C, 5], [D, 20])]);
  assertEquals(hopOf(r, "fd00:e::1"), { kind: "peer", id: C });
  assertEquals(r.table()[0].reason, "lowest latency");
});

Deno.test("Router picks the lowest next-hop ID on a full tie, the same on every node", () => {
  for (const order of [[C, B], [B, C]]) {
    const { r } = setup({ hysteresisMs: 0 });
    for (const id of order) {
      r.peerUp({ id, name: id[0], external: false }, 5);
      r.receiveAnnounce(id, [route("fd00:e::/48", [id, 10])]);
    }
    assertEquals(hopOf(r, "fd00:e::1"), { kind: "peer", id: B });
  }
});

Deno.test("Router prefers a local route over any learned route", () => {
  const { r } = setup();
  r.peerUp({ id: B, name: "b", external: false }, 5);
  r.receiveAnnounce(B, [route("fd00:a::/48", [B, 0])]);
  r.addLocal(P("fd00:a::/48"), "svc");
  assertEquals(hopOf(r, "fd00:a::1"), { kind: "local", target: "svc" });
  assertEquals(r.table()[0].reason, "local route");
  r.removeLocal(P("fd00:a::/48"));
  assertEquals(hopOf(r, "fd00:a::1"), { kind: "peer", id: B });
});

Deno.test("Router refuses routes past maxRoutesPerPeer", () => {
  const { r } = setup({ maxRoutesPerPeer: 2 });
  r.peerUp({ id: B, name: "b", external: false }, 5);
  const res = r.receiveAnnounce(B, [
    route("fd00:1::/48", [B, 1]),
    route("fd00:2::/48", [B, 1]),
    route("fd00:3::/48", [B, 1]),
    route("fd00:1::/48", [B, 2]),
  ]);
  assertEquals([res.accepted, res.rejected], [3, 1]);
  assertEquals(r.fib.size, 2);
});

Deno.test("Router filters by the announcing peer's whitelist and re-filters on a new whitelist", () => {
  const wl = new Map([["b", [{ prefix: P("fd00:b::/32"), maxPrefixLen: 48 }]]]);
  const { r } = setup({ whitelist: wl });
  r.peerUp({ id: B, name: "b", external: false }, 5);
  r.peerUp({ id: C, name: "c", external: true }, 5);
  const res = r.receiveAnnounce(B, [route("fd00:b:1::/48", [B, 1]), route("fd00:c::/48", [B, 1])]);
  assertEquals([res.accepted, res.rejected], [1, 1]);
  assertEquals(r.receiveAnnounce(C, [route("fd00:c::/48", [C, 1])]).accepted, 0);
  r.flush();
  // Now b may announce fd00:c::/48 but not fd00:b::/32 routes; c (external) gets an entry.
  r.setWhitelist(
    new Map([
      ["b", [{ prefix: P("fd00:c::/32"), maxPrefixLen: 48 }]],
      ["c", [{ prefix: P("fd00:c::/32"), maxPrefixLen: 64 }]],
    ]),
  );
  assertEquals(hopOf(r, "fd00:b:1::1"), undefined);
  assertEquals(hopOf(r, "fd00:c::1"), { kind: "peer", id: B });
  assertEquals(r.table().map((v) => v.candidates), [2]);
  const f = r.flush();
  assert(f.fibChanged);
  assertEquals(texts(f.messages.get(C)!.withdraw), ["fd00:b:1::/48"]);
});

Deno.test("Router expires routes not refreshed within the timeout and refreshes peers every 30 s", () => {
  const { r, clock } = setup();
  r.peerUp({ id: B, name: "b", external: false }, 5);
  r.addLocal(P("fd00:a::/48"), "tun0");
  r.receiveAnnounce(B, [route("fd00:b::/48", [B, 1])]);
  r.flush();
  clock.t += 30_000;
  r.tick();
  assert(r.pending);
  assertEquals(r.flush().messages.get(B)?.announce, [route("fd00:a::/48", [A, 5])]);
  clock.t += 30_001;
  r.tick();
  assertEquals(hopOf(r, "fd00:b::1"), undefined);
  // A refreshed route does not expire.
  r.receiveAnnounce(B, [route("fd00:b::/48", [B, 1])]);
  clock.t += 40_000;
  r.tick();
  r.receiveAnnounce(B, [route("fd00:b::/48", [B, 1])]);
  clock.t += 40_000;
  r.tick();
  assertEquals(hopOf(r, "fd00:b::1"), { kind: "peer", id: B });
});

Deno.test("Router re-announces routes through a link only when its latency floor moves enough", () => {
  const { r } = setup({ worseRouteHoldMs: 0 });
  r.peerUp({ id: B, name: "b", external: false }, 20);
  r.peerUp({ id: C, name: "c", external: false }, 5);
  r.addLocal(P("fd00:a::/48"), "tun0");
  r.receiveAnnounce(B, [route("fd00:b::/48", [B, 1])]);
  r.flush();
  // Jitter and one-off spikes (a busy host answering late) move nothing.
  for (const s of [21, 19, 22, 18, 80, 20, 19, 90, 21]) r.updateLatency(B, s);
  assert(!r.pending);
  // A lasting rise does: C hears of the route through B with the new first hop; B is not sent
  // anything (it measures the link itself and replaces our value for it).
  for (let i = 0; i < 6; i++) r.updateLatency(B, 80);
  assert(r.linkLatency(B)! > 25);
  const m = r.flush().messages;
  assertEquals(m.get(B), undefined);
  const ann = m.get(C)!.announce;
  assertEquals(ann.map((a) => a.path.map((h) => h.id)), [[A, B]]);
  assertEquals(ann[0].path[1].latencyMs, r.linkLatency(B));
});

Deno.test("Router passes on a small latency change of the same path only with the refresh", () => {
  const { r, clock } = setup({ worseRouteHoldMs: 0 });
  r.peerUp({ id: B, name: "b", external: false }, 5);
  r.peerUp({ id: D, name: "d", external: false }, 5);
  r.receiveAnnounce(B, [route("fd00:c::/48", [B, 1], [C, 40])]);
  assertEquals(r.flush().messages.get(D)!.announce.length, 1);
  // Path metric 45 → 47.5 → 48.9 ms: each step and their sum stay within 2 ms or 10 % of the
  // 45 ms announced: nothing to send (before, every step went to every neighbour, and on).
  r.receiveAnnounce(B, [route("fd00:c::/48", [B, 1], [C, 42.5])]);
  r.receiveAnnounce(B, [route("fd00:c::/48", [B, 1], [C, 43.9])]);
  assert(!r.pending);
  // The refresh carries the current value.
  clock.t += 30_000;
  r.tick();
  const refresh = r.flush().messages.get(D)!.announce;
  assertEquals(refresh.map((a) => a.path.map((h) => h.latencyMs)), [[5, 5, 43.9]]);
  // A significant move (more than 2 ms and 10 % of the 45 ms last announced) goes out at once.
  r.receiveAnnounce(B, [route("fd00:c::/48", [B, 1], [C, 44.4])]);
  assert(!r.pending, "4.4 ms of 45 ms is under 10 %");
  r.receiveAnnounce(B, [route("fd00:c::/48", [B, 1], [C, 47])]);
  const ann = r.flush().messages.get(D)!.announce;
  assertEquals(ann.map((a) => a.path.map((h) => h.latencyMs)), [[5, 5, 47]]);
});

Deno.test("Router.resetLatency() re-decides with the measured latency at once", () => {
  const { r } = setup({ worseRouteHoldMs: 0 });
  r.peerUp({ id: B, name: "b", external: false }, 100);
  r.peerUp({ id: C, name: "c", external: false }, 100);
  r.receiveAnnounce(B, [route("fd00:b::/48", [B, 1])]);
  r.receiveAnnounce(C, [route("fd00:b::/48", [C, 1])]);
  r.flush();
  r.resetLatency(B, 2);
  assertEquals(r.linkLatency(B), 2);
  const m = r.flush().messages;
  assertEquals(m.get(B), undefined, "B measures the link itself: nothing to tell it");
  assertEquals(m.get(C)!.announce.map((a) => a.path.map((h) => [h.id, h.latencyMs])), [
    [[A, 100], [B, 2]],
  ]);
  r.resetLatency(B, 2);
  assert(!r.pending);
});

Deno.test("Router sends only changes: an unchanged re-announcement produces nothing", () => {
  const { r } = setup({ worseRouteHoldMs: 0 });
  r.peerUp({ id: B, name: "b", external: false }, 5);
  r.peerUp({ id: C, name: "c", external: false }, 5);
  r.receiveAnnounce(B, [route("fd00:b::/48", [B, 1])]);
  r.flush();
  r.receiveAnnounce(B, [route("fd00:b::/48", [B, 1])]);
  assert(!r.pending);
  r.receiveAnnounce(B, [route("fd00:b::/48", [B, 1], [D, 2])]);
  assertEquals(r.flush().messages.get(C)?.announce, [
    route("fd00:b::/48", [A, 5], [B, 5], [D, 2]),
  ]);
});

Deno.test("Router.flush() sends a neighbour that just came up everything it should hold", () => {
  const { r } = setup();
  r.peerUp({ id: B, name: "b", external: false }, 5);
  r.addLocal(P("fd00:a::/48"), "tun0");
  r.receiveAnnounce(B, [route("fd00:b::/48", [B, 1])]);
  r.flush();
  r.peerUp({ id: C, name: "c", external: false }, 6);
  assertEquals(r.flush().messages.get(C)?.announce, [
    route("fd00:a::/48", [A, 6]),
    route("fd00:b::/48", [A, 6], [B, 5]),
  ]);
  assertEquals(r.flush().messages.get(C), undefined);
});

Deno.test("Router.table() names hops it knows and says why each route won", () => {
  const { r } = setup();
  r.peerUp({ id: B, name: "bee", external: false }, 5);
  r.receiveAnnounce(B, [route("fd00:d::/48", [B, 3], [D, 4.5])]);
  r.addLocal(P("fd00:a::/48"), "tun0");
  const t = r.table();
  assertEquals(t.map((v) => v.prefix), ["fd00:a::/48", "fd00:d::/48"]);
  assertEquals(t[1].nextHop, { kind: "peer", id: B, name: "bee" });
  assertEquals(t[1].latencyMs, 9.5); // our 5 ms to B (its claim of 3 is ignored) + 4.5
  assertEquals(t[1].path.map((h) => h.name), ["bee", undefined]);
  assertEquals(t[1].reason, "only route");
});

Deno.test("Router ignores routes from peers that are not up and refuses to peer with itself", () => {
  const { r } = setup();
  assertEquals(r.receiveAnnounce(B, [route("fd00:b::/48", [B, 1])]).rejected, 1);
  assertThrows(() => r.peerUp({ id: A, name: "a", external: false }, 1), RangeError);
  assertThrows(() => r.peerUp({ id: B, name: "b", external: false }, -1), RangeError);
});

Deno.test("Router keeps every path intact when its shared-hop cache starts over", () => {
  const { r } = setup({ hysteresisMs: 0, maxRoutesPerOrigin: 65536 });
  r.peerUp({ id: B, name: "b", external: false }, 5);
  r.receiveAnnounce(B, [route("fd00:e::/48", [B, 1], [C, 2.5])]);
  // More distinct (node, latency) pairs than the cache holds (65 536): it starts over on the way.
  const many: Route[] = [];
  for (let i = 0; i < 25_000; i++) {
    const p = `fd01:${(i & 0xffff).toString(16)}::/48`;
    many.push(route(p, [B, 1], [D, i / 1000], [E, (30000 + i) / 1000], [C, (60000 + i) / 1000]));
  }
  r.receiveAnnounce(B, many);
  const t = new Map(r.table().map((v) => [v.prefix, v]));
  assertEquals(t.get("fd00:e::/48")!.path.map((h) => h.latencyMs), [5, 2.5]);
  assertEquals(t.get("fd01:1234::/48")!.path.map((h) => h.latencyMs), [5, 4.66, 34.66, 64.66]);
  assertEquals(t.get("fd01:61a7::/48")!.path.map((h) => h.latencyMs), [5, 24.999, 54.999, 84.999]);
});

Deno.test("Router counts routes, candidates and next-hop changes for the metrics", () => {
  const { r } = setup();
  assertEquals(r.counts(), { routes: 0, candidates: 0 });
  assertEquals(r.routeChanges, 0);
  r.addLocal(P("fd00:a::/48"), "tun0");
  r.peerUp({ id: B, name: "b", external: false }, 5);
  r.peerUp({ id: C, name: "c", external: false }, 50);
  r.receiveAnnounce(B, [route("fd00:d::/48", [B, 5], [D, 4])]);
  assertEquals(r.routeChanges, 2, "two prefixes installed");
  r.receiveAnnounce(C, [route("fd00:d::/48", [C, 50], [D, 4])]);
  assertEquals(r.counts(), { routes: 2, candidates: 3 });
  assertEquals(r.routeChanges, 2, "a worse candidate changes no next hop");
  r.peerDown(B);
  assertEquals(hopOf(r, "fd00:d::1"), { kind: "peer", id: C });
  assertEquals(r.routeChanges, 3, "moved to C");
  assertEquals(r.counts(), { routes: 2, candidates: 2 });
  r.peerDown(C);
  r.removeLocal(P("fd00:a::/48"));
  assertEquals(r.routeChanges, 5, "both removed");
  assertEquals(r.counts(), { routes: 0, candidates: 0 });
});
