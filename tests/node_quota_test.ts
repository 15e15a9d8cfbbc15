/**
 * Route quotas per origin across real nodes: M floods through B; A limits each origin through B,
 * so a legitimate prefix from C through B is still accepted, and A's status counts the refusals.
 */
import { assert, assertEquals } from "./_harness/assert.ts";
import { NodeMesh, waitUntil } from "./_harness/node_harness.ts";
import { statusView } from "../src/node/views.ts";

Deno.test("a node flooding through B uses up only its own quota: C's prefix through B is still accepted", async () => {
  const mesh = await NodeMesh.create();
  try {
    const b = await mesh.start("b", 2);
    const a = await mesh.start("a", 1, {
      peers: [b],
      extra: { max_routes_per_peer: 20, max_routes_per_origin: 10 },
    });
    const flood = Array.from({ length: 40 }, (_, i) => `fd00:3:${i.toString(16)}::/48`);
    await mesh.start("m", 3, { peers: [b], announce: flood });
    await mesh.waitRoute(b, flood[flood.length - 1]);
    const fromM = () => a.node.router.table().filter((r) => r.prefix.startsWith("fd00:3:")).length;
    await waitUntil(
      () => fromM() >= 10 && a.node.router.quotaRefusals().length > 0,
      "M's flood to reach A and be refused in part",
    );
    // C comes up after the flood: with a per-neighbour quota only, B's 20 would be full of M's.
    await mesh.start("c", 4, { peers: [b] });
    await mesh.waitRoute(a, "fd00:4::/48");
    await mesh.waitRoute(a, "fd00:2::/48");
    assertEquals(fromM(), 10);
    const st = statusView(a.node, "test") as Record<string, any>;
    const refusals = st.routeRefusals as { peer: string; byOrigin: { count: number }[] }[];
    assertEquals(refusals.map((r) => r.peer), [b.name]);
    assert(refusals[0].byOrigin[0].count >= 30, JSON.stringify(refusals));
  } finally {
    await mesh.close();
  }
});
