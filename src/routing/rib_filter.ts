/**
 * Policy changes applied to a {@link Rib}'s learned routes: a new prefix whitelist (re-filter)
 * and a new set of revoked nodes. Internal to `src/routing/`.
 * @module
 */
import type { PeerId } from "../pki/mod.ts";
import { revokedHop } from "./route_check.ts";
import type { Rib } from "./rib.ts";

/**
 * Sets the IDs of revoked nodes (the set is kept, not copied: pass a new one to change it).
 * Learned routes, feasible-only entries and kept rejected routes whose path contains one
 * are dropped at once; announcements containing one are refused from then on.
 * @returns how many candidate routes were dropped
 */
export function revoke(rib: Rib, ids: ReadonlySet<PeerId>): number {
  rib.revoked = ids;
  if (ids.size === 0) return 0;
  let dropped = 0;
  for (const peer of rib.peers.values()) {
    for (const key of [...peer.keys]) {
      const cand = rib.dests.get(key)!.cands.get(peer.info.id)!;
      if (revokedHop(cand.path, ids) === undefined) continue;
      rib.forget(peer, key);
      dropped++;
    }
    for (const key of [...peer.feasibleKeys]) {
      const f = rib.dests.get(key)!.feasible.get(peer.info.id)!;
      if (ids.has(f.origin) || ids.has(peer.info.id)) rib.forgetFeasible(peer, key);
    }
    for (const [key, kept] of [...peer.rejected]) {
      if (revokedHop(kept.route.path, ids) !== undefined) peer.rejected.delete(key);
    }
  }
  rib.syncSources();
  return dropped;
}

/** Re-applies the filter to every learned and every kept rejected route. */
export function refilter(rib: Rib): void {
  const now = rib.o.clock.now();
  for (const peer of rib.peers.values()) {
    for (const key of [...peer.keys]) {
      const dest = rib.dests.get(key)!;
      const cand = dest.cands.get(peer.info.id)!;
      if (!rib.allowed(peer, dest.prefix)) {
        rib.forget(peer, key);
        rib.keepRejected(peer, key, { prefix: dest.prefix, path: cand.path }, cand.receivedAt);
      }
    }
    for (const key of [...peer.feasibleKeys]) {
      if (!rib.allowed(peer, rib.dests.get(key)!.prefix)) rib.forgetFeasible(peer, key);
    }
    for (const [key, kept] of [...peer.rejected]) {
      if (!rib.allowed(peer, kept.route.prefix)) continue;
      peer.rejected.delete(key);
      if (now - kept.at <= rib.o.routeTimeoutMs) rib.learn(peer, key, kept.route, kept.at);
    }
  }
}
