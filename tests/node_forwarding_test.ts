/**
 * Packets through a chain of three in-process nodes A–B–C on loopback (memory vifs): delivery
 * with one hop-limit step per node, ICMPv6 Time Exceeded from the first and a middle node,
 * Destination Unreachable (rate-limited) for an unrouted prefix.
 */
import { assert, assertEquals } from "./_harness/assert.ts";
import { NodeMesh, summarize, udpPacket, waitUntil } from "./_harness/node_harness.ts";
import { formatIpv6 } from "../src/net/ipv6.ts";
import { routerAddress } from "../src/node/node.ts";

const ICMP6_DST_UNREACH = 1;
const ICMP6_TIME_EXCEEDED = 3;

Deno.test("a packet from A's vif for C's prefix reaches C's vif through B, hop limit -1 per node", async () => {
  const mesh = await NodeMesh.create();
  try {
    const [a, b, c] = await mesh.chain();
    const route = a.node.router.table().find((r) => r.prefix === "fd00:3::/48")!;
    assertEquals(route.nextHop.kind === "peer" && route.nextHop.name, b.name);
    assertEquals(route.path.map((h) => h.id), [b.node.identity.id, c.node.identity.id]);

    const payload = crypto.getRandomValues(new Uint8Array(200));
    for (let i = 0; i < 10; i++) {
      assert(a.vif.inject(udpPacket({ src: "fd00:1::5", dst: "fd00:3::7", payload })));
    }
    for (let i = 0; i < 10; i++) {
      const got = await c.vif.nextWritten();
      const s = summarize(got);
      assertEquals(formatIpv6(s.src), "fd00:1::5");
      assertEquals(formatIpv6(s.dst), "fd00:3::7");
      assertEquals(s.hopLimit, 64 - 3, "A, B and C each decrement once");
      assertEquals(got.subarray(48), payload);
    }
    assertEquals(a.node.forwarder.stats.toPeer, 10);
    assertEquals(b.node.forwarder.stats.fromPeer, 10);
    assertEquals(b.node.forwarder.stats.toPeer, 10);
    assertEquals(c.node.forwarder.stats.toVif, 10);
    assertEquals(b.vif.takeWritten().length, 0, "B's own vif sees nothing");

    // And back: C → A.
    c.vif.inject(udpPacket({ src: "fd00:3::7", dst: "fd00:1::5", hopLimit: 10 }));
    assertEquals(summarize(await a.vif.nextWritten()).hopLimit, 7);
  } finally {
    await mesh.close();
  }
});

Deno.test("the chain also carries packets when the UDP data channel is asked for", async () => {
  const mesh = await NodeMesh.create();
  try {
    const [a, b, c] = await mesh.chain({ udp: true });
    await waitUntil(
      () => a.node.udp.status(a.node.sessions.sessions()[0])?.usable === true,
      "A's UDP channel to B to become usable",
    );
    for (let i = 0; i < 5; i++) a.vif.inject(udpPacket({ src: "fd00:1::5", dst: "fd00:3::7" }));
    for (let i = 0; i < 5; i++) assertEquals(summarize(await c.vif.nextWritten()).hopLimit, 61);
    const st = a.node.udp.status(a.node.sessions.sessions()[0])!;
    assert(st.stats !== null && st.stats.txPackets >= 5, `A sent over UDP: ${JSON.stringify(st)}`);
    assertEquals(b.node.forwarder.stats.toPeer, 5);
  } finally {
    await mesh.close();
  }
});

