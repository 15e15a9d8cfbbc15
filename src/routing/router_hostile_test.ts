/**
 * Router behaviour against hostile neighbours: latency claims, per-origin quotas, the DC's
 * claimed space and our own prefixes, and the uRPF source table.
 */
import { assert, assertEquals } from "../../tests/_harness/assert.ts";
import { hopOf, ID, P, route, setup, src } from "../../tests/_harness/router_fixture.ts";

const B = ID("b"), C = ID("c"), M = ID("e"), O = ID("f"), X = ID("1");

Deno.test("Router ignores a neighbour's 0 ms claim for its own link: an honest, faster path wins", () => {
  const { r } = setup({ hysteresisMs: 10 });
  r.peerUp({ id: B, name: "b", external: false }, 20); // honest: we measure 20 ms to B
  r.peerUp({ id: M, name: "m", external: false }, 200); // we measure 200 ms to M
  r.receiveAnnounce(M, [route("fd00:f::/48", [M, 0], [O, 0])]);
  r.receiveAnnounce(B, [route("fd00:f::/48", [B, 20], [O, 5])]);
  assertEquals(hopOf(r, "fd00:f::1"), { kind: "peer", id: B });
  const best = r.table()[0];
  assertEquals(best.reason, "lowest latency");
  assertEquals(best.latencyMs, 25);
  // What we pass on carries our measurement of the A–B link, not B's word.
  r.peerUp({ id: C, name: "c", external: false }, 1);
  const f = r.flush();
  assertEquals(f.messages.get(C)?.announce.find((x) => x.path[1].id === B)?.path[1].latencyMs, 20);
});

Deno.test("Router re-decides routes with the new first-hop latency when its measurement of a link moves", () => {
  const { r } = setup({ hysteresisMs: 10 });
  r.peerUp({ id: B, name: "b", external: false }, 50);
  r.peerUp({ id: C, name: "c", external: false }, 20);
  r.receiveAnnounce(B, [route("fd00:f::/48", [B, 1], [O, 1])]);
  r.receiveAnnounce(C, [route("fd00:f::/48", [C, 1], [O, 1])]);
  assertEquals(hopOf(r, "fd00:f::1"), { kind: "peer", id: C });
  r.resetLatency(B, 2);
  assertEquals(hopOf(r, "fd00:f::1"), { kind: "peer", id: B });
  assertEquals(r.table()[0].latencyMs, 3);
});

Deno.test("Router counts routes per origin: a flooding origin behind B cannot crowd out another origin through B", () => {
  const { r } = setup({ maxRoutesPerOrigin: 10, maxRoutesPerPeer: 50 });
  r.peerUp({ id: B, name: "b", external: false }, 5);
  const flood = Array.from(
    { length: 50 },
    (_, i) => route(`fd00:${(0x100 + i).toString(16)}::/48`, [B, 1], [M, 1]),
  );
  const res = r.receiveAnnounce(B, flood);
  assertEquals([res.accepted, res.rejected], [10, 40]);
  const legit = r.receiveAnnounce(B, [route("fd00:c::/48", [B, 1], [C, 1])]);
  assertEquals(legit.accepted, 1);
  assertEquals(hopOf(r, "fd00:c::1"), { kind: "peer", id: B });
  // Re-announcing an accepted route of M does not count twice.
  assertEquals(r.receiveAnnounce(B, [flood[0]]).accepted, 1);
  assertEquals(r.quotaRefusals(), [{
    peer: "b",
    id: B,
    overPeerLimit: 0,
    byOrigin: [{ origin: M, count: 40 }],
  }]);
  // A withdrawal frees quota for that origin.
  r.receiveWithdraw(B, [flood[0].prefix]);
  assertEquals(r.receiveAnnounce(B, [flood[20]]).accepted, 1);
});

Deno.test("Router counts refusals over the per-peer limit", () => {
  const { r } = setup({ maxRoutesPerPeer: 2 });
  r.peerUp({ id: B, name: "b", external: false }, 5);
  r.receiveAnnounce(B, [
    route("fd00:1::/48", [B, 1]),
    route("fd00:2::/48", [B, 1]),
    route("fd00:3::/48", [B, 1]),
  ]);
  assertEquals(r.quotaRefusals()[0].overPeerLimit, 1);
});

const dcWhitelist = () =>
  new Map([["C.Vnet.Example.Com.", [{ prefix: P("fd00:c::/32"), maxPrefixLen: 48 }]]]);

Deno.test("Router under a DC refuses an unlisted neighbour any prefix overlapping a listed node's space", () => {
  const { r } = setup({ whitelist: dcWhitelist() });
  r.peerUp({ id: M, name: "m.vnet.example.com", external: false }, 5);
  const res = r.receiveAnnounce(M, [
    route("fd00:c::/32", [M, 1]), // equal
    route("fd00::/16", [M, 1]), // contains
    route("fd00:c:1::/48", [M, 1]), // inside
    route("fd00:d::/32", [M, 1]), // unclaimed: the Go behaviour, accepted
  ]);
  assertEquals([res.accepted, res.rejected], [1, 3]);
  assert(res.problems[0].includes(`whitelisted to "c.vnet.example.com"`), res.problems[0]);
  assertEquals(hopOf(r, "fd00:d::1"), { kind: "peer", id: M });
  assertEquals(hopOf(r, "fd00:c::1"), undefined);
});

