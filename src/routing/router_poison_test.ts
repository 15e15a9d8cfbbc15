/**
 * Poisoned announcements (a node's best route through a neighbour, sent to that neighbour) and
 * the "feasible only" entries they leave at the receiver for source address validation.
 */
import { assert, assertEquals } from "../../tests/_harness/assert.ts";
import { parseIpv6 } from "../net/mod.ts";
import {
  ID,
  P,
  route,
  setup as baseSetup,
  src,
  texts,
} from "../../tests/_harness/router_fixture.ts";
import type { RouterOptions } from "./router.ts";

const A = ID("a"), B = ID("b"), C = ID("c"), D = ID("d"), E = ID("e"), F = ID("f");

function setup(opts: Partial<RouterOptions> = {}) {
  const { r, clock } = baseSetup(opts);
  r.peerUp({ id: B, name: "b", external: false }, 5);
  r.peerUp({ id: C, name: "c", external: false }, 7);
  r.flush();
  return { r, clock };
}

// Sender.

Deno.test("Router sends a neighbour its route through that neighbour once, poisoned, and nothing more while it stays so", () => {
  const { r, clock } = setup();
  r.receiveAnnounce(C, [route("fd00:d::/48", [C, 1], [D, 50])]);
  r.flush();
  // A better route through B: B's copy of our route through C is withdrawn at once; the
  // poisoned route waits poisonDelayMs (300) for a ride, then goes alone.
  r.receiveAnnounce(B, [route("fd00:d::/48", [B, 5], [D, 4])]);
  assertEquals(r.flush().messages.get(B), { announce: [], withdraw: [P("fd00:d::/48")] });
  assert(r.pending, "a waiting poisoned route keeps the router pending");
  clock.t += 299;
  assertEquals(r.flush().messages.get(B), undefined);
  clock.t += 1;
  assertEquals(r.flush().messages.get(B), {
    announce: [route("fd00:d::/48", [A, 5], [B, 5], [D, 4])],
    withdraw: [],
  });
  assert(!r.pending);
  // The path and latency change, still through B: C hears it, B hears nothing, ever.
  r.receiveAnnounce(B, [route("fd00:d::/48", [B, 5], [E, 1], [D, 1])]);
  const second = r.flush();
  assertEquals(second.messages.get(C)?.announce, [
    route("fd00:d::/48", [A, 7], [B, 5], [E, 1], [D, 1]),
  ]);
  assertEquals(second.messages.get(B), undefined);
  assert(!r.pending);
  clock.t += 1000;
  assertEquals(r.flush().messages.size, 0);
  // The full refresh carries it (the receiver expires it like a route).
  clock.t += 29_000;
  r.tick();
  assertEquals(r.flush().messages.get(B)?.announce, [
    route("fd00:d::/48", [A, 5], [B, 5], [E, 1], [D, 1]),
  ]);
});

Deno.test("Router sends no poisoned route when no other neighbour could send it the prefix's traffic", () => {
  // A chain end: B is our only source for its prefix, so we could only send B's traffic
  // back to B (our own uRPF refuses it from anyone else); B learns nothing from us.
  const { r, clock } = setup();
  r.receiveAnnounce(B, [route("fd00:b::/48", [B, 1])]);
  const f = r.flush();
  assertEquals(f.messages.get(B), undefined);
  assertEquals(f.messages.get(C)?.announce, [route("fd00:b::/48", [A, 7], [B, 5])]);
  clock.t += 1000;
  assertEquals(r.flush().messages.size, 0);
  clock.t += 30_000;
  r.tick();
  assertEquals(r.flush().messages.get(B)?.announce ?? [], []);
});

Deno.test("Router lets a poisoned route ride along with an announcement the neighbour gets anyway", () => {
  const { r } = setup();
  r.peerUp({ id: D, name: "d", external: false }, 3);
  r.flush();
  // A route with B further down its path (learned from C) is poisoned for B; it waits.
  r.receiveAnnounce(C, [route("fd00:c::/48", [C, 1], [B, 1], [E, 1])]);
  assertEquals(r.flush().messages.get(B), undefined);
  // A route from D goes to B at once, and the waiting poisoned route with it.
  r.receiveAnnounce(D, [route("fd00:d::/48", [D, 1])]);
  assertEquals(r.flush().messages.get(B), {
    announce: [
      route("fd00:d::/48", [A, 5], [D, 3]),
      route("fd00:c::/48", [A, 5], [C, 7], [B, 1], [E, 1]),
    ],
    withdraw: [],
  });
});