Deno.test('without a udp key lone packets take the UDP channel; "off" keeps a peer on TLS', async () => {
  const auto = await NodeMesh.create();
  try {
    const [a, _b, c] = await auto.chain();
    const ab = () => a.node.sessions.sessions()[0];
    await waitUntil(() => a.node.udp.status(ab())?.usable === true, "A's channel to B (auto)");
    // A lone packet takes UDP only while the session has nothing queued (a ping or a route
    // frame may be on its way on a busy host): send one at a time until three went over UDP.
    const overUdp = () => a.node.udp.status(ab())?.stats?.txPackets ?? 0;
    for (let i = 0; i < 50 && overUdp() < 3; i++) {
      a.vif.inject(udpPacket({ src: "fd00:1::5", dst: "fd00:3::7" }));
      assertEquals(summarize(await c.vif.nextWritten()).hopLimit, 61);
    }
    const st = a.node.udp.status(ab())!;
    assert(overUdp() >= 3, `lone packets over UDP: ${JSON.stringify(st)}`);
  } finally {
    await auto.close();
  }
  const off = await NodeMesh.create();
  try {
    const [a, b, c] = await off.chain({ udp: "off" });
    assertEquals(a.node.udp.status(a.node.sessions.sessions()[0]), null, "A opened no channel");
    for (let i = 0; i < 3; i++) {
      a.vif.inject(udpPacket({ src: "fd00:1::5", dst: "fd00:3::7" }));
      assertEquals(summarize(await c.vif.nextWritten()).hopLimit, 61);
    }
    // B has no entry for A and never asked; A never asked B: no channel on either side.
    const ba = b.node.sessions.sessions().find((s) => s.peer.name === a.name)!;
    assertEquals(b.node.udp.status(ba)?.usable ?? false, false);
    assertEquals(b.node.udp.status(ba)?.stats ?? null, null);
  } finally {
    await off.close();
  }
});

Deno.test("a packet with hop limit 1 produces ICMPv6 Time Exceeded back into A's vif", async () => {
  const mesh = await NodeMesh.create();
  try {
    const [a, b, c] = await mesh.chain();
    const sent = udpPacket({ src: "fd00:1::5", dst: "fd00:3::7", hopLimit: 1 });
    a.vif.inject(sent);
    const err = summarize(await a.vif.nextWritten());
    assertEquals(err.icmp?.type, ICMP6_TIME_EXCEEDED);
    assertEquals(err.icmp?.code, 0);
    assertEquals(formatIpv6(err.src), formatIpv6(routerAddress(a.node.config)));
    assertEquals(formatIpv6(err.dst), "fd00:1::5");
    assertEquals(err.icmp!.quoted.subarray(0, 8), sent.subarray(0, 8), "quotes the packet");
    assertEquals(a.node.forwarder.stats.dropHopLimit, 1);

    // Hop limit 2: A forwards with 1, B answers; the error comes back through the mesh.
    a.vif.inject(udpPacket({ src: "fd00:1::5", dst: "fd00:3::7", hopLimit: 2 }));
    const fromB = summarize(await a.vif.nextWritten());
    assertEquals(fromB.icmp?.type, ICMP6_TIME_EXCEEDED);
    assertEquals(formatIpv6(fromB.src), "fd00:2::1", "B's router address");
    assertEquals(b.node.forwarder.stats.dropHopLimit, 1);
    assertEquals(c.vif.takeWritten().length, 0);
  } finally {
    await mesh.close();
  }
});

Deno.test("a packet to an unrouted prefix produces Destination Unreachable, rate-limited", async () => {
  const mesh = await NodeMesh.create();
  try {
    const [a] = await mesh.chain();
    const n = 200;
    for (let i = 0; i < n; i++) {
      assert(a.vif.inject(udpPacket({ src: "fd00:1::5", dst: `2001:db8::${i.toString(16)}` })));
    }
    const f = a.node.forwarder.stats;
    await waitUntil(() => f.dropNoRoute === n, `${n} packets dropped for lack of a route`);
    const errors = a.vif.takeWritten().map(summarize);
    assert(errors.length > 0, "at least one error");
    for (const e of errors) {
      assertEquals(e.icmp?.type, ICMP6_DST_UNREACH);
      assertEquals(e.icmp?.code, 0);
      assertEquals(formatIpv6(e.dst), "fd00:1::5");
    }
    assertEquals(errors.length, f.icmpSent);
    assertEquals(f.icmpSent + f.icmpRateLimited, n);
    // Burst 20 at 100/s: a couple of hundred packets in well under a second get ~20 answers.
    assert(f.icmpSent <= 60, `rate-limited: ${f.icmpSent} errors sent for ${n} packets`);
    assert(f.icmpRateLimited >= n - 60);
    // An error is never answered with an error: ICMPv6 errors about ICMPv6 errors are not sent.
    const err = udpPacket({ src: "fd00:1::5", dst: "2001:db8::1" });
    err[6] = 58;
    err[40] = ICMP6_DST_UNREACH;
    const before = f.icmpSent + f.icmpRateLimited;
    a.vif.inject(err);
    await waitUntil(() => f.dropNoRoute === n + 1, "the ICMPv6 error to be dropped");
    assertEquals(f.icmpSent + f.icmpRateLimited, before);
  } finally {
    await mesh.close();
  }
});
