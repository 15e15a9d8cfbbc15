import { assert, assertEquals, assertStringIncludes } from "./_harness/assert.ts";
import { makeTestPki } from "./_harness/pki.ts";
import { FrameType } from "../src/session/mod.ts";
import { startNode, stopAll, waitUntil } from "./session_helpers.ts";

const pki = await makeTestPki();
const a = await pki.issue("a");
const b = await pki.issue("b");

Deno.test("a session comes up and carries packets and control frames both ways", async () => {
  const na = await startNode(a.identity, pki.trust);
  const nb = await startNode(b.identity, pki.trust, { peers: [na.asPeer()] });
  try {
    await waitUntil(() => na.up.length === 1 && nb.up.length === 1, "both sessions up");
    const sa = na.up[0];
    const sb = nb.up[0];
    assertEquals(sa.peer.name, b.name);
    assertEquals(sa.peer.id, b.id);
    assertEquals(sb.peer.name, a.name);
    assertEquals(sa.dialedByUs, false);
    assertEquals(sb.dialedByUs, true);
    assertEquals(sa.channelSecret.length, 32);
    assertEquals(sa.channelSecret, sb.channelSecret);
    assertEquals(na.mgr.sessions(), [sa]);

    const pkt = new Uint8Array(1400).map((_, i) => i & 0xff);
    for (let i = 0; i < 50; i++) assert(sb.sendPacket(pkt));
    assert(sb.sendPacket(new Uint8Array(65_000), true));
    assert(sb.sendControl(FrameType.RouteAnnounce, new TextEncoder().encode("route")));
    assert(sa.sendControl(FrameType.Dc, new Uint8Array([1, 2, 3])));
    assert(sa.sendPacket(new Uint8Array([0x60, 0, 0, 0])));
    sa.flush();
    sb.flush();
    const count = () => na.packets.reduce((n, e) => n + e.packets.length, 0);
    await waitUntil(() => count() === 51 && na.control.length === 1, "A got all frames");
    await waitUntil(() => nb.packets.length === 1 && nb.control.length === 1, "B got all frames");
    assertEquals(na.packets[0].packets[0], pkt);
    assert(na.packets.length < 51, "packets arrive in batches");
    const last = na.packets.at(-1)!;
    assertEquals(last.vnet.at(-1), true);
    assertEquals(last.packets.at(-1)!.length, 65_000);
    assertEquals(new TextDecoder().decode(na.control[0].payload), "route");
    assertEquals(na.control[0].type, FrameType.RouteAnnounce);
    assertEquals([...nb.control[0].payload], [1, 2, 3]);
    assertEquals([...nb.packets[0].packets[0]], [0x60, 0, 0, 0]);

    await waitUntil(() => sa.stats().samples >= 1 && sb.stats().samples >= 1, "RTT samples");
    const st = sb.stats();
    assert(st.rttMs !== null && st.rttMs >= 0 && st.rttMs < 1000, `rtt ${st.rttMs}`);
    assert(
      nb.rtt.length >= 1 && nb.rtt.every((e) => e.session === sb),
      "RTT events from B's session",
    );
    assert(nb.rtt.every((e) => e.ms >= 0 && e.ms < 1000), "RTT samples in ms");
    assertEquals(st.counters.packetsOut, 51);
    assertEquals(sa.stats().counters.packetsIn, 51);
    assertEquals(sa.stats().counters.controlIn, 1);
  } finally {
    await stopAll(nb);
  }
  await waitUntil(() => na.down.length === 1, "A sees the session down");
  assertStringIncludes(na.down[0].reason, "node shutting down");
  assertEquals(na.mgr.sessions(), []);
  await stopAll(na);
});
