import { assertEquals } from "../../tests/_harness/assert.ts";
import { type Candidate, compareCandidates, decide } from "./decision.ts";

const ID = (c: string) => c.repeat(64);
function cand(peer: string, ...lat: number[]): Candidate {
  const path = lat.map((l, i) => ({ id: i === 0 ? ID(peer) : ID(String(i)), latencyMs: l }));
  return { peer: ID(peer), path, metricUs: lat.reduce((s, l) => s + l * 1000, 0) };
}

Deno.test("decide() picks the lowest total latency and says so", () => {
  const d = decide([cand("b", 10, 10), cand("c", 5, 20), cand("d", 3, 3, 3)], undefined, 0);
  assertEquals(d?.best.peer, ID("d"));
  assertEquals(d?.reason, "lowest latency");
});

Deno.test("decide() breaks a latency tie by the shorter path", () => {
  const d = decide([cand("b", 5, 5), cand("c", 10)], undefined, 0);
  assertEquals(d?.best.peer, ID("c"));
  assertEquals(d?.reason, "shorter path");
});

Deno.test("decide() breaks a full tie by the lowest next-hop PeerId", () => {
  const d = decide([cand("c", 7), cand("b", 7), cand("d", 7)], undefined, 0);
  assertEquals(d?.best.peer, ID("b"));
  assertEquals(d?.reason, "lowest next-hop id");
});

Deno.test("decide() reports a single candidate as the only route, and none as undefined", () => {
  assertEquals(decide([cand("b", 1)], undefined, 10_000)?.reason, "only route");
  assertEquals(decide([], undefined, 0), undefined);
});

Deno.test("decide() keeps a working incumbent unless the challenger is at least the hysteresis better", () => {
  const cands = [cand("b", 20), cand("c", 12)];
  // 8 ms better, hysteresis 10 ms: keep b.
  const kept = decide(cands, ID("b"), 10_000);
  assertEquals([kept?.best.peer, kept?.reason], [ID("b"), "hysteresis"]);
  // Exactly 10 ms better: switch.
  const sw = decide([cand("b", 22), cand("c", 12)], ID("b"), 10_000);
  assertEquals([sw?.best.peer, sw?.reason], [ID("c"), "lowest latency"]);
  // Hysteresis off: switch on any improvement.
  assertEquals(decide(cands, ID("b"), 0)?.best.peer, ID("c"));
  // An incumbent that is gone does not hold.
  assertEquals(decide([cand("c", 12)], ID("b"), 10_000)?.best.peer, ID("c"));
});

Deno.test("decide() leaves a detour for a route that is both faster and shorter, within the hysteresis", () => {
  // A direct link to the owner (1 hop, 1 ms) appears after a 3-hop detour (3 ms) was chosen.
  const detour = cand("b", 1, 1, 1);
  const direct = cand("d", 1);
  const d = decide([detour, direct], ID("b"), 10_000);
  assertEquals([d?.best.peer, d?.reason], [ID("d"), "lowest latency"]);
  // The reverse does not flap back: the longer route must be a full 10 ms faster.
  const back = decide([cand("b", 0.2, 0.2, 0.2), direct], ID("d"), 10_000);
  assertEquals([back?.best.peer, back?.reason], [ID("d"), "hysteresis"]);
});

Deno.test("decide() does not depend on the order of the candidates", () => {
  const cs = [cand("e", 9), cand("b", 4, 5), cand("d", 9), cand("c", 3, 3, 3)];
  const want = decide(cs, undefined, 0);
  for (let i = 0; i < cs.length; i++) {
    const rotated = [...cs.slice(i), ...cs.slice(0, i)];
    assertEquals(decide(rotated, undefined, 0)?.best.peer, want?.best.peer);
    assertEquals(decide(rotated.reverse(), undefined, 0)?.best.peer, want?.best.peer);
  }
  assertEquals(want?.best.peer, ID("d"));
});

Deno.test("compareCandidates() names the deciding rule", () => {
  assertEquals(compareCandidates(cand("b", 1), cand("c", 2)).reason, "lowest latency");
  assertEquals(compareCandidates(cand("b", 1), cand("b", 1)), { order: 0, reason: undefined });
});
