import { assert, assertEquals } from "../../tests/_harness/assert.ts";
import { NodeMesh } from "../../tests/_harness/node_harness.ts";
import { ManualClock } from "../clock/mod.ts";
import { prepareNode } from "../config/mod.ts";
import { MemoryVif } from "../vif/mod.ts";
import { Node } from "./node.ts";
import { statusView } from "./views.ts";

Deno.test("Node's constructor opens nothing: the UDP port stays free until start()", async () => {
  const mesh = await NodeMesh.create();
  try {
    const { path, port } = await mesh.configJson("a", 1);
    const node = new Node(await prepareNode(path), new Map());
    // Had the constructor bound the UDP endpoint, this bind would fail with AddrInUse (and the
    // test's op sanitizer would report its timer and receive loop).
    const probe = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port });
    probe.close();
    assertEquals(node.startedAt, 0);
  } finally {
    await mesh.close();
  }
});

Deno.test("Node runs its timers on the injected clock and clears them on stop", async () => {
  const mesh = await NodeMesh.create();
  try {
    const { path } = await mesh.configJson("a", 1);
    const clock = new ManualClock();
    clock.advance(1_000);
    const vif = new MemoryVif({ name: "mem-a" });
    const node = new Node(await prepareNode(path), new Map([["mem", vif]]), clock);
    await node.loadState();
    await node.start();
    assertEquals(node.startedAt, 1_000);
    // One timer for all periodic tasks (periodic.ts), plus the first route flush.
    assert(clock.pending >= 1, `the node's repeating timer is on the clock (${clock.pending})`);
    clock.advance(65_000);
    const status = statusView(node, "test") as { node: { uptimeMs: number } };
    assertEquals(status.node.uptimeMs, 65_000);
    await node.stop();
    assertEquals(clock.pending, 0);
  } finally {
    await mesh.close();
  }
});

Deno.test('Node applies source_validation: "loose" to its source table; the default is feasible', async () => {
  const mesh = await NodeMesh.create();
  try {
    const feasible = await mesh.configJson("a", 1);
    const loose = await mesh.configJson("b", 2, { extra: { source_validation: "loose" } });
    assertEquals(new Node(await prepareNode(feasible.path), new Map()).router.sources.loose, false);
    assertEquals(new Node(await prepareNode(loose.path), new Map()).router.sources.loose, true);
  } finally {
    await mesh.close();
  }
});
