/**
 * The router's link latency comes from the sessions' RTT events: the guess given when a
 * session comes up is replaced by the first measurement, with no polling in between.
 */
import { assert } from "./_harness/assert.ts";
import { NodeMesh, waitUntil } from "./_harness/node_harness.ts";

Deno.test("a node replaces its guessed link latency with the measured RTT from ping events", async () => {
  const mesh = await NodeMesh.create();
  try {
    const b = await mesh.start("b", 2);
    const a = await mesh.start("a", 1, { peers: [b] });
    await mesh.waitRoute(a, "fd00:2::/48");
    const id = b.node.identity.id;
    // 100 ms is the guess until the first sample; loopback answers in well under 50 ms.
    await waitUntil(() => (a.node.router.linkLatency(id) ?? 100) < 50, "a measured latency");
    const s = a.node.sessions.session(id)!;
    assert(s.stats().samples >= 1, "measured by pings");
  } finally {
    await mesh.close();
  }
});
