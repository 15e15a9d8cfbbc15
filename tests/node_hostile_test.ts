/**
 * A peer that sends malformed control frames (route announce, withdraw, DC offer, UDP channel
 * setup) loses that session only; the node keeps running, keeps its other sessions and routes,
 * and the peer gets back in by reconnecting.
 */
import { assert, assertEquals } from "./_harness/assert.ts";
import { NodeMesh, waitUntil } from "./_harness/node_harness.ts";
import { FrameType, type Session } from "../src/session/mod.ts";

Deno.test("malformed control frames close only the sending peer's session", async () => {
  const mesh = await NodeMesh.create();
  try {
    const b = await mesh.start("b", 2);
    const a = await mesh.start("a", 1, { peers: [b] });
    const c = await mesh.start("c", 3, { peers: [b] });
    await mesh.waitRoute(c, "fd00:1::/48");
    const bToC = (): Session | undefined =>
      b.node.sessions.sessions().find((s) => s.peer.name === c.name);
    const original = bToC()!;
    const junk: [number, Uint8Array][] = [
      [FrameType.RouteAnnounce, new Uint8Array([0xff, 0xff, 0xff])],
      [FrameType.RouteWithdraw, crypto.getRandomValues(new Uint8Array(7))],
      [FrameType.DcOffer, new Uint8Array(39)],
      [FrameType.UdpChannelRequest, new Uint8Array(5)],
    ];
    for (const [type, payload] of junk) {
      const aToBNow = () => a.node.sessions.sessions().find((s) => s.peer.name === b.name);
      await waitUntil(() => aToBNow() !== undefined, "A's session with B");
      const aToB = aToBNow()!;
      const sentAt = performance.now();
      aToB.sendControl(type, payload);
      await waitUntil(() => aToB.state === "closed", `B to close A's session (type ${type})`);
      assertEquals(bToC(), original, "B's session with C stays up");
      // C still holds the old route until B's withdrawal arrives: wait for a route to A that C
      // installed after the close (the old one withdrawn, then the new one through A's new
      // session), which a fast reconnect cannot skip the way polling for the gap could.
      await waitUntil(() => {
        const r = c.node.router.table().find((v) => v.prefix === "fd00:1::/48");
        return r !== undefined && r.ageMs < performance.now() - sentAt;
      }, `C to lose A's prefix and learn it again (type ${type})`);
    }
    assert(b.node.sessions.sessions().length === 2);
  } finally {
    await mesh.close();
  }
});
