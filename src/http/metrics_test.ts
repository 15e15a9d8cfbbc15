import { assert, assertEquals } from "../../tests/_harness/assert.ts";
import { parseExposition, sample } from "../../tests/_harness/prom_text.ts";
import { createMetrics, DENO_UNSUPPORTED_DEFAULTS, type MetricsSnapshot } from "./metrics.ts";

function snapshot(over: Partial<MetricsSnapshot> = {}): MetricsSnapshot {
  return {
    peers: [
      {
        name: "b.vnet.test",
        up: true,
        rttSeconds: 0.0125,
        rxPackets: 3,
        rxBytes: 300,
        txPackets: 4,
        txBytes: 400,
        channel: "udp",
      },
      {
        name: "c.vnet.test",
        up: false,
        rttSeconds: null,
        rxPackets: 0,
        rxBytes: 0,
        txPackets: 0,
        txBytes: 0,
        channel: null,
      },
    ],
    forwarded: { from_vif: 1, from_peer: 2, to_vif: 3, to_peer: 4 },
    dropped: { no_route: 5, hop_limit: 0 },
    icmpErrors: { sent: 6, rateLimited: 7 },
    handshakeFailures: { certificate: 8, "name-mismatch": 0 },
    unauthenticatedConnections: 9,
    routes: 10,
    routeCandidates: 11,
    routeChanges: 12,
    dc: { signedAtSeconds: 1_700_000_000, expiresAtSeconds: 1_800_000_000 },
    ...over,
  };
}

Deno.test("createMetrics renders every vmesh metric from one snapshot, with its type", async () => {
  let calls = 0;
  const m = createMetrics({
    version: "9.9.9",
    snapshot: () => {
      calls++;
      return snapshot();
    },
  });
  assertEquals(m.contentType, "text/plain; version=0.0.4; charset=utf-8");
  const f = parseExposition(await m.render());
  assertEquals(calls, 1, "one snapshot per scrape");
  const b = { peer: "b.vnet.test" }, c = { peer: "c.vnet.test" };
  assertEquals(sample(f, "vmesh_build_info", { version: "9.9.9" }), 1);
  assertEquals([sample(f, "vmesh_peer_up", b), sample(f, "vmesh_peer_up", c)], [1, 0]);
  assertEquals(sample(f, "vmesh_peer_rtt_seconds", b), 0.0125);
  assertEquals(sample(f, "vmesh_peer_rtt_seconds", c), undefined, "no RTT while down");
  assertEquals(sample(f, "vmesh_peer_rx_packets_total", b), 3);
  assertEquals(sample(f, "vmesh_peer_rx_bytes_total", b), 300);
  assertEquals(sample(f, "vmesh_peer_tx_packets_total", b), 4);
  assertEquals(sample(f, "vmesh_peer_tx_bytes_total", b), 400);
  assertEquals(sample(f, "vmesh_peer_tx_bytes_total", c), 0);
  assertEquals(sample(f, "vmesh_peer_channel", { ...b, channel: "udp" }), 1);
  assertEquals(sample(f, "vmesh_peer_channel", { ...b, channel: "tls" }), 0);
  assertEquals(sample(f, "vmesh_peer_channel", { ...c, channel: "tls" }), 0);
  assertEquals(sample(f, "vmesh_forward_packets_total", { direction: "to_peer" }), 4);
  assertEquals(sample(f, "vmesh_forward_dropped_packets_total", { reason: "no_route" }), 5);
  assertEquals(sample(f, "vmesh_forward_dropped_packets_total", { reason: "hop_limit" }), 0);
  assertEquals(sample(f, "vmesh_icmp_errors_sent_total"), 6);
  assertEquals(sample(f, "vmesh_icmp_errors_rate_limited_total"), 7);
  assertEquals(sample(f, "vmesh_handshake_failures_total", { reason: "certificate" }), 8);
  assertEquals(sample(f, "vmesh_handshake_failures_total", { reason: "name-mismatch" }), 0);
  assertEquals(sample(f, "vmesh_unauthenticated_connections"), 9);
  assertEquals(sample(f, "vmesh_routes"), 10);
  assertEquals(sample(f, "vmesh_route_candidates"), 11);
  assertEquals(sample(f, "vmesh_route_changes_total"), 12);
  assertEquals(sample(f, "vmesh_dc_signed_timestamp_seconds"), 1_700_000_000);
  assertEquals(sample(f, "vmesh_dc_expiry_timestamp_seconds"), 1_800_000_000);
  for (const [name, fam] of f) {
    if (!name.startsWith("vmesh_")) continue;
    assertEquals(fam.type, name.endsWith("_total") ? "COUNTER" : "GAUGE", name);
    assert(fam.help.length > 10, `${name} has a help text`);
  }
  // Process metrics that work under Deno are there; those Deno cannot feed are not.
  assert(sample(f, "process_resident_memory_bytes")! > 0);
  assert(sample(f, "process_cpu_seconds_total")! > 0);
  assert(sample(f, "process_open_fds")! > 0);
  assert(sample(f, "process_start_time_seconds")! > 1_700_000_000);
  assert(sample(f, "nodejs_heap_size_used_bytes")! > 0);
  for (const name of DENO_UNSUPPORTED_DEFAULTS) assertEquals(f.has(name), false, name);
  await m.render();
  assertEquals(calls, 2);
});

Deno.test("createMetrics drops series that left the snapshot: a peer gone, the DC absent", async () => {
  let snap = snapshot();
  const m = createMetrics({ version: "1", snapshot: () => snap });
  await m.render();
  snap = snapshot({ peers: [], dc: null });
  const f = parseExposition(await m.render());
  assertEquals(f.get("vmesh_peer_up")?.samples, []);
  assertEquals(f.get("vmesh_peer_tx_bytes_total")?.samples, []);
  assertEquals(f.get("vmesh_peer_channel")?.samples, []);
  assertEquals(sample(f, "vmesh_dc_signed_timestamp_seconds"), undefined);
  assertEquals(sample(f, "vmesh_dc_expiry_timestamp_seconds"), undefined);
  assertEquals(sample(f, "vmesh_routes"), 10);
});

Deno.test("createMetrics escapes label values (a hostile peer name cannot forge a series)", async () => {
  const peer = snapshot().peers[0];
  const evil = 'x"} 1\nvmesh_forged 1\n#';
  const m = createMetrics({
    version: "1",
    snapshot: () => snapshot({ peers: [{ ...peer, name: evil }] }),
  });
  const f = parseExposition(await m.render());
  assertEquals(f.has("vmesh_forged"), false);
  assertEquals(sample(f, "vmesh_peer_up", { peer: evil }), 1);
});
