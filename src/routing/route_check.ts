/**
 * Checks applied to every route received from a neighbour, before the filter.
 * @module
 */
import type { Ipv6Prefix } from "../net/mod.ts";
import { isPeerId, type PeerId } from "../pki/mod.ts";
import { MAX_HOP_LATENCY_MS, MAX_PATH_HOPS, type Route } from "./route.ts";

/** True when `p` is a well-formed prefix: 16 bytes, length 0..128, host bits zero. */
export function isValidPrefix(p: Ipv6Prefix): boolean {
  if (p === null || typeof p !== "object") return false;
  if (!(p.addr instanceof Uint8Array) || p.addr.length !== 16) return false;
  if (!Number.isInteger(p.len) || p.len < 0 || p.len > 128) return false;
  // The host bits, without allocating (called for every received route).
  const full = p.len >> 3, addr = p.addr;
  if ((p.len & 7) !== 0 && (addr[full] & (0xff >> (p.len & 7))) !== 0) return false;
  for (let i = (p.len + 7) >> 3; i < 16; i++) if (addr[i] !== 0) return false;
  return true;
}

/**
 * The problem {@link routeProblem} reports for a route whose only fault is that its path contains
 * this node: a poisoned announcement (the sender's best route goes through us). It is unusable
 * as a route, but tells that the sender has a path to the prefix (feasibility for uRPF).
 */
export const LOOP_PROBLEM = "path contains this node (loop)";

/** Node IDs already found well-formed (bounded; the same few IDs fill every path). */
const validIds = new Set<string>();
const MAX_VALID_IDS = 4096;

function validId(id: unknown): boolean {
  if (typeof id === "string" && validIds.has(id)) return true;
  if (!isPeerId(id as string)) return false;
  if (validIds.size >= MAX_VALID_IDS) validIds.clear();
  validIds.add(id as string);
  return true;
}

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
  // Short paths (nearly all) are checked for repeats pairwise, without a set per route.
  const seen = path.length > 8 ? new Set<string>() : undefined;
  let loop = false;
  for (let i = 0; i < path.length; i++) {
    const hop = path[i];
    if (hop === null || typeof hop !== "object" || !validId(hop.id)) return "malformed hop ID";
    const l = hop.latencyMs;
    if (typeof l !== "number" || !Number.isFinite(l) || l < 0 || l > MAX_HOP_LATENCY_MS) {
      return `hop latency ${l} ms is not in 0..${MAX_HOP_LATENCY_MS}`;
    }
    if (hop.id === localId) loop = true;
    if (seen === undefined) {
      for (let j = 0; j < i; j++) if (path[j].id === hop.id) return "path visits a node twice";
    } else {
      if (seen.has(hop.id)) return "path visits a node twice";
      seen.add(hop.id);
    }
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
