/**
 * `GET /metrics`: the node's state in the Prometheus text exposition format, rendered by
 * `prom-client` from one {@link MetricsSnapshot} per scrape. Nothing is pushed per packet or per
 * event: every vmesh metric is read from the node's own counters when Prometheus scrapes (the
 * metrics' `collect` callbacks), so a node pays nothing between scrapes.
 *
 * Label values are bounded by the source: `peer` takes the names of configured or connected
 * peers only, `reason` and `direction` fixed sets (see {@link MetricsSnapshot}).
 *
 * The process metrics are prom-client's default ones that work under Deno (CPU, resident and
 * virtual memory, heap, open file descriptors, start time, event-loop lag); the ones Deno
 * cannot feed are removed ({@link DENO_UNSUPPORTED_DEFAULTS}).
 * @module
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";

/** One configured or connected peer at scrape time. */
export interface PeerSample {
  /** The peer's certificate name (configured name while no session is open). */
  name: string;
  /** A session with the peer is open. */
  up: boolean;
  /** Mean round-trip time over the session's last pings; null while down or unmeasured. */
  rttSeconds: number | null;
  /** IP packets received since the node started (a configured peer's ended sessions included). */
  rxPackets: number;
  /** Bytes received: TLS frame bytes plus UDP data packet bytes (as {@link rxPackets}). */
  rxBytes: number;
  /** IP packets sent (as {@link rxPackets}). */
  txPackets: number;
  /** Bytes sent (as {@link rxBytes}). */
  txBytes: number;
  /** What carries the peer's packets now: the UDP data channel or the TLS session; null while down. */
  channel: "tls" | "udp" | null;
}

/** Everything `/metrics` shows, read from the node at one instant. */
export interface MetricsSnapshot {
  /** Every configured peer and every connected one. */
  peers: readonly PeerSample[];
  /** Packets through the forwarder by direction (`from_vif`, `from_peer`, `to_vif`, `to_peer`). */
  forwarded: Readonly<Record<string, number>>;
  /** Packets the forwarder dropped, by reason (a fixed set, every reason present). */
  dropped: Readonly<Record<string, number>>;
  /** ICMPv6 errors this router sent, and those the rate limit held back. */
  icmpErrors: { sent: number; rateLimited: number };
  /** Refused handshakes and connections by reason (a fixed set, every reason present). */
  handshakeFailures: Readonly<Record<string, number>>;
  /** Connections accepted and not yet authenticated. */
  unauthenticatedConnections: number;
  /** Selected routes (local ones included). */
  routes: number;
  /** Candidate routes (learned from neighbours, plus local ones). */
  routeCandidates: number;
  /** Next-hop changes in the FIB since start. */
  routeChanges: number;
  /** The DC in force (Unix seconds), or null when the node runs without one. */
  dc: { signedAtSeconds: number; expiresAtSeconds: number } | null;
}

/** What the node gives the metrics: its version and a snapshot per scrape. */
export interface MetricsSource {
  /** vmesh version (the `version` label of `vmesh_build_info`). */
  readonly version: string;
  /** The node's state now; called once per scrape. */
  snapshot(): MetricsSnapshot;
}

/** A node's `/metrics` renderer. */
export interface Metrics {
  /** The Content-Type of {@link render}'s text. */
  readonly contentType: string;
  /** The exposition text of every metric now. */
  render(): Promise<string>;
}

/**
 * prom-client default metrics that Deno cannot feed: GC durations (Deno emits no `gc`
 * performance entries, the histogram stays empty), libuv handles and requests (Deno has no
 * libuv: always 0 or empty), active resources (only the lag probe's own timer) and the Node.js
 * version (Deno's compatibility version, not a real Node.js).
 */
export const DENO_UNSUPPORTED_DEFAULTS: readonly string[] = [
  "nodejs_gc_duration_seconds",
  "nodejs_active_handles",
  "nodejs_active_handles_total",
  "nodejs_active_requests",
  "nodejs_active_requests_total",
  "nodejs_active_resources",
  "nodejs_active_resources_total",
  "nodejs_version_info",
];

/**
 * Sampling interval of the event-loop lag histogram (`nodejs_eventloop_lag_*`). prom-client's
 * default, 10 ms, costs an idle node about 4.5 ms of CPU per second under Deno; 100 ms costs
 * about 1.6 ms and still catches every stall that delays a sample (any stall of 100 ms or more).
 */
export const LAG_SAMPLE_MS = 100;

/**
 * Builds the metrics of one node in a registry of its own (several nodes in one process do not
 * clash), with prom-client's process metrics minus {@link DENO_UNSUPPORTED_DEFAULTS}.
 */
