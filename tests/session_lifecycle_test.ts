/** Session life cycle: simultaneous dials, restarts, dead peers, backlog, reconfiguration. */
import { assert, assertEquals, assertStringIncludes } from "./_harness/assert.ts";
import { makeTestPki } from "./_harness/pki.ts";
import { FrameType, SessionManager } from "../src/session/mod.ts";
import { FAST, rawPeer, startNode, stopAll, waitUntil } from "./session_helpers.ts";

const pki = await makeTestPki();
const a = await pki.issue("a");
const b = await pki.issue("b");
const c = await pki.issue("c");

Deno.test("when both sides dial at once exactly one session survives, the lower ID's", async () => {
  for (let round = 0; round < 3; round++) {
    const na = await startNode(a.identity, pki.trust);
    const nb = await startNode(b.identity, pki.trust);
    try {
      na.mgr.updatePeers([nb.asPeer()]);
      nb.mgr.updatePeers([na.asPeer()]);
      await waitUntil(
        () => na.mgr.sessions().length === 1 && nb.mgr.sessions().length === 1,
        "one session each",
      );
      // Let any second connection finish its handshake and be resolved.
      await waitUntil(() => na.mgr.unauthenticated === 0 && nb.mgr.unauthenticated === 0, "idle");
      await new Promise((r) => setTimeout(r, 300));
      const [sa] = na.mgr.sessions();
      const [sb] = nb.mgr.sessions();
      assertEquals(na.mgr.sessions().length, 1);
      assertEquals(nb.mgr.sessions().length, 1);
      assertEquals(sa.dialedByUs, !sb.dialedByUs, "both ends keep the same connection");
      assertEquals(sa.channelSecret, sb.channelSecret);
      const lowerIsA = a.id < b.id;
      assertEquals(sa.dialedByUs, lowerIsA, "kept the connection dialled by the lower ID");
      assertEquals(sa.state, "open");
      // Every session reported down was first reported up; the survivor is up.
      assertEquals(na.up.length - na.down.length, 1);
      assertEquals(nb.up.length - nb.down.length, 1);
    } finally {
      await stopAll(na, nb);
    }
  }
});

Deno.test("a restarted peer is reconnected with backoff", async () => {
  const na = await startNode(a.identity, pki.trust);
  const port = na.mgr.listenAddr()!.port;
  const nb = await startNode(b.identity, pki.trust, { peers: [na.asPeer()] });
  let na2: Awaited<ReturnType<typeof startNode>> | undefined;
  try {
    await waitUntil(() => nb.up.length === 1, "first session");
    await na.mgr.stop("restarting");
    await waitUntil(() => nb.down.length === 1, "B sees the session end");
    assertStringIncludes(nb.down[0].reason, "restarting");
    na2 = await startNode(a.identity, pki.trust, { listen: { host: "127.0.0.1", port } });
    await waitUntil(() => nb.up.length === 2 && na2!.up.length === 1, "reconnected");
    assertEquals(nb.mgr.sessions().length, 1);
    assert(nb.up[1].peerInstance !== nb.up[0].peerInstance, "a restart changes the instance");
    assertEquals(nb.up[1].channelSecret, na2.up[0].channelSecret);
    assert(
      nb.up[1].channelSecret.toHex() !== nb.up[0].channelSecret.toHex(),
      "each session agrees a fresh channel secret",
    );
  } finally {
    await stopAll(na2, nb);
  }
});

Deno.test("a peer that restarts and dials in replaces its stale session at once", async () => {
  const na = await startNode(a.identity, pki.trust);
  const nc = await startNode(c.identity, pki.trust, { peers: [na.asPeer()] });
  let nc2: Awaited<ReturnType<typeof startNode>> | undefined;
  try {
    await waitUntil(() => na.up.length === 1, "first session");
    const old = na.up[0];
    // A second process with the same identity dials in while the first session is alive.
    nc2 = await startNode(c.identity, pki.trust, { peers: [na.asPeer()] });
    await waitUntil(() => na.up.length >= 2, "new session");
    assertEquals(na.mgr.session(c.id), na.up.at(-1));
    assertEquals(old.state, "closed");
    assertStringIncludes(na.down[0].reason, "duplicate");
  } finally {
    await stopAll(na, nc, nc2);
  }
});

