/**
 * A transit site's many prefixes through a chain (issue 16, "A hundred thousand prefixes", at
 * 20 000): every prefix arrives at the far end and leaves it again, payloads are filled, big
 * flushes are sliced, and the source tables' work grows linearly (counted, not timed).
 */
import { assert, assertEquals } from "./_harness/assert.ts";
import { RoutingSim } from "./_harness/routing_sim.ts";
import { MAX_ROUTE_PAYLOAD } from "../src/routing/mod.ts";

const N = 20_000;

function prefixes(n: number) {
  return Array.from({ length: n }, (_, i) => {
    const addr = new Uint8Array(16);
    addr.set([0xfd, 0x01, 0, 0, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff]);
    return { addr, len: 64 };
  });
}

Deno.test("20 000 prefixes cross a chain of four, come back out, in full payloads and linear work", () => {
  const sim = new RoutingSim(4, {
    hysteresisMs: 10,
    flushDelayMs: 10,
    maxRoutesPerOrigin: 2 * N,
    maxRoutesPerPeer: 2 * N,
    flushSlice: 4096,
  });
  for (let i = 0; i < 3; i++) sim.linkUp(i, i + 1, 10);
  sim.runUntilQuiet();
  const base = sim.nodes.map((n) => n.router.counts().routes);
  const steps0 = sim.nodes.map((n) => n.router.sources.steps);
  const ps = prefixes(N);
  sim.startRun();
  for (const p of ps) sim.nodes[0].router.addLocal(p, "tun0");
  sim.kick(0);
  const up = sim.runUntilQuiet();
  assertEquals(sim.nodes.map((n, i) => n.router.counts().routes - base[i]), [N, N, N, N]);
  // Each route of a 3-hop path is 2 + 8 + 3 × 36 bytes at most: payloads are (nearly) full.
  const perLink = Math.ceil((N * (2 + 8 + 3 * 36)) / MAX_ROUTE_PAYLOAD);
  assert(up.maxLinkMessages <= 2 * perLink + 3, `${up.maxLinkMessages} payloads on one link`);

  sim.startRun();
  for (const p of ps) sim.nodes[0].router.removeLocal(p);
  sim.kick(0);
  const down = sim.runUntilQuiet();
  assertEquals(sim.nodes.map((n, i) => n.router.counts().routes - base[i]), [0, 0, 0, 0]);
  assert(down.maxLinkMessages <= 2 * Math.ceil(N * 9 / MAX_ROUTE_PAYLOAD) + 3 * 8);
  // Every prefix entered and left each source table once: O(1) amortized steps each (a chunk
  // splice and the entry), where one flat sorted array took O(n) each (2 · 10⁸ here).
  sim.nodes.forEach((n, i) => {
    const steps = n.router.sources.steps - steps0[i];
    assert(steps <= 2 * N * 600, `node ${i}: ${steps} source-table steps for ${N} prefixes`);
  });
});
