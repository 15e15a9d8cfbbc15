/**
 * Revocation in the DC on running in-process nodes: a DC handed to a node (`vmesh dc apply`'s
 * path, `applyDcRequest`) that revokes a peer's key or name closes its session at once, refuses
 * its new ones, drops every route through it, and holds back dialling it; a node revoked itself
 * leaves the mesh until a newer DC lifts it.
 */
import { assert, assertEquals, assertStringIncludes } from "./_harness/assert.ts";
import { NodeMesh, waitUntil } from "./_harness/node_harness.ts";
import { applyDcRequest } from "../src/node/dc_apply.ts";
import { statusView } from "../src/node/views.ts";
import { formatStatus } from "../src/cli/control_commands.ts";
import { loadNodeMetrics } from "../src/node/mod.ts";
import { parseExposition, sample } from "./_harness/prom_text.ts";
import { keyFingerprint } from "../src/pki/mod.ts";
import type { MeshNode } from "./_harness/node_harness.ts";

const MINUTE = 60_000;

async function apply(mesh: NodeMesh, m: MeshNode, content: unknown, agoMs = 0): Promise<void> {
  const raw = await mesh.signDc(content, new Date(Date.now() - agoMs));
  await applyDcRequest(m.node, m.prepared.trust, raw.toBase64());
}

function sessionWith(m: MeshNode, peer: MeshNode) {
  return m.node.sessions.sessions().find((s) => s.peer.name === peer.name);
}

Deno.test("dc apply of a DC revoking a peer's key closes its session at once, refuses it again, and every route through it goes", async () => {
  const mesh = await NodeMesh.create();
  try {
    const [a, b, c] = await mesh.chain();
    const bc = sessionWith(b, c)!;
    assert(bc !== undefined && bc.state === "open");
    const cKey = keyFingerprint(c.prepared.identity.certDer);
    assertEquals(bc.peerKeySha256, cKey);
    const dKey = keyFingerprint((await mesh.cert("d")).identity.certDer);

    await apply(mesh, b, { prefix_whitelist: null, revoked_keys: [cKey, dKey] });
    // At once: closed (or closing) when apply returns, its routes gone from b's table.
    assert(bc.state !== "open", `the session with c is ${bc.state}`);
    assertEquals(sessionWith(b, c), undefined);
    assertStringIncludes(bc.closeReason ?? "", "revoked");
    assert(!b.node.router.table().some((r) => r.prefix === "fd00:3::/48"));
    assertEquals(b.node.names.book.has(c.node.identity.id), false, "the book dropped c");
    assert(b.node.revocation.revokedIds.has(c.node.identity.id));

    // a loses c's prefix and keeps b's.
    await mesh.waitRoute(a, "fd00:3::/48", false);
    await mesh.waitRoute(a, "fd00:2::/48");
    // c may have got the DC before its session closed (then it knows it is revoked and keeps
    // away); d, revoked too and new, dials b and is refused after the TLS handshake.
    const d = await mesh.start("d", 4, { peers: [b] });
    // c may redial b and be refused as revoked too, so wait for d's own refusal: its ID
    // becomes known as revoked only when b refuses it after the handshake.
    await waitUntil(
      () => b.node.revocation.revokedIds.has(d.node.identity.id),
      "b to refuse d's session as revoked",
      20_000,
    );
    assert((b.node.sessions.handshakeFailures().revoked ?? 0) >= 1);
    assertEquals(d.node.sessions.handshakeFailures().revoked, undefined, "d saw no reason");
    assertEquals(sessionWith(b, d), undefined);
    assertEquals(sessionWith(b, c), undefined);
    const st = statusView(b.node, "test") as {
      revocation: Record<string, unknown>;
      sessions: { handshakeFailures: Record<string, number> };
    };
    assertEquals(st.revocation.revokedKeys, 2);
    const ids = st.revocation.revokedNodes as string[];
    assertEquals(ids.toSorted(), [c.node.identity.id, d.node.identity.id].toSorted());
    assert((st.revocation.sessionsClosed as number) >= 1);
    assert(st.sessions.handshakeFailures.revoked >= 1);
    assertEquals(st.revocation.ownRevoked, null);
    const metrics = parseExposition(await (await loadNodeMetrics(b.node)).render());
    const refused = sample(metrics, "vmesh_handshake_failures_total", { reason: "revoked" });
    assert(refused !== undefined && refused >= 1, `revoked refusals in /metrics: ${refused}`);
    assert(sessionWith(a, b)?.state === "open", "a keeps b");
  } finally {
    await mesh.close();
  }
});