export function createMetrics(source: MetricsSource): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: LAG_SAMPLE_MS });
  for (const name of DENO_UNSUPPORTED_DEFAULTS) registry.removeSingleMetric(name);

  // One snapshot per scrape, taken by the first collect callback of the render.
  let snap: MetricsSnapshot | undefined;
  const now = (): MetricsSnapshot => snap ??= source.snapshot();
  const registers = [registry];

  new Gauge({
    name: "vmesh_build_info",
    help: "vmesh and Deno versions of this node (always 1).",
    labelNames: ["version", "deno"],
    registers,
  }).set({ version: source.version, deno: Deno.version.deno }, 1);

  const peerGauge = (name: string, help: string, value: (p: PeerSample) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ["peer"],
      registers,
      collect() {
        this.reset();
        for (const p of now().peers) {
          const v = value(p);
          if (v !== null) this.set({ peer: p.name }, v);
        }
      },
    });
  const peerCounter = (name: string, help: string, value: (p: PeerSample) => number) =>
    new Counter({
      name,
      help,
      labelNames: ["peer"],
      registers,
      collect() {
        this.reset();
        for (const p of now().peers) this.inc({ peer: p.name }, value(p));
      },
    });
  const labelledCounter = (
    name: string,
    help: string,
    label: string,
    values: (s: MetricsSnapshot) => Readonly<Record<string, number>>,
  ) =>
    new Counter({
      name,
      help,
      labelNames: [label],
      registers,
      collect() {
        this.reset();
        for (const [k, v] of Object.entries(values(now()))) this.inc({ [label]: k }, v);
      },
    });
  const counter = (name: string, help: string, value: (s: MetricsSnapshot) => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(value(now()));
      },
    });
  const gauge = (name: string, help: string, value: (s: MetricsSnapshot) => number | null) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const v = value(now());
        if (v !== null) this.set(v);
        else this.remove(); // absent, not 0 (reset() leaves an unlabelled gauge at 0)
      },
    });

  peerGauge(
    "vmesh_peer_up",
    "1 when a session with the peer is open, else 0 (every configured or connected peer).",
    (p) => p.up ? 1 : 0,
  );
  peerGauge(
    "vmesh_peer_rtt_seconds",
    "Mean round-trip time to the peer over the session's last pings.",
    (p) => p.rttSeconds,
  );
  peerCounter(
    "vmesh_peer_rx_bytes_total",
    "Bytes received from the peer (TLS + UDP).",
    (p) => p.rxBytes,
  );
  peerCounter("vmesh_peer_tx_bytes_total", "Bytes sent to the peer (TLS + UDP).", (p) => p.txBytes);
  peerCounter(
    "vmesh_peer_rx_packets_total",
    "IP packets received from the peer (TLS + UDP).",
    (p) => p.rxPackets,
  );
  peerCounter(
    "vmesh_peer_tx_packets_total",
    "IP packets sent to the peer (TLS + UDP).",
    (p) => p.txPackets,
  );
  new Gauge({
    name: "vmesh_peer_channel",
    help:
      "1 for udp while the UDP data channel is usable (it carries lone packets, or all with udp: true), else 1 for tls.",
    labelNames: ["peer", "channel"],
    registers,
    collect() {
      this.reset();
      for (const p of now().peers) {
        this.set({ peer: p.name, channel: "tls" }, p.channel === "tls" ? 1 : 0);
        this.set({ peer: p.name, channel: "udp" }, p.channel === "udp" ? 1 : 0);
      }
    },
  });
  gauge("vmesh_routes", "Selected (best) routes, local ones included.", (s) => s.routes);
  gauge(
    "vmesh_route_candidates",
    "Candidate routes: learned from neighbours, plus local ones.",
    (s) => s.routeCandidates,
  );
  counter(
    "vmesh_route_changes_total",
    "Next-hop changes in the forwarding table: a route installed, moved or removed.",
    (s) => s.routeChanges,
  );
  labelledCounter(
    "vmesh_forward_packets_total",
    "Packets through the forwarder by direction.",
    "direction",
    (s) => s.forwarded,
  );
  labelledCounter(
    "vmesh_forward_dropped_packets_total",
    "Packets the forwarder dropped, by reason.",
    "reason",
    (s) => s.dropped,
  );
  counter(
    "vmesh_icmp_errors_sent_total",
    "ICMPv6 errors this router sent.",
    (s) => s.icmpErrors.sent,
  );
  counter(
    "vmesh_icmp_errors_rate_limited_total",
    "ICMPv6 errors not sent because of the rate limit.",
    (s) => s.icmpErrors.rateLimited,
  );
  labelledCounter(
    "vmesh_handshake_failures_total",
    "Refused handshakes and connections, by reason.",
    "reason",
    (s) => s.handshakeFailures,
  );
  gauge(
    "vmesh_unauthenticated_connections",
    "Connections accepted and not yet authenticated.",
    (s) => s.unauthenticatedConnections,
  );
  gauge(
    "vmesh_dc_signed_timestamp_seconds",
    "When the DC in force was signed (Unix time); absent without a DC.",
    (s) => s.dc?.signedAtSeconds ?? null,
  );
  gauge(
    "vmesh_dc_expiry_timestamp_seconds",
    "When the DC in force expires (its certificate's NotAfter, Unix time); absent without a DC.",
    (s) => s.dc?.expiresAtSeconds ?? null,
  );

  return {
    contentType: registry.contentType,
    async render(): Promise<string> {
      snap = undefined;
      try {
        return await registry.metrics();
      } finally {
        snap = undefined;
      }
    },
  };
}