Deno.test("Router replaces a poisoned announcement by a usable one at once, and withdraws it lazily", () => {
  const { r, clock } = setup({ hysteresisMs: 0, worseRouteHoldMs: 0 });
  r.receiveAnnounce(B, [route("fd00:f::/48", [B, 5], [F, 40])]);
  r.receiveAnnounce(C, [route("fd00:f::/48", [C, 1], [F, 1])]);
  const f = r.flush();
  assertEquals(f.messages.get(B)?.announce, [route("fd00:f::/48", [A, 5], [C, 7], [F, 1])]);
  assertEquals(f.messages.get(C), undefined);
  clock.t += 300;
  assertEquals(r.flush().messages.get(C)?.announce, [
    route("fd00:f::/48", [A, 7], [C, 7], [F, 1]),
  ]);
  // B withdraws: nobody but C could send us F's traffic now, so C's poisoned route is
  // withdrawn, lazily (it only matters to C's uRPF).
  r.receiveWithdraw(B, [P("fd00:f::/48")]);
  assertEquals(r.flush().messages.size, 0);
  clock.t += 300;
  assertEquals(r.flush().messages.get(C), { announce: [], withdraw: [P("fd00:f::/48")] });
  // B is back (C's poisoned route waits again); then C's route gets worse and the best moves
  // to B: C gets the usable route at once, and B's usable route is withdrawn at once.
  r.receiveAnnounce(B, [route("fd00:f::/48", [B, 5], [F, 40])]);
  assertEquals(r.flush().messages.size, 0);
  r.receiveAnnounce(C, [route("fd00:f::/48", [C, 1], [F, 100])]);
  const g = r.flush();
  assertEquals(g.messages.get(C), {
    announce: [route("fd00:f::/48", [A, 7], [B, 5], [F, 40])],
    withdraw: [],
  });
  assertEquals(g.messages.get(B), { announce: [], withdraw: [P("fd00:f::/48")] });
  clock.t += 300;
  assertEquals(r.flush().messages.get(B)?.announce, [
    route("fd00:f::/48", [A, 5], [B, 5], [F, 40]),
  ]);
  assert(!r.pending);
});

Deno.test("Router sends a poisoned route in place of a withdrawal when it can ride along at once", () => {
  const { r } = setup({ hysteresisMs: 0, worseRouteHoldMs: 0 });
  r.peerUp({ id: E, name: "e", external: false }, 3);
  r.receiveAnnounce(C, [route("fd00:d::/48", [C, 1], [D, 1])]);
  r.flush();
  // The best moves onto B while another route goes to B in the same flush: B gets the
  // poisoned route instead of a withdrawal of our route through C.
  r.receiveAnnounce(B, [route("fd00:d::/48", [B, 0], [D, 0])]);
  r.receiveAnnounce(E, [route("fd00:e::/48", [E, 1])]);
  const f = r.flush();
  assertEquals(f.messages.get(B)?.withdraw, []);
  assertEquals(texts(f.messages.get(B)!.announce.map((x) => x.prefix)), [
    "fd00:d::/48",
    "fd00:e::/48",
  ]);
});

// Receiver.

Deno.test("Router keeps a poisoned announcement as feasible only: the sender passes uRPF, never becomes a next hop", () => {
  const { r } = setup();
  r.receiveAnnounce(B, [route("fd00:b::/48", [B, 1])]);
  // C's best route to B's prefix goes through us.
  const res = r.receiveAnnounce(C, [route("fd00:b::/48", [C, 1], [A, 1], [B, 1])]);
  assertEquals([res.accepted, res.rejected, res.feasibleOnly], [0, 0, 1]);
  assertEquals(src(r, "fd00:b::1", C), "ok");
  assertEquals(src(r, "fd00:b::1", B), "ok");
  assertEquals(r.fib.lookupAddress(parseIpv6("fd00:b::1")), { kind: "peer", id: B });
  assertEquals(r.table().map((v) => v.candidates), [1]);
  // A feasible-only prefix with no route is in no table and announced to nobody.
  r.receiveAnnounce(C, [route("fd00:e::/48", [C, 1], [A, 1], [E, 1])]);
  assertEquals(src(r, "fd00:e::1", C), "ok");
  assertEquals(r.fib.lookupAddress(parseIpv6("fd00:e::1")), undefined);
  assertEquals(r.table().length, 1);
  const sent = [...r.flush().messages.values()].flatMap((m) => m.announce.map((x) => x.prefix));
  assertEquals(texts(sent), ["fd00:b::/48"]); // B's prefix to C (B's poisoned copy waits)
  // A neighbour with no route at all to a prefix is still no feasible source for it.
  assertEquals(src(r, "fd00:f::1", C), "unfeasible");
});

