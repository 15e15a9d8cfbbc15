/**
 * Checks applied to every route received from a neighbour, before the filter.
 * @module
 */
import { type Ipv6Prefix, maskAddress } from "../net/mod.ts";
import { isPeerId, type PeerId } from "../pki/mod.ts";
import { MAX_HOP_LATENCY_MS, MAX_PATH_HOPS, type Route } from "./route.ts";

/** True when `p` is a well-formed prefix: 16 bytes, length 0..128, host bits zero. */
export function isValidPrefix(p: Ipv6Prefix): boolean {
  if (p === null || typeof p !== "object") return false;
  if (!(p.addr instanceof Uint8Array) || p.addr.length !== 16) return false;
  if (!Number.isInteger(p.len) || p.len < 0 || p.len > 128) return false;
  const masked = maskAddress(p.addr, p.len);
  for (let i = 0; i < 16; i++) if (masked[i] !== p.addr[i]) return false;
  return true;
}

/**
 * The problem {@link routeProblem} reports for a route whose only fault is that its path contains
 * this node: a poisoned announcement (the sender's best route goes through us). It is unusable
 * as a route, but tells that the sender has a path to the prefix (feasibility for uRPF).
 */
export const LOOP_PROBLEM = "path contains this node (loop)";

/**
 * Why a received route is unusable, or undefined when it is fine. The prefix must already be
 * valid ({@link isValidPrefix}). A loop is reported ({@link LOOP_PROBLEM}) only when nothing
 * else is wrong with the route.
 * @param from the neighbour that sent it
 * @param localId this node's ID
 */
export function routeProblem(route: Route, from: PeerId, localId: PeerId): string | undefined {
  const path = route.path;
  if (!Array.isArray(path) || path.length === 0) return "empty path";
  if (path.length > MAX_PATH_HOPS) {
    return `path of ${path.length} hops is over ${MAX_PATH_HOPS}`;
  }
  if (path[0]?.id !== from) return "first hop is not the announcing peer";
  const seen = new Set<string>();
  let loop = false;
  for (const hop of path) {
    if (hop === null || typeof hop !== "object" || !isPeerId(hop.id)) return "malformed hop ID";
    const l = hop.latencyMs;
    if (typeof l !== "number" || !Number.isFinite(l) || l < 0 || l > MAX_HOP_LATENCY_MS) {
      return `hop latency ${l} ms is not in 0..${MAX_HOP_LATENCY_MS}`;
    }
    if (hop.id === localId) loop = true;
    if (seen.has(hop.id)) return "path visits a node twice";
    seen.add(hop.id);
  }
  return loop ? LOOP_PROBLEM : undefined;
}

/**
 * The first node of `path` that is in `revoked` (node IDs the DC revokes), or undefined.
 * Costs one set lookup per hop, none when nothing is revoked.
 */
export function revokedHop(
  path: readonly { readonly id: PeerId }[],
  revoked: ReadonlySet<PeerId>,
): PeerId | undefined {
  if (revoked.size === 0) return undefined;
  for (const h of path) if (revoked.has(h.id)) return h.id;
  return undefined;
}
