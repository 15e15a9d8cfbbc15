/**
 * `/metrics` of a real two-node mesh in this process (A dials B; a third node only answers A's
 * dials to a wrong name): the exposition text parsed by
 * an independent parser, values checked against the traffic, routes, refused handshakes and DC
 * the test makes.
 */
import { assert, assertEquals } from "./_harness/assert.ts";
import { NodeMesh, udpPacket, waitUntil } from "./_harness/node_harness.ts";
import { type Family, parseExposition, sample } from "./_harness/prom_text.ts";
import { loadNodeMetrics } from "../src/node/mod.ts";
import type { Metrics } from "../src/http/mod.ts";

async function scrape(m: Metrics): Promise<Map<string, Family>> {
  return parseExposition(await m.render());
}

Deno.test("/metrics of a two-node mesh: peers, traffic, routes, drops, handshake failures, DC", async () => {
  const mesh = await NodeMesh.create();
  try {
    const b = await mesh.start("b", 2);
    // C only listens. A believes "d.vnet.test" lives at C's address: every dial there is
    // refused (C's certificate is for another name), and d stays down.
    const c = await mesh.start("c", 3);
    const a = await mesh.start("a", 1, {
      extra: {
        peers: [
          // TLS only, so that the channel gauge reads tls (lone packets would take a usable UDP
          // channel otherwise); the UDP case is the test below.
          { addr: `127.0.0.1:${b.port}`, name: b.name, udp: "off" },
          { addr: `127.0.0.1:${c.port}`, name: "d.vnet.test" },
        ],
      },
    });
    await mesh.waitRoute(a, "fd00:2::/48");
    const ma = await loadNodeMetrics(a.node, "1.2.3");
    const mb = await loadNodeMetrics(b.node);
    const peerB = { peer: b.name }, peerA = { peer: a.name }, peerD = { peer: "d.vnet.test" };

    let f = await scrape(ma);
    assertEquals(sample(f, "vmesh_build_info", { version: "1.2.3" }), 1);
    assertEquals(sample(f, "vmesh_peer_up", peerB), 1);
    assertEquals(sample(f, "vmesh_peer_up", peerD), 0);
    assertEquals(sample(f, "vmesh_peer_channel", { ...peerB, channel: "tls" }), 1);
    assertEquals(sample(f, "vmesh_peer_channel", { ...peerB, channel: "udp" }), 0);
    assertEquals(sample(f, "vmesh_peer_channel", { ...peerD, channel: "tls" }), 0);
    assertEquals(sample(f, "vmesh_peer_rtt_seconds", peerD), undefined);
    assertEquals(sample(f, "vmesh_routes"), 2, "own fd00:1::/48 and B's fd00:2::/48");
    assertEquals(sample(f, "vmesh_route_candidates"), 2);
    assert(sample(f, "vmesh_route_changes_total")! >= 2);
    assertEquals(sample(f, "vmesh_dc_signed_timestamp_seconds"), undefined, "no DC yet");
    assertEquals(f.get("vmesh_peer_up")!.samples.length, 2, "b and d only");
    assert(sample(f, "process_resident_memory_bytes")! > 0);

    // RTT once a ping was answered (every second in the harness).
    await waitUntil(
      async () => sample(await scrape(ma), "vmesh_peer_rtt_seconds", peerB) !== undefined,
      "an RTT for B",
    );
    const rtt = sample(await scrape(ma), "vmesh_peer_rtt_seconds", peerB)!;
    assert(rtt > 0 && rtt < 5, `RTT ${rtt} s`);

    // A refused handshake, counted by its reason.
    await waitUntil(
      async () =>
        sample(await scrape(ma), "vmesh_handshake_failures_total", { reason: "name-mismatch" })! >=
          1,
      "A to count a name-mismatch",
    );
    f = await scrape(ma);
    assertEquals(sample(f, "vmesh_handshake_failures_total", { reason: "certificate" }), 0);
    assertEquals(sample(f, "vmesh_handshake_failures_total", { reason: "duplicate" }), undefined);

    // Traffic: 10 packets A → B grow A's tx and B's rx for each other, and the forwarders'.
    const before = f;
    const pkt = udpPacket({ src: "fd00:1::5", dst: "fd00:2::9" });
    for (let i = 0; i < 10; i++) assert(a.vif.inject(pkt));
    for (let i = 0; i < 10; i++) await b.vif.nextWritten();
    f = await scrape(ma);
    const grew = (name: string, labels: Record<string, string>) =>
      sample(f, name, labels)! - sample(before, name, labels)!;
    assertEquals(grew("vmesh_peer_tx_packets_total", peerB), 10);
    assert(grew("vmesh_peer_tx_bytes_total", peerB) >= 10 * pkt.length);
    assertEquals(grew("vmesh_forward_packets_total", { direction: "from_vif" }), 10);
    assertEquals(grew("vmesh_forward_packets_total", { direction: "to_peer" }), 10);
    const fb = await scrape(mb);
    assertEquals(sample(fb, "vmesh_peer_up", peerA), 1, "an inbound peer is listed");
    assertEquals(sample(fb, "vmesh_peer_rx_packets_total", peerA), 10);
    assert(sample(fb, "vmesh_peer_rx_bytes_total", peerA)! >= 10 * pkt.length);
    assertEquals(sample(fb, "vmesh_forward_packets_total", { direction: "to_vif" }), 10);

    // A drop by reason: a packet for an unrouted prefix.
    assertEquals(sample(f, "vmesh_forward_dropped_packets_total", { reason: "no_route" }), 0);
    assert(a.vif.inject(udpPacket({ src: "fd00:1::5", dst: "2001:db8::1" })));
    await waitUntil(() => a.node.forwarder.stats.dropNoRoute === 1, "the drop");
    f = await scrape(ma);
    assertEquals(sample(f, "vmesh_forward_dropped_packets_total", { reason: "no_route" }), 1);
    assertEquals(sample(f, "vmesh_forward_dropped_packets_total", { reason: "hop_limit" }), 0);

    // A new session with B starts its counters from zero; the peer's counters do not.
    const txBefore = sample(f, "vmesh_peer_tx_packets_total", peerB)!;
    a.node.sessions.session(b.node.identity.id)!.close("test: reconnect");
    await mesh.waitSessions(a, [b]);
    await mesh.waitRoute(a, "fd00:2::/48");
    for (let i = 0; i < 3; i++) assert(a.vif.inject(pkt));
    for (let i = 0; i < 3; i++) await b.vif.nextWritten();
    f = await scrape(ma);
    assertEquals(sample(f, "vmesh_peer_tx_packets_total", peerB), txBefore + 3);
    assertEquals(sample(f, "vmesh_peer_up", peerB), 1);

    // The DC: signing time and its certificate's expiry, on A and (gossiped) on B.
    const signedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    const raw = await mesh.signDc({
      prefix_whitelist: { [a.name]: ["fd00:1::/48"], [b.name]: ["fd00:2::/48"] },
    }, signedAt);
    assert(await a.node.dc.applyInitial(raw));
    const expiry = a.node.dc.current!.notAfter.getTime() / 1000;
    f = await scrape(ma);
    assertEquals(sample(f, "vmesh_dc_signed_timestamp_seconds"), signedAt.getTime() / 1000);
    assertEquals(sample(f, "vmesh_dc_expiry_timestamp_seconds"), expiry);
    assert(expiry > Date.now() / 1000);
    await waitUntil(
      async () =>
        sample(await scrape(mb), "vmesh_dc_signed_timestamp_seconds") === signedAt.getTime() / 1000,
      "B to run the DC A gossiped",
    );
  } finally {
    await mesh.close();
  }
});

