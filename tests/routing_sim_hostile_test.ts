/**
 * A simulated mesh with a neighbour that announces 0 ms for every hop: the first hop's latency
 * is our own measurement, so it attracts no traffic it is not close enough to carry.
 */
import { assertEquals } from "./_harness/assert.ts";
import { RoutingSim } from "./_harness/routing_sim.ts";

Deno.test("a neighbour announcing 0 ms everywhere does not beat an honest path with lower measured latency", () => {
  // n0 reaches n3 through n1 (the liar, 200 ms away) or n2 (honest, 20 ms away); n4 hangs off n0.
  const sim = new RoutingSim(5);
  sim.liars.add(1);
  sim.linkUp(0, 1, 200);
  sim.linkUp(1, 3, 10);
  sim.linkUp(0, 2, 20);
  sim.linkUp(2, 3, 10);
  sim.linkUp(0, 4, 5);
  sim.startRun();
  sim.runUntilQuiet();
  assertEquals(sim.forwardPath(0, sim.addressOf(3)), [0, 2, 3]);
  assertEquals(sim.forwardPath(4, sim.addressOf(3)), [4, 0, 2, 3]);
  const view = sim.nodes[0].router.table().find((v) => v.prefix === "fd00:3::/48")!;
  assertEquals(view.latencyMs, 30);
  // The liar's own prefix: n3 passes it on with its own 10 ms for the n3–n1 link instead of
  // the liar's 0 ms, so n0 counts 20 + 10 + 10 through n2, not 0 through the liar.
  const toLiar = sim.nodes[0].router.table().find((v) => v.prefix === "fd00:1::/48")!;
  assertEquals(toLiar.latencyMs, 40);
  assertEquals(sim.forwardPath(0, sim.addressOf(1)), [0, 2, 3, 1]);
});
