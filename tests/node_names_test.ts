/**
 * Names of every node, in process over loopback: on the chain a–b–c–d, a learns the verified
 * names of b, c and d from its neighbour (node-info frames), `vmesh routes` shows them along
 * the path and `vmesh nodes` lists them. A hostile neighbour that answers with a certificate
 * whose hash is not the ID, one of a foreign CA, an expired one or garbage, floods requests
 * and sends unsolicited certificates gets nothing into the node book and keeps its session; a
 * malformed node-info frame closes its session only.
 */
import { assert, assertEquals } from "./_harness/assert.ts";
import { run } from "./_harness/command.ts";
import { NodeMesh, runInProcess, waitUntil } from "./_harness/node_harness.ts";
import { REPO_ROOT, vmeshArgv } from "./_harness/vmesh_cli.ts";
import { controlRequest } from "../src/node/control.ts";
import type { NodeView } from "../src/node/mod.ts";
import { decodeNodeInfoRequest, encodeNodeInfo, encodeNodeInfoRequest } from "../src/names/mod.ts";
import { formatPrefix, parsePrefix } from "../src/net/mod.ts";
import type { PeerId } from "../src/pki/mod.ts";
import { encodeAnnounce, type RouteView } from "../src/routing/mod.ts";
import { FrameType, type Session } from "../src/session/mod.ts";

function cli(args: string[]) {
  return run(vmeshArgv(args), { cwd: REPO_ROOT, env: { NO_COLOR: "1" }, timeoutMs: 60_000 });
}

Deno.test("on the chain a–b–c–d, a learns the verified names of every node; vmesh routes and vmesh nodes show them", async () => {
  const mesh = await NodeMesh.create();
  let a: Awaited<ReturnType<typeof runInProcess>> | undefined;
  try {
    const d = await mesh.start("d", 4);
    const c = await mesh.start("c", 3, { peers: [d] });
    const b = await mesh.start("b", 2, { peers: [c] });
    a = await runInProcess(mesh, "a", 1, { peers: [b] });
    const socket = a.socket;
    const pathTo = async (prefix: string) => {
      const routes = await controlRequest(socket, "routes") as RouteView[];
      return routes.find((r) => r.prefix === prefix)?.path.map((h) => h.name ?? h.id);
    };
    await waitUntil(
      async () =>
        (await pathTo("fd00:4::/48"))?.join(" ") === "b.vnet.test c.vnet.test d.vnet.test",
      "a to show d's route with the names of b, c and d",
      30_000,
    );
    assertEquals(await pathTo("fd00:3::/48"), ["b.vnet.test", "c.vnet.test"]);
    const nodes = await controlRequest(socket, "nodes") as NodeView[];
    assertEquals(nodes[0].name, "a.vnet.test", "this node first");
    assertEquals(
      nodes.map((n) => [n.name, n.self, n.external]).toSorted(),
      [
        ["a.vnet.test", true, false],
        ["b.vnet.test", false, false],
        ["c.vnet.test", false, false],
        ["d.vnet.test", false, false],
      ],
      JSON.stringify(nodes),
    );
    assertEquals(nodes.find((n) => n.name === "d.vnet.test")?.id, (await mesh.cert("d")).id);
    // b and c learned them too (c asked d, b asked c).
    assertEquals(b.node.names.book.get((await mesh.cert("d")).id)?.name, "d.vnet.test");

    const routes = await cli(["routes", "--control", socket]);
    assertEquals(routes.code, 0, routes.stderr);
    assert(
      /^fd00:4::\/48\s+b\.vnet\.test\s+[\d.]+ ms\s+b\.vnet\.test > c\.vnet\.test > d\.vnet\.test\s/m
        .test(routes.stdout),
      routes.stdout,
    );
    const text = await cli(["nodes", "--control", socket]);
    assertEquals(text.code, 0, text.stderr);
    assert(/^NAME\s+ID\s+KEY SHA-256\s+EXPIRES\s+KIND$/m.test(text.stdout), text.stdout);
    assert(/^a\.vnet\.test\s+[0-9a-f]{16}…\s+[0-9a-f]{16}…\s+\S+Z\s+self$/m.test(text.stdout));
    for (const n of ["b", "c", "d"]) {
      assert(new RegExp(`^${n}\\.vnet\\.test\\s.*\\snode$`, "m").test(text.stdout), text.stdout);
    }
    const json = await cli(["nodes", "--control", socket, "--json"]);
    assertEquals(json.code, 0, json.stderr);
    assertEquals((JSON.parse(json.stdout) as NodeView[]).length, 4);
  } finally {
    await a?.stop();
    await mesh.close();
  }
});