Deno.test("Router clears a feasible-only entry on withdrawal, usable or refused announcement, timeout and session down", () => {
  const { r, clock } = setup();
  const poisoned = route("fd00:e::/48", [C, 1], [A, 1], [E, 1]);
  const ok = () => src(r, "fd00:e::1", C);
  r.receiveAnnounce(C, [poisoned]);
  assertEquals(ok(), "ok");
  r.receiveWithdraw(C, [P("fd00:e::/48")]);
  assertEquals(ok(), "unfeasible");
  // A usable announcement replaces it (C becomes a candidate), a poisoned one comes back.
  r.receiveAnnounce(C, [poisoned]);
  r.receiveAnnounce(C, [route("fd00:e::/48", [C, 1], [E, 1])]);
  assertEquals(r.fib.lookupAddress(parseIpv6("fd00:e::1")), { kind: "peer", id: C });
  r.receiveAnnounce(C, [poisoned]);
  assertEquals(r.fib.lookupAddress(parseIpv6("fd00:e::1")), undefined);
  assertEquals(ok(), "ok");
  // A refused announcement (bad latency) clears it.
  const bad = r.receiveAnnounce(C, [route("fd00:e::/48", [C, 1], [A, -1], [E, 1])]);
  assertEquals(bad.rejected, 1);
  assertEquals(ok(), "unfeasible");
  // It expires like a route; a refresh keeps it.
  r.receiveAnnounce(C, [poisoned]);
  clock.t += 40_000;
  r.tick();
  r.receiveAnnounce(C, [poisoned]);
  clock.t += 40_000;
  r.tick();
  assertEquals(ok(), "ok");
  clock.t += 20_001;
  r.tick();
  assertEquals(ok(), "unfeasible");
  // Session down.
  r.receiveAnnounce(C, [poisoned]);
  r.peerDown(C);
  assertEquals(ok(), "unfeasible");
  r.flush();
  assert(!r.pending);
});

Deno.test("Router applies the DC filter to poisoned announcements: no feasibility for space the neighbour may not announce", () => {
  const wl = new Map([
    ["c", [{ prefix: P("fd00:c::/32"), maxPrefixLen: 48 }]],
    ["b", [{ prefix: P("fd00:b::/48"), maxPrefixLen: 48 }]],
  ]);
  const { r } = setup({ whitelist: wl });
  const res = r.receiveAnnounce(C, [
    route("fd00:b::/48", [C, 1], [A, 1], [B, 1]), // B's listed space: refused
    route("fd00:c:1::/48", [C, 1], [A, 1], [E, 1]), // inside C's entry: kept
  ]);
  assertEquals([res.rejected, res.feasibleOnly], [1, 1]);
  assertEquals(src(r, "fd00:b::1", C), "unfeasible");
  assertEquals(src(r, "fd00:c:1::1", C), "ok");
  // A new whitelist that no longer allows it removes it at once.
  r.setWhitelist(new Map([["c", [{ prefix: P("fd00:c:2::/48"), maxPrefixLen: 48 }]]]));
  assertEquals(src(r, "fd00:c:1::1", C), "unfeasible");
});

Deno.test("Router counts feasible-only entries against the per-peer and per-origin quotas", () => {
  const { r } = setup({ maxRoutesPerPeer: 3, maxRoutesPerOrigin: 2 });
  // Origin E: two fit, the third is refused; other origins still fit.
  const res = r.receiveAnnounce(C, [
    route("fd00:e:1::/48", [C, 1], [A, 1], [E, 1]),
    route("fd00:e:2::/48", [C, 1], [A, 1], [E, 1]),
    route("fd00:e:3::/48", [C, 1], [A, 1], [E, 1]),
    route("fd00:f:1::/48", [C, 1], [A, 1], [F, 1]),
  ]);
  assertEquals([res.feasibleOnly, res.rejected], [3, 1]);
  assertEquals(src(r, "fd00:e:3::1", C), "unfeasible");
  assertEquals(src(r, "fd00:f:1::1", C), "ok");
  // The per-peer limit (3) counts them with the usable routes.
  const more = r.receiveAnnounce(C, [route("fd00:d::/48", [C, 1], [D, 1])]);
  assertEquals(more.rejected, 1);
  assertEquals(r.quotaRefusals()[0].overPeerLimit, 1);
  // Withdrawing one frees its place.
  r.receiveWithdraw(C, [P("fd00:e:1::/48")]);
  assertEquals(r.receiveAnnounce(C, [route("fd00:d::/48", [C, 1], [D, 1])]).accepted, 1);
});
