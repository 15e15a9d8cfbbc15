/**
 * The node side of `/metrics`: a {@link MetricsSource} that reads a {@link Node}'s counters at
 * scrape time, and {@link loadNodeMetrics}, which imports the HTTP room (and with it
 * `prom-client`) only when called, so that a node without `http_listen` loads neither.
 * @module
 */
import type { ForwarderStats } from "../dataplane/mod.ts";
import type { Metrics, MetricsSnapshot, MetricsSource, PeerSample } from "../http/mod.ts";
import { sameName } from "../net/mod.ts";
import { type Session, SESSION_REASONS } from "../session/mod.ts";
import type { Node } from "./node.ts";
import { sessionTraffic } from "./peer_traffic.ts";
import { VERSION } from "./version.ts";

/** Forwarder counters → `direction` label of `vmesh_forward_packets_total`. */
export const FORWARD_DIRECTIONS: Readonly<Partial<Record<keyof ForwarderStats, string>>> = {
  fromVif: "from_vif",
  fromPeer: "from_peer",
  toVif: "to_vif",
  toPeer: "to_peer",
};

/** Forwarder drop counters → `reason` label of `vmesh_forward_dropped_packets_total`. */
export const DROP_REASONS: Readonly<Partial<Record<keyof ForwarderStats, string>>> = {
  dropMalformed: "malformed",
  dropNotIpv6: "not_ipv6",
  dropScope: "scope",
  dropNoRoute: "no_route",
  dropHopLimit: "hop_limit",
  dropNoTarget: "no_target",
  dropPeerQueue: "peer_queue_full",
  dropVnet: "vnet",
  dropBadVnetHdr: "bad_vnet_hdr",
  dropSourceOwn: "source_own",
  dropSourceUnfeasible: "source_unfeasible",
};

/**
 * The `reason` labels of `vmesh_handshake_failures_total`: every session reason but
 * "duplicate" (a duplicate session is closed without counting a failure).
 */
export const HANDSHAKE_FAILURE_REASONS: readonly string[] = SESSION_REASONS.filter((r) =>
  r !== "duplicate"
);

/** The node's state for one scrape (see {@link MetricsSnapshot}). */
export function metricsSnapshot(node: Node): MetricsSnapshot {
  const f = node.forwarder.stats;
  const failures: Record<string, number> = {};
  for (const r of HANDSHAKE_FAILURE_REASONS) failures[r] = 0;
  for (const [r, n] of Object.entries(node.sessions.handshakeFailures())) failures[r] = n;
  const { routes, candidates } = node.router.counts();
  const dc = node.dc.current;
  return {
    peers: peerSamples(node),
    forwarded: relabel(f, FORWARD_DIRECTIONS),
    dropped: relabel(f, DROP_REASONS),
    icmpErrors: { sent: f.icmpSent, rateLimited: f.icmpRateLimited },
    handshakeFailures: failures,
    unauthenticatedConnections: node.sessions.unauthenticated,
    routes,
    routeCandidates: candidates,
    routeChanges: node.router.routeChanges,
    dc: dc === undefined ? null : {
      signedAtSeconds: dc.notBefore.getTime() / 1000,
      expiresAtSeconds: dc.notAfter.getTime() / 1000,
    },
  };
}

/** A {@link MetricsSource} reading `node`. */
export function nodeMetricsSource(node: Node, version: string = VERSION): MetricsSource {
  return { version, snapshot: () => metricsSnapshot(node) };
}

/**
 * Imports the HTTP room (and `prom-client`) and builds `node`'s metrics; call it only when the
 * endpoint is configured.
 */
export async function loadNodeMetrics(node: Node, version: string = VERSION): Promise<Metrics> {
  const { createMetrics } = await import("../http/mod.ts");
  return createMetrics(nodeMetricsSource(node, version));
}

/**
 * Every configured peer (by its configured name while down) and every connected one: the same
 * list as `vmesh status`, so the `peer` label takes no other values.
 */
function peerSamples(node: Node): PeerSample[] {
  const open = node.sessions.sessions();
  const seen = new Set<Session>();
  const out: PeerSample[] = [];
  // A configured peer keeps its configured spelling as the label, up or down.
  const up = (s: Session, name: string): PeerSample => {
    seen.add(s);
    const udp = node.udp.status(s);
    const t = node.peerTraffic.total(s.peer.name, sessionTraffic(s, node.udp.traffic(s)));
    const rtt = s.stats().rttMs;
    return {
      name,
      up: true,
      rttSeconds: rtt === null ? null : rtt / 1000,
      ...t,
      channel: udp?.usable ? "udp" : "tls",
    };
  };
  for (const p of node.config.peers) {
    const s = open.find((x) => !seen.has(x) && sameName(x.peer.name, p.name));
    if (s !== undefined) {
      out.push(up(s, p.name));
      continue;
    }
    out.push({
      name: p.name,
      up: false,
      rttSeconds: null,
      ...node.peerTraffic.total(p.name),
      channel: null,
    });
  }
  for (const s of open) if (!seen.has(s)) out.push(up(s, s.peer.name));
  return out;
}

function relabel(
  stats: ForwarderStats,
  labels: Readonly<Partial<Record<keyof ForwarderStats, string>>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, label] of Object.entries(labels)) out[label] = stats[k as keyof ForwarderStats];
  return out;
}