Deno.test("/metrics counts a peer's packets over the UDP data channel and shows the channel", async () => {
  const mesh = await NodeMesh.create();
  try {
    const b = await mesh.start("b", 2);
    const a = await mesh.start("a", 1, { peers: [b], udp: true });
    await mesh.waitRoute(a, "fd00:2::/48");
    const ma = await loadNodeMetrics(a.node);
    const mb = await loadNodeMetrics(b.node);
    const peerB = { peer: b.name }, peerA = { peer: a.name };
    await waitUntil(
      async () =>
        sample(await scrape(ma), "vmesh_peer_channel", { ...peerB, channel: "udp" }) === 1,
      "A's UDP channel to B to become usable",
    );
    const before = await scrape(ma);
    assertEquals(sample(before, "vmesh_peer_channel", { ...peerB, channel: "tls" }), 0);
    const beforeB = sample(await scrape(mb), "vmesh_peer_rx_packets_total", peerA)!;
    const pkt = udpPacket({ src: "fd00:1::5", dst: "fd00:2::9" });
    for (let i = 0; i < 5; i++) assert(a.vif.inject(pkt));
    for (let i = 0; i < 5; i++) await b.vif.nextWritten();
    const st = a.node.udp.status(a.node.sessions.sessions()[0])!;
    assert(st.stats !== null && st.stats.txPackets >= 5, "the packets went over UDP");
    const after = await scrape(ma);
    assertEquals(
      sample(after, "vmesh_peer_tx_packets_total", peerB)! -
        sample(before, "vmesh_peer_tx_packets_total", peerB)!,
      5,
    );
    assertEquals(sample(await scrape(mb), "vmesh_peer_rx_packets_total", peerA)! - beforeB, 5);
  } finally {
    await mesh.close();
  }
});
