/**
 * Source address validation (uRPF) with asymmetric routes, on simulated routers: the triangle
 * of the e2e demo, forced deterministically through each end's own link measurements, and
 * checked down to the forwarder.
 */
import { assertEquals } from "./_harness/assert.ts";
import { RoutingSim } from "./_harness/routing_sim.ts";
import { Forwarder } from "../src/dataplane/mod.ts";
import { packetBatchOf } from "../src/net/mod.ts";
import { CountingVif, udpHeaderPacket as packet } from "./_harness/packets.ts";

/**
 * a–b–c, each link measured differently by its two ends (as real nodes do): a's best route
 * to b is direct, b's best route to a goes through c, and c's best route to b goes through a,
 * so by split horizon c never announces b's prefix to a.
 */
function triangle() {
  const sim = new RoutingSim(3, { hysteresisMs: 0 });
  const [a, b, c] = [0, 1, 2];
  sim.linkUp(a, b, 10);
  sim.linkUp(a, c, 5);
  sim.linkUp(c, b, 5);
  const measure = (at: number, of: number, ms: number) => {
    sim.nodes[at].router.resetLatency(sim.nodes[of].id, ms);
    sim.kick(at);
  };
  measure(b, a, 30); // b thinks its direct link to a is slow
  measure(c, b, 40); // c thinks its direct link to b is slow
  sim.runUntilQuiet();
  return { sim, a, b, c };
}

Deno.test("uRPF triangle: a accepts b's source from c when c's best route to b goes through a", () => {
  const { sim, a, b, c } = triangle();
  // The asymmetry the e2e demo ran into.
  assertEquals(sim.forwardPath(a, sim.addressOf(b)), [a, b]);
  assertEquals(sim.forwardPath(b, sim.addressOf(a)), [b, c, a]);
  assertEquals(sim.forwardPath(c, sim.addressOf(b)), [c, a, b]);
  const [na, nb, nc] = [sim.nodes[a], sim.nodes[b], sim.nodes[c]];
  // c has no usable route for b's prefix at a; its poisoned announcement makes it feasible.
  assertEquals(na.router.table().find((v) => v.prefix === "fd00:1::/48")?.candidates, 1);
  assertEquals(na.router.sources.checkAddress(sim.addressOf(b), nc.id), "ok");
  assertEquals(na.router.sources.checkAddress(sim.addressOf(b), nb.id), "ok");

  // Down to the forwarder: b's reply, arriving at a from c, reaches a's TUN.
  const vif = new CountingVif("tun0");
  const fwd = new Forwarder({ routerAddress: sim.addressOf(a), clock: { now: () => 0 } });
  fwd.attachVif("tun0", vif);
  fwd.setFib(na.router.fib);
  fwd.setSourceCheck(na.router.sources);
  fwd.fromPeer(nc.id, packetBatchOf([packet(sim.addressOf(b), sim.addressOf(a))]));
  assertEquals(vif.written, 1);
  assertEquals(fwd.stats.dropSourceUnfeasible, 0);

  // A neighbour still cannot use a source it has no route to at all, nor ours.
  const nowhere = new Uint8Array(16).fill(0x20, 0, 1);
  fwd.fromPeer(nc.id, packetBatchOf([packet(nowhere, sim.addressOf(a))]));
  fwd.fromPeer(nc.id, packetBatchOf([packet(sim.addressOf(a), sim.addressOf(a))]));
  assertEquals(vif.written, 1);
  assertEquals(fwd.stats.dropSourceUnfeasible, 1);
  assertEquals(fwd.stats.dropSourceOwn, 1);
});

Deno.test("uRPF triangle: feasibility follows the routes when they become symmetric again, a link fails and comes back", () => {
  const { sim, a, b, c } = triangle();
  const [na, nc] = [sim.nodes[a], sim.nodes[c]];
  // c now measures its link to b as fast: its best route to b is direct, announced to a.
  sim.nodes[c].router.resetLatency(sim.nodes[b].id, 5);
  sim.kick(c);
  sim.runUntilQuiet();
  assertEquals(sim.forwardPath(c, sim.addressOf(b)), [c, b]);
  assertEquals(na.router.sources.checkAddress(sim.addressOf(b), nc.id), "ok");
  // The c–b link fails: c's only route to b is through a, and b's traffic can only reach c
  // from a, so c could only send it back (its own uRPF refuses it from anyone else): c sends
  // no poisoned route, and a refuses b's source from c, as in a chain.
  sim.linkDown(c, b);
  sim.runUntilQuiet();
  assertEquals(sim.forwardPath(c, sim.addressOf(b)), [c, a, b]);
  assertEquals(na.router.sources.checkAddress(sim.addressOf(b), nc.id), "unfeasible");
  // Back up: asymmetric again, feasible again.
  sim.linkUp(c, b, 5);
  sim.nodes[c].router.resetLatency(sim.nodes[b].id, 40);
  sim.runUntilQuiet();
  assertEquals(sim.forwardPath(c, sim.addressOf(b)), [c, a, b]);
  assertEquals(na.router.sources.checkAddress(sim.addressOf(b), nc.id), "ok");
});
