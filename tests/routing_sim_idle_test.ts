/**
 * Idle control traffic stays bounded: a mesh with nothing changing sends only its periodic full
 * refreshes, even when every link's RTT samples jitter as they do on a loaded host (most
 * answers prompt, many delayed by a busy event loop or scheduler). Counted in messages over
 * simulated time (the real `Router`s and wire codec of tests/_harness/routing_sim.ts), so the
 * bound does not depend on the machine's speed or load.
 *
 * Before the link latency followed the floor of its samples and small metric changes waited
 * for the refresh, the same run sent thousands of payloads: each delayed ping moved a link's
 * advertised latency and the change was passed on by every node downstream.
 */
import { assert } from "./_harness/assert.ts";
import { RoutingSim, simRandom } from "./_harness/routing_sim.ts";
import { ringChords } from "./_harness/topology.ts";

const NODES = 12;
const BASE_MS = 0.3;

Deno.test("an idle mesh with jittery RTT samples sends only its periodic refreshes", () => {
  const sim = new RoutingSim(NODES);
  const links = ringChords(NODES, 4);
  for (const [a, b] of links) sim.linkUp(a, b, BASE_MS);
  sim.runUntilQuiet();
  const rand = simRandom(16);
  // One sample per second per link end; 30 % of them late by up to 25 ms (a busy host).
  const sample = () => BASE_MS + (rand() < 0.3 ? rand() * 25 : rand() * 0.1);
  const seconds = 120;
  sim.startRun();
  const start = Math.ceil(sim.now / 1000) * 1000;
  for (let s = 1; s <= seconds; s++) {
    for (const [a, b] of links) {
      sim.nodes[a].router.updateLatency(sim.nodes[b].id, sample());
      sim.nodes[b].router.updateLatency(sim.nodes[a].id, sample());
      sim.kick(a);
      sim.kick(b);
    }
    sim.runWithTicks(start + s * 1000);
  }
  const stats = sim.stats();
  // Each node sends each neighbour its table every 30 s (one payload for this small table):
  // 2 payloads per link per 30 s. Allow one extra round and a few real changes on top.
  const refreshes = 2 * links.length * (seconds / 30 + 1);
  assert(
    stats.messages <= refreshes + 2 * links.length,
    `${stats.messages} payloads in ${seconds} s of idle (refreshes alone: ${refreshes})`,
  );
});

Deno.test("a lasting change of a link's latency still reaches the whole mesh", () => {
  const sim = new RoutingSim(NODES);
  const links = ringChords(NODES, 4);
  for (const [a, b] of links) sim.linkUp(a, b, BASE_MS);
  sim.runUntilQuiet();
  // Node 0's links all become slow (e.g. its uplink got congested) for good.
  for (const [a, b] of links) if (a === 0 || b === 0) sim.setLatency(a, b, 40, 20);
  sim.runUntilQuiet();
  const far = sim.nodes[6];
  const route = far.router.table().find((r) => r.prefix === "fd00::/48");
  assert(route !== undefined, "node 6 has a route to node 0's prefix");
  assert(route.latencyMs !== undefined && route.latencyMs > 30, `metric ${route.latencyMs} ms`);
});
