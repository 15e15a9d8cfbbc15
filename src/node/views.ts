/**
 * What the control socket returns: `status`, `routes` and `dc` of a running node.
 * @module
 */
import { formatHostPort, sameName } from "../net/mod.ts";
import { dcToJson, type VerifiedDc } from "../dc/mod.ts";
import type { RouteView } from "../routing/mod.ts";
import type { Node } from "./node.ts";
import type { Session } from "../session/mod.ts";
import type { UdpPeerStatus } from "./udp_links.ts";
import type { DcExpiry } from "./dc_sync.ts";

/**
 * The running DC, for `vmesh dc current`: the `vmesh dc show --json` form plus the content and
 * whether its certificate has expired (it is enforced all the same).
 */
export function dcView(
  dc: VerifiedDc | undefined,
  expiry?: DcExpiry,
): Record<string, unknown> | null {
  if (dc === undefined) return null;
  return {
    ...dcToJson("(running node)", dc),
    expired: expiry?.expired ?? false,
    expiry_warning: expiry?.warning ?? false,
    content: new TextDecoder().decode(dc.contentBytes),
  };
}

/** One configured-or-connected peer, for `vmesh status`. */
export interface PeerStatus {
  name: string;
  id: string | null;
  addr: string;
  configured: boolean;
  state: "up" | "down";
  direction: "outbound" | "inbound" | null;
  external: boolean | null;
  rttMs: number | null;
  jitterMs: number | null;
  loss: number | null;
  uptimeMs: number;
  routesVia: number;
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  drops: number;
  udp: UdpPeerStatus | null;
  /** For a configured peer that is not dialled (revoked by the DC): why. */
  notDialled: string | null;
}

/** Peers for `vmesh status`: every configured peer and every connected one. */
export function peerStatus(node: Node): PeerStatus[] {
  const via = node.router.routesVia();
  const out: PeerStatus[] = [];
  const seen = new Set<Session>();
  const fromSession = (s: Session, configured: boolean, addr: string): PeerStatus => {
    seen.add(s);
    const st = s.stats();
    const c = st.counters;
    return {
      name: s.peer.name,
      id: s.peer.id,
      addr,
      configured,
      state: "up",
      direction: s.dialedByUs ? "outbound" : "inbound",
      external: s.peer.external,
      rttMs: st.rttMs,
      jitterMs: st.jitterMs,
      loss: st.loss,
      uptimeMs: st.uptimeMs,
      routesVia: via.get(s.peer.id) ?? 0,
      packetsIn: c.packetsIn,
      packetsOut: c.packetsOut,
      bytesIn: c.bytesIn,
      bytesOut: c.bytesOut,
      drops: c.dropQueueFull + c.dropOversize + c.dropClosed,
      udp: node.udp.status(s),
      notDialled: null,
    };
  };
  const open = node.sessions.sessions();
  const held = node.sessions.heldPeers();
  for (const p of node.config.peers) {
    const addr = `${p.addr.host}:${p.addr.port}`;
    const s = open.find((x) => !seen.has(x) && sameName(x.peer.name, p.name));
    if (s) {
      out.push(fromSession(s, true, addr));
      continue;
    }
    out.push({
      name: p.name,
      id: null,
      addr,
      configured: true,
      state: "down",
      direction: null,
      external: null,
      rttMs: null,
      jitterMs: null,
      loss: null,
      uptimeMs: 0,
      routesVia: 0,
      packetsIn: 0,
      packetsOut: 0,
      bytesIn: 0,
      bytesOut: 0,
      drops: 0,
      udp: null,
      notDialled: held.get(p.name) ?? null,
    });
  }
  for (const s of open) {
    if (!seen.has(s)) {
      out.push(fromSession(s, false, `${s.remoteAddr.host}:${s.remoteAddr.port}`));
    }
  }
  return out;
}

/** `vmesh status`. */
export function statusView(node: Node, version: string): Record<string, unknown> {
  const dc = node.dc.current;
  return {
    node: {
      name: node.identity.name,
      id: node.identity.id,
      domain: node.identity.domain,
      listen: formatHostPort(node.config.listenAddr),
      version,
      pid: Deno.pid,
      uptimeMs: node.clock.now() - node.startedAt,
    },
    peers: peerStatus(node),
    // The count, not the table: status is polled, and a table of 100 000 routes is not cheap.
    routes: node.router.counts().routes,
    routeRefusals: node.router.quotaRefusals().map((q) => ({
      ...q,
      byOrigin: q.byOrigin.map((o) => {
        const name = o.origin === "other" ? undefined : node.names.book.get(o.origin)?.name;
        return name === undefined ? o : { ...o, name };
      }),
    })),
    dc: dc
      ? {
        signedAt: dc.notBefore.toISOString(),
        contentHash: dc.contentHash,
        expiresAt: dc.notAfter.toISOString(),
        expired: node.dc.expiry()?.expired ?? false,
      }
      : null,
    vifs: [...node.vifs].map(([key, v]) => ({
      key,
      name: v.name,
      mtu: v.mtu,
      offload: v.vnetHdr,
      ...v.stats,
    })),
    forwarding: { ...node.forwarder.stats },
    sessions: {
      unauthenticated: node.sessions.unauthenticated,
      handshakeFailures: node.sessions.handshakeFailures(),
    },
    dcSync: { ...node.dc.stats, ...node.dcGossip.stats },
    revocation: node.revocation.view(),
    names: {
      known: node.names.book.size,
      maxEntries: node.names.book.maxEntries,
      wanted: node.names.wanted,
      ...node.names.stats,
      book: { ...node.names.book.stats, refused: { ...node.names.book.stats.refused } },
    },
  };
}

/** One node of the node book, for `nodes` (and the map: a name for every ID in a path). */
export interface NodeView {
  id: string;
  name: string;
  /** SHA-256 of the certificate's SubjectPublicKeyInfo, hex (what `revoked_keys` lists). */
  spkiSha256: string;
  notAfter: string;
  external: boolean;
  /** True for this node itself. */
  self: boolean;
}

/** The nodes whose certificates this node verified (itself first), for `nodes`. */
export function nodesView(node: Node): NodeView[] {
  return node.names.book.entries().map((e) => ({
    id: e.id,
    name: e.name,
    spkiSha256: e.spkiSha256,
    notAfter: e.notAfter.toISOString(),
    external: e.external,
    self: e.id === node.identity.id,
  }));
}

/** `vmesh routes`. */
export function routesView(node: Node): RouteView[] {
  return node.router.table();
}