Deno.test("Router matches DC whitelist keys as DNS names: key C.Vnet.Example.Com. limits node c.vnet.example.com", () => {
  const { r } = setup({ whitelist: dcWhitelist() });
  r.peerUp({ id: C, name: "c.vnet.example.com", external: false }, 5);
  const res = r.receiveAnnounce(C, [route("fd00:c:1::/48", [C, 1]), route("fd00:e::/48", [C, 1])]);
  assertEquals([res.accepted, res.rejected], [1, 1]);
  assertEquals(hopOf(r, "fd00:e::1"), undefined);
});

Deno.test("Router without a DC keeps the Go behaviour: an unlisted internal neighbour is not limited", () => {
  const { r } = setup();
  r.addLocal(P("fd00:a::/48"), "tun0");
  r.peerUp({ id: M, name: "m.vnet.example.com", external: false }, 5);
  assertEquals(r.receiveAnnounce(M, [route("fd00:a:0:1::/64", [M, 1])]).accepted, 1);
});

Deno.test("Router under a DC refuses an unlisted neighbour a more-specific of our local prefix", () => {
  const { r } = setup({ whitelist: dcWhitelist() });
  r.addLocal(P("fd00:a::/48"), "tun0");
  r.peerUp({ id: M, name: "m.vnet.example.com", external: false }, 5);
  const res = r.receiveAnnounce(M, [route("fd00:a:0:1::/64", [M, 1])]);
  assertEquals(res.accepted, 0);
  assert(res.problems[0].includes("inside this node's local prefix fd00:a::/48"));
  assertEquals(hopOf(r, "fd00:a:0:1::1"), { kind: "local", target: "tun0" });
});

Deno.test("Router drops an unlisted neighbour's more-specific when the DC or our local prefix arrives later", () => {
  const { r } = setup();
  r.peerUp({ id: M, name: "m.vnet.example.com", external: false }, 5);
  r.addLocal(P("fd00:a::/48"), "tun0");
  r.receiveAnnounce(M, [route("fd00:a:0:1::/64", [M, 1]), route("fd00:c:1::/48", [M, 1])]);
  assertEquals(r.fib.size, 3);
  r.setWhitelist(dcWhitelist());
  assertEquals(r.fib.size, 1);
  r.addLocal(P("fd00:b::/48"), "tun0");
  r.receiveAnnounce(M, [route("fd00:b:0:1::/64", [M, 1])]);
  assertEquals(hopOf(r, "fd00:b:0:1::1"), { kind: "local", target: "tun0" });
});

Deno.test("Router source table: every peer with a candidate is feasible, not only the best", () => {
  const { r } = setup();
  r.peerUp({ id: B, name: "b", external: false }, 5);
  r.peerUp({ id: C, name: "c", external: false }, 50);
  r.peerUp({ id: M, name: "m", external: false }, 5);
  r.addLocal(P("fd00:a::/48"), "tun0");
  r.receiveAnnounce(B, [route("fd00:d::/48", [B, 1], [X, 1])]);
  r.receiveAnnounce(C, [route("fd00:d::/48", [C, 1], [X, 1])]);
  r.flush();
  assertEquals(src(r, "fd00:d::5", B), "ok");
  assertEquals(src(r, "fd00:d::5", C), "ok"); // the backup path
  assertEquals(src(r, "fd00:d::5", M), "unfeasible");
  assertEquals(src(r, "fd00:e::5", B), "unfeasible");
  assertEquals(src(r, "fd00:a::5", B), "own");
  // Failover: B goes down; C's packets still pass, B's would not.
  r.peerDown(B);
  r.flush();
  assertEquals(src(r, "fd00:d::5", C), "ok");
  assertEquals(src(r, "fd00:d::5", B), "unfeasible");
  // A withdrawal removes feasibility.
  r.receiveWithdraw(C, [P("fd00:d::/48")]);
  r.flush();
  assertEquals(src(r, "fd00:d::5", C), "unfeasible");
});

Deno.test("Router source table: ::/0 through a peer makes any source feasible through it, except ours", () => {
  const { r } = setup();
  r.peerUp({ id: B, name: "b", external: false }, 5);
  r.peerUp({ id: C, name: "c", external: false }, 5);
  r.addLocal(P("fd00:a::/48"), "tun0");
  r.receiveAnnounce(B, [route("::/0", [B, 1], [X, 1])]);
  r.receiveAnnounce(C, [route("fd00:c::/48", [C, 1])]);
  r.flush();
  assertEquals(src(r, "2001:db8::1", B), "ok");
  assertEquals(src(r, "fd00:c::1", B), "ok"); // covered by B's ::/0
  assertEquals(src(r, "fd00:c::1", C), "ok");
  assertEquals(src(r, "2001:db8::1", C), "unfeasible");
  assertEquals(src(r, "fd00:a::1", B), "own");
});

Deno.test("Router under a DC does not guard its own whitelist entry against unlisted neighbours (it may carry transit)", () => {
  const wl = new Map([["a", [{ prefix: P("fd00::/16"), maxPrefixLen: 48 }]]]);
  const { r } = setup({ whitelist: wl });
  r.peerUp({ id: M, name: "m.vnet.example.com", external: false }, 5);
  assertEquals(r.receiveAnnounce(M, [route("fd00:e::/48", [M, 1])]).accepted, 1);
});
