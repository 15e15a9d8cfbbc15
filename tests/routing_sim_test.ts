/**
 * Multi-router simulations: convergence to shortest paths, loop freedom, failover.
 * Run with `deno test -A tests/routing_sim_test.ts`; figures are printed for docs/figures.md ("Routing convergence").
 */
import { assert, assertEquals } from "./_harness/assert.ts";
import { RoutingSim, simRandom, type SimStats } from "./_harness/routing_sim.ts";
import { runScale } from "./_harness/sim_scale.ts";

const report = (name: string, s: SimStats) =>
  console.log(
    `  ${name}: converged in ${s.convergenceMs.toFixed(1)} ms simulated, ` +
      `${s.messages} messages, ${s.entries} route entries, ${s.bytes} bytes`,
  );

/**
 * Checks every live node reaches every live node's prefix (or has no route when unreachable),
 * along a loop-free FIB path whose real latency is the table's metric and within
 * `tolerancePerHop` × hops of the true shortest path.
 */
function checkConverged(sim: RoutingSim, tolerancePerHop: number): void {
  for (const src of sim.nodes) {
    if (!src.alive) continue;
    const dist = sim.shortest(src.index);
    const table = new Map(src.router.table().map((v) => [v.prefix, v]));
    for (const dst of sim.nodes) {
      const where = `n${src.index} → n${dst.index}`;
      const fwd = sim.forwardPath(src.index, sim.addressOf(dst.index));
      assert(fwd !== "loop", `${where}: forwarding loop`);
      if (!dst.alive || dist[dst.index] === Infinity) {
        assertEquals(fwd.length, 1, `${where}: unreachable node still has a route ${fwd}`);
        assert(src.router.fib.lookupAddress(sim.addressOf(dst.index)) === undefined, where);
        continue;
      }
      assertEquals(fwd[fwd.length - 1], dst.index, `${where}: FIB path ${fwd} ends elsewhere`);
      if (src === dst) continue;
      const real = sim.pathLatency(fwd);
      const view = table.get(RoutingSim.describe(dst.prefix))!;
      assert(
        Math.abs(view.latencyMs - real) < 1e-6,
        `${where}: metric ${view.latencyMs} ≠ ${real}`,
      );
      const slack = tolerancePerHop * (fwd.length - 1);
      assert(
        real <= dist[dst.index] + slack + 1e-6,
        `${where}: path ${fwd} costs ${real} ms, shortest is ${dist[dst.index]} ms`,
      );
    }
  }
}

Deno.test("routers on a chain of 8 learn every prefix along the only path", () => {
  const sim = new RoutingSim(8, { hysteresisMs: 0 });
  sim.startRun();
  for (let i = 0; i < 7; i++) sim.linkUp(i, i + 1, 10 + i);
  const s = sim.runUntilQuiet();
  checkConverged(sim, 0);
  report("chain of 8, cold start", s);
  // Cutting the middle splits the chain; both halves drop the other's prefixes.
  sim.startRun();
  sim.linkDown(3, 4);
  const s2 = sim.runUntilQuiet();
  checkConverged(sim, 0);
  report("chain of 8, middle link cut", s2);
});

Deno.test("routers on a ring of 10 take the shorter way round and fail over when a link breaks", () => {
  const sim = new RoutingSim(10, { hysteresisMs: 0 });
  sim.startRun();
  for (let i = 0; i < 10; i++) sim.linkUp(i, (i + 1) % 10, 5 + (i * 7) % 11);
  report("ring of 10, cold start", sim.runUntilQuiet());
  checkConverged(sim, 0);
  sim.startRun();
  sim.linkDown(0, 1);
  report("ring of 10, one link cut", sim.runUntilQuiet());
  checkConverged(sim, 0);
});

Deno.test("a diamond fails over to the slower branch at once and back with hysteresis", () => {
  // 0 - 1 - 3 (fast: 5 + 5), 0 - 2 - 3 (slow: 20 + 20)
  const sim = new RoutingSim(4, { hysteresisMs: 10 });
  sim.linkUp(0, 1, 5);
  sim.linkUp(1, 3, 5);
  sim.linkUp(0, 2, 20);
  sim.linkUp(2, 3, 20);
  sim.runUntilQuiet();
  checkConverged(sim, 0);
  assertEquals(sim.forwardPath(0, sim.addressOf(3)), [0, 1, 3]);
  sim.startRun();
  sim.linkDown(1, 3);
  // Node 1 switched at once (its only other way is back through 0): the FIB never loops.
  const s = sim.runUntilQuiet();
  report("diamond, fast branch cut", s);
  assertEquals(sim.forwardPath(0, sim.addressOf(3)), [0, 2, 3]);
  checkConverged(sim, 0);
  sim.startRun();
  sim.linkUp(1, 3, 5);
  report("diamond, fast branch restored", sim.runUntilQuiet());
  assertEquals(sim.forwardPath(0, sim.addressOf(3)), [0, 1, 3]);
  checkConverged(sim, 0);
  // A 4 ms improvement elsewhere is not enough to move a working route (hysteresis 10 ms).
  sim.setLatency(0, 2, 1);
  sim.setLatency(2, 3, 5);
  sim.runUntilQuiet();
  assertEquals(sim.forwardPath(0, sim.addressOf(3)), [0, 1, 3]);
  checkConverged(sim, 10);
});