Deno.test("a hostile neighbour's bad certificates, request flood and unsolicited certificates change nothing; a malformed node-info frame closes its session only", async () => {
  const mesh = await NodeMesh.create();
  try {
    const b = await mesh.start("b", 2);
    const a = await mesh.start("a", 1, { peers: [b] });
    const h = await mesh.start("h", 9, { peers: [a] });
    await mesh.waitRoute(a, "fd00:9::/48");
    await mesh.waitRoute(a, "fd00:2::/48");
    const sessionOf = (from: typeof a, to: typeof a): Session | undefined =>
      from.node.sessions.sessions().find((s) => s.peer.name === to.name);

    // h claims paths through four nodes and answers for them with certificates that must fail.
    const stranger = await mesh.pki.issue("x");
    const other = await mesh.pki.issue("y");
    const foreign = await mesh.pki.foreign.issue("f");
    const expired = mesh.pki.expired;
    const garbageId: PeerId = crypto.getRandomValues(new Uint8Array(32)).toHex();
    const bad = new Map<PeerId, Uint8Array>([
      [stranger.id, other.certDer], // a valid certificate, but its hash is not the ID
      [foreign.id, foreign.certDer],
      [expired.id, expired.certDer],
      [garbageId, crypto.getRandomValues(new Uint8Array(700))],
    ]);
    const hGossip = h.node.names;
    const honest = hGossip.onRequest.bind(hGossip);
    hGossip.onRequest = (s, payload) => {
      const ids = decodeNodeInfoRequest(payload);
      if (!ids.some((id) => bad.has(id))) return honest(s, payload);
      const entries = ids.map((id) => ({ id, der: bad.get(id) ?? hGossip.book.get(id)?.der }));
      for (const p of encodeNodeInfo(entries)) s.sendControl(FrameType.NodeInfo, p);
    };
    const hToA = sessionOf(h, a)!;
    const aToB = sessionOf(a, b)!;
    const claimed = [...bad.keys()].map((id, i) => ({
      prefix: parsePrefix(`fd00:99:${i}::/48`),
      path: [{ id: h.node.identity.id, latencyMs: 1 }, { id, latencyMs: 1 }],
    }));
    for (const p of encodeAnnounce(claimed)) hToA.sendControl(FrameType.RouteAnnounce, p);
    const refused = () => a.node.names.book.stats.refused;
    await waitUntil(
      () => {
        const r = refused();
        return !!(r.id_mismatch && r.not_issued_by_ca && r.expired && r.malformed);
      },
      "a to refuse all four certificates",
      30_000,
    );
    for (const id of bad.keys()) assert(!a.node.names.book.has(id), `${id} stays out`);
    const viaH = a.node.router.table().find((r) => r.prefix === formatPrefix(claimed[0].prefix));
    assertEquals(viaH?.path.map((x) => x.name), ["h.vnet.test", undefined], "an ID, not a name");

    // Unsolicited: a valid certificate nobody asked for.
    const unsolicited = a.node.names.stats.unsolicited;
    const c = await mesh.pki.issue("c");
    hToA.sendControl(FrameType.NodeInfo, encodeNodeInfo([{ id: c.id, der: c.certDer }])[0]);
    await waitUntil(() => a.node.names.stats.unsolicited > unsolicited, "the unsolicited entry");
    assert(!a.node.names.book.has(c.id));

    // A flood of requests: answered up to the rate, the rest ignored; the session stays.
    const req = encodeNodeInfoRequest([a.node.identity.id]);
    for (let i = 0; i < 2000; i++) hToA.sendControl(FrameType.NodeInfoRequest, req);
    await waitUntil(
      () => a.node.names.stats.requestsOverRate + a.node.names.stats.requestsAnswered >= 2000,
      "a to receive the flood",
      30_000,
    );
    assert(a.node.names.stats.requestsOverRate >= 1000, JSON.stringify(a.node.names.stats));
    assertEquals(hToA.state, "open");
    assertEquals(sessionOf(a, b), aToB);
    assertEquals(sessionOf(h, a), hToA);
    assertEquals(a.node.names.book.get(h.node.identity.id)?.name, "h.vnet.test");

    // A malformed node-info frame: h's session closes, a keeps b, h comes back.
    hToA.sendControl(FrameType.NodeInfo, new Uint8Array([1, 0, 1, 0xde, 0xad]));
    await waitUntil(() => hToA.state === "closed", "a to close h's session");
    assertEquals(sessionOf(a, b), aToB);
    await mesh.waitSessions(a, [h], 30_000);
    await mesh.waitRoute(a, "fd00:9::/48");
    await mesh.waitRoute(a, "fd00:2::/48");
  } finally {
    await mesh.close();
  }
});
