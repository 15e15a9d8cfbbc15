/** The router's revoked-ID set: routes through a revoked node are dropped and refused. */
import { assert, assertEquals, assertStringIncludes } from "../../tests/_harness/assert.ts";
import { hopOf, ID, route, setup, src, texts } from "../../tests/_harness/router_fixture.ts";

const B = ID("b"), C = ID("c"), D = ID("d"), E = ID("e");

Deno.test("setRevoked drops learned routes whose path holds a revoked node and withdraws them", () => {
  const { r } = setup();
  r.peerUp({ id: B, name: "b", external: false }, 5);
  r.peerUp({ id: E, name: "e", external: false }, 5);
  r.receiveAnnounce(B, [
    route("fd00:c::/48", [B, 5], [C, 4]),
    route("fd00:d::/48", [B, 5], [C, 4], [D, 3]),
    route("fd00:b::/48", [B, 5]),
  ]);
  r.flush();
  assertEquals(hopOf(r, "fd00:d::1"), { kind: "peer", id: B });
  assertEquals(r.setRevoked(new Set([C])), 2);
  assertEquals(hopOf(r, "fd00:c::1"), undefined, "C's own prefix is gone");
  assertEquals(hopOf(r, "fd00:d::1"), undefined, "a path through C is gone");
  assertEquals(hopOf(r, "fd00:b::1"), { kind: "peer", id: B }, "B itself stays");
  assertEquals(texts(r.flush().messages.get(E)?.withdraw ?? []), ["fd00:c::/48", "fd00:d::/48"]);
  assertEquals(r.nodesInPaths().has(C), false);
});

Deno.test("announcements through a revoked node are refused, and accepted again once lifted", () => {
  const { r } = setup();
  r.peerUp({ id: B, name: "b", external: false }, 5);
  r.setRevoked(new Set([C]));
  const res = r.receiveAnnounce(B, [route("fd00:c::/48", [B, 5], [C, 4])]);
  assertEquals([res.accepted, res.rejected], [0, 1]);
  assertStringIncludes(res.problems[0], "revoked by the DC");
  assertEquals(hopOf(r, "fd00:c::1"), undefined);
  r.setRevoked(new Set());
  assertEquals(r.receiveAnnounce(B, [route("fd00:c::/48", [B, 5], [C, 4])]).accepted, 1);
  assertEquals(hopOf(r, "fd00:c::1"), { kind: "peer", id: B });
});

Deno.test("a poisoned announcement through a revoked node is not kept as feasible either", () => {
  const { r } = setup();
  r.peerUp({ id: B, name: "b", external: false }, 5);
  // B's route to C's prefix goes through us (A): feasible only for uRPF.
  const poisoned = route("fd00:c::/48", [B, 5], [ID("a"), 1], [C, 4]);
  assertEquals(r.receiveAnnounce(B, [poisoned]).feasibleOnly, 1);
  assertEquals(src(r, "fd00:c::1", B), "ok");
  r.setRevoked(new Set([C]));
  assert(src(r, "fd00:c::1", B) !== "ok", "the feasible-only entry of a revoked origin is gone");
  const again = r.receiveAnnounce(B, [poisoned]);
  assertEquals([again.feasibleOnly, again.rejected], [0, 1]);
});