Deno.test("a name revocation reaches a node two hops away through the node book, and configured revoked peers are not dialled", async () => {
  const mesh = await NodeMesh.create();
  try {
    const [a, b, c] = await mesh.chain();
    const cId = c.node.identity.id;
    await waitUntil(() => a.node.names.book.has(cId), "a to learn c's certificate", 20_000);
    await apply(mesh, a, { revoked_names: ["C.vnet.test."] }, MINUTE);
    // a has no session with c: the ID comes from the node book, and the route goes at once.
    assert(a.node.revocation.revokedIds.has(cId));
    assertEquals(a.node.names.book.has(cId), false);
    assert(!a.node.router.table().some((r) => r.prefix === "fd00:3::/48"));
    await mesh.waitRoute(a, "fd00:2::/48");
    // The DC spreads to b, which closes c; c learns it too, and does not dial b again...
    await waitUntil(() => b.node.revocation.revokedIds.has(cId), "b to revoke c");
    await waitUntil(() => sessionWith(b, c) === undefined, "b to close c");
    // ...unless it missed the DC: then b refuses it. Either way no session comes back.
    await new Promise((r) => setTimeout(r, 1500));
    assertEquals(sessionWith(b, c), undefined);

    // a revokes b, the peer it dials: it closes the session and stops dialling b.
    await apply(mesh, a, { revoked_names: ["c.vnet.test", "b.vnet.test"] });
    await waitUntil(() => sessionWith(a, b) === undefined, "a to close b");
    await waitUntil(() => a.node.sessions.heldPeers().has(b.name), "a to hold b back");
    const st = statusView(a.node, "test") as { peers: { name: string; notDialled: string }[] };
    assertStringIncludes(st.peers.find((p) => p.name === b.name)!.notDialled, "name is revoked");
    const text = formatStatus(statusView(a.node, "test"));
    assertStringIncludes(text, "revocation: the DC revokes 0 key(s), 2 name(s); 2 known node(s)");
    assertStringIncludes(text, `not dialling ${b.name}: its name is revoked`);
    assert(text.split("\n").some((l) => l.startsWith(b.name) && l.includes("not dialled")));
  } finally {
    await mesh.close();
  }
});

Deno.test("a node whose own key is revoked leaves the mesh, and comes back when a newer DC lifts it", async () => {
  const mesh = await NodeMesh.create();
  try {
    const b = await mesh.start("b", 2);
    const a = await mesh.start("a", 1, { peers: [b] });
    await mesh.waitRoute(a, "fd00:2::/48");
    const aKey = keyFingerprint(a.prepared.identity.certDer);
    await apply(mesh, a, { revoked_keys: [aKey] }, 2 * MINUTE);
    assertStringIncludes(a.node.revocation.ownRevoked ?? "", "is revoked by the DC");
    assertEquals(a.node.sessions.sessions().length, 0, "every session closed at once");
    assertEquals(a.node.router.table().filter((r) => r.prefix === "fd00:2::/48").length, 0);
    // b got the DC before a closed, or not; either way no session comes back.
    await mesh.waitRoute(b, "fd00:1::/48", false);
    assert(a.node.sessions.heldPeers().has(b.name), "a dials nobody");
    assertStringIncludes(formatStatus(statusView(a.node, "test")), "THIS NODE IS REVOKED: its key");
    await new Promise((r) => setTimeout(r, 1500));
    assertEquals(a.node.sessions.sessions().length, 0);

    // A newer DC without the revocation, given to both: a dials b at once and rejoins.
    await apply(mesh, a, { revoked_keys: [] }, MINUTE);
    if (b.node.dc.current !== undefined) await apply(mesh, b, { revoked_keys: [] }, MINUTE / 2);
    assertEquals(a.node.revocation.ownRevoked, undefined);
    await mesh.waitRoute(a, "fd00:2::/48", true, 20_000);
    await mesh.waitRoute(b, "fd00:1::/48", true, 20_000);
  } finally {
    await mesh.close();
  }
});