function randomGraph(n: number, extra: number, seed: number, hysteresisMs: number) {
  const rand = simRandom(seed);
  const sim = new RoutingSim(n, { hysteresisMs });
  const edges: [number, number, number][] = [];
  const has = new Set<string>();
  const add = (a: number, b: number) => {
    const k = a < b ? `${a}-${b}` : `${b}-${a}`;
    if (a === b || has.has(k)) return;
    has.add(k);
    edges.push([a, b, 1 + Math.floor(rand() * 50)]);
  };
  for (let i = 1; i < n; i++) add(i, Math.floor(rand() * i)); // a random spanning tree
  while (edges.length < n - 1 + extra) add(Math.floor(rand() * n), Math.floor(rand() * n));
  sim.startRun();
  for (const [a, b, l] of edges) sim.linkUp(a, b, l);
  return { sim, edges, rand };
}

for (const hysteresisMs of [0, 10]) {
  Deno.test(`50 routers on a random graph converge to shortest paths (hysteresis ${hysteresisMs} ms) and survive failures`, () => {
    const { sim, edges, rand } = randomGraph(50, 50, 2026 + hysteresisMs, hysteresisMs);
    report(`random 50 nodes/99 links h=${hysteresisMs}, cold start`, sim.runUntilQuiet());
    checkConverged(sim, hysteresisMs);
    // Three link failures, one at a time.
    for (let k = 0; k < 3; k++) {
      const [a, b] = edges[Math.floor(rand() * edges.length)];
      sim.startRun();
      sim.linkDown(a, b);
      report(`random 50 h=${hysteresisMs}, link ${a}-${b} down`, sim.runUntilQuiet());
      checkConverged(sim, hysteresisMs);
    }
    // The busiest node fails.
    const degree = sim.nodes.map((n) =>
      [...sim.links.keys()].filter((k) => k.split("-").includes(String(n.index))).length
    );
    const hub = degree.indexOf(Math.max(...degree));
    sim.startRun();
    sim.nodeDown(hub);
    report(
      `random 50 h=${hysteresisMs}, node ${hub} (degree ${degree[hub]}) down`,
      sim.runUntilQuiet(),
    );
    checkConverged(sim, hysteresisMs);
  });
}

Deno.test("a route from a silently vanished node expires after the 60 s timeout", () => {
  const sim = new RoutingSim(3, { hysteresisMs: 0 });
  sim.linkUp(0, 1, 10);
  sim.linkUp(1, 2, 10);
  sim.runUntilQuiet();
  // Node 1 keeps re-announcing (refresh every 30 s), so routes stay for minutes.
  sim.runWithTicks(sim.now + 150_000);
  checkConverged(sim, 0);
  // Node 2 stops talking without its session closing: its prefix ages out at node 1, then 0.
  sim.nodes[2].alive = false;
  sim.runWithTicks(sim.now + 95_000);
  assertEquals(sim.nodes[0].router.fib.lookupAddress(sim.addressOf(2)), undefined);
  assertEquals(sim.nodes[1].router.fib.lookupAddress(sim.addressOf(2)), undefined);
});

Deno.test("200 routers on a random geometric graph re-converge after failures within 1 s, 5 messages per link, and without lasting loops", () => {
  const r = runScale({
    nodes: 200,
    seed: 7,
    linkFailures: 3,
    nodeFailures: 2,
    loopSample: 8,
    checkSources: 10,
    // Same payloads and counts without encoding them (the tests above go through the codec).
    wire: false,
  });
  const events = [r.cold, ...r.linkFailures, ...r.linkRepairs, ...r.nodeFailures, ...r.nodeRepairs];
  for (const e of events) {
    console.log(
      `  geometric 200 nodes/${r.links} links, ${e.event}: ${
        e.stats.convergenceMs.toFixed(0)
      } ms, ` +
        `${e.messagesPerLink.toFixed(2)} messages per link, ${e.loops.lasting} transient loops ` +
        `(longest ${e.loops.maxDurationMs.toFixed(0)} ms)`,
    );
    assertEquals(e.problems, [], `${e.event}: paths after convergence`);
    assertEquals(e.loops.open, 0, `${e.event}: a forwarding loop outlived convergence`);
  }
  for (const e of [...r.linkFailures, ...r.nodeFailures]) {
    assert(e.stats.convergenceMs <= 1000, `${e.event}: ${e.stats.convergenceMs} ms > 1 s`);
    assert(e.messagesPerLink <= 5, `${e.event}: ${e.messagesPerLink} messages per link > 5`);
  }
});