Deno.test("a silent peer is declared dead after about 3 ping intervals", async () => {
  const na = await startNode(a.identity, pki.trust, { ping: { intervalMs: 100, deadAfter: 3 } });
  try {
    const p = rawPeer(na.mgr.listenAddr()!.port, b, b.identity);
    await p.ready;
    await waitUntil(() => na.up.length === 1, "session up");
    const upAt = Date.now();
    p.socket.pause(); // stops reading and answering, keeps the connection
    await waitUntil(() => na.down.length === 1, "declared dead", 5000);
    const took = Date.now() - upAt;
    assert(took >= 250 && took < 2000, `declared dead after ${took} ms`);
    assertStringIncludes(na.down[0].reason, "missed 3 pings");
    assertEquals(na.down[0].session.stats().loss > 0, true);
    p.socket.destroy();
  } finally {
    await stopAll(na);
  }
});

Deno.test("a full backlog drops packets (counted); control overflow disconnects the peer", async () => {
  const na = await startNode(a.identity, pki.trust, {
    queue: { maxPacketBacklog: 256 * 1024, maxControlBacklog: 1024 * 1024 },
    ping: { intervalMs: 60_000 },
  });
  try {
    const p = rawPeer(na.mgr.listenAddr()!.port, b, b.identity);
    await p.ready;
    await waitUntil(() => na.up.length === 1, "session up");
    p.socket.pause();
    const s = na.up[0];
    const big = new Uint8Array(60_000);
    let refused = 0;
    for (let i = 0; i < 5000 && refused === 0; i++) {
      if (!s.sendPacket(big)) refused++;
      s.flush();
      if (i % 16 === 15) await new Promise((r) => setTimeout(r, 1));
    }
    assertEquals(refused, 1, "a packet was refused once the backlog filled");
    assertEquals(s.stats().counters.dropQueueFull, 1);
    assertEquals(s.state, "open", "dropping packets does not close the session");
    let sent = 0;
    while (s.sendControl(FrameType.Dc, big)) sent++;
    assert(sent > 0 && sent < 100, `control frames accepted before overflow: ${sent}`);
    assertEquals(s.state, "closed");
    await waitUntil(() => na.down.length === 1, "session down");
    assertStringIncludes(na.down[0].reason, "control backlog");
    p.socket.destroy();
  } finally {
    await stopAll(na);
  }
});

Deno.test("updatePeers() adds and removes peers without touching other sessions", async () => {
  const na = await startNode(a.identity, pki.trust);
  const nb = await startNode(b.identity, pki.trust);
  const nc = await startNode(c.identity, pki.trust);
  try {
    na.mgr.updatePeers([nb.asPeer()]);
    await waitUntil(() => na.up.length === 1, "A–B up");
    const ab = na.up[0];
    na.mgr.updatePeers([nb.asPeer(), nc.asPeer()]);
    await waitUntil(() => na.up.length === 2, "A–C up");
    assertEquals(ab.state, "open");
    na.mgr.updatePeers([nc.asPeer()]);
    await waitUntil(() => na.down.length === 1, "A–B closed");
    assertEquals(na.down[0].session, ab);
    assertStringIncludes(na.down[0].reason, "removed from configuration");
    assertEquals(na.mgr.sessions().map((s) => s.peer.name), [c.name]);
    // B does not dial A back (A was never in B's list), and A no longer dials B.
    await new Promise((r) => setTimeout(r, 3 * FAST.backoff.maxMs));
    assertEquals(na.mgr.sessions().length, 1);
  } finally {
    await stopAll(na, nb, nc);
  }
});

Deno.test("stop() before start() and twice is harmless", async () => {
  const m = new SessionManager({ identity: a.identity, trust: pki.trust });
  await m.stop();
  await m.stop();
});
