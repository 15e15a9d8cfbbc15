/**
 * What the control socket returns: `status`, `routes` and `dc` of a running node.
 * @module
 */
import type { VerifiedDc } from "../dc/mod.ts";
import { formatHostPort } from "../config/mod.ts";
import { dcToJson } from "../cli/dc.ts";
import type { RouteView } from "../routing/mod.ts";
import type { Node } from "./node.ts";

/** The running DC, for `vmesh dc current`: the `vmesh dc show --json` form plus the content. */
export function dcView(dc: VerifiedDc | undefined): Record<string, unknown> | null {
  if (dc === undefined) return null;
  return {
    ...dcToJson("(running node)", dc),
    content: new TextDecoder().decode(dc.contentBytes),
  };
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
      uptimeMs: Date.now() - node.startedAt,
    },
    peers: node.peerStatus(),
    routes: node.router.table().length,
    dc: dc ? { signedAt: dc.notBefore.toISOString(), contentHash: dc.contentHash } : null,
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
    dcSync: { ...node.dc.stats },
  };
}

/** `vmesh routes`. */
export function routesView(node: Node): RouteView[] {
  return node.router.table();
}
