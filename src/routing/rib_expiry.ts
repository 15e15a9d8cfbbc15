/**
 * The router's 1 s timers on a {@link Rib}: route expiry (a slice of each neighbour's routes per
 * tick, see `EXPIRY_SLICE`), the periodic full refresh and the deferred latency re-base.
 * Internal to `src/routing/`.
 * @module
 */
import type { Rib } from "./rib.ts";
import { applyLatency } from "./rib_latency.ts";
import { BIG_TABLE_LATENCY_MS, EXPIRY_SLICE } from "./router_limits.ts";

/**
 * Timers: expires routes not refreshed within `routeTimeoutMs` and schedules the periodic
 * full refresh of each neighbour. Call about once a second.
 */
export function expire(rib: Rib): void {
  const now = rib.o.clock.now();
  const timeout = rib.o.routeTimeoutMs;
  for (const peer of rib.peers.values()) {
    const id = peer.info.id;
    // A slice of the routes per tick (all of them up to EXPIRY_SLICE): see SetWalk.
    peer.expiryWalk.step(peer.keys, EXPIRY_SLICE, (key) => {
      const cand = rib.dests.get(key)!.cands.get(id)!;
      if (now - cand.receivedAt > timeout) rib.forget(peer, key);
    });
    peer.feasibleWalk.step(peer.feasibleKeys, EXPIRY_SLICE, (key) => {
      const f = rib.dests.get(key)!.feasible.get(id)!;
      if (now - f.receivedAt > timeout) rib.forgetFeasible(peer, key);
    });
    for (const [key, kept] of [...peer.rejected]) {
      if (now - kept.at > rib.o.routeTimeoutMs) peer.rejected.delete(key);
    }
    if (now - peer.lastRefresh >= rib.o.refreshIntervalMs) peer.refreshAll = true;
    if (peer.latencyPending && now - peer.latencyAppliedAt >= BIG_TABLE_LATENCY_MS) {
      applyLatency(rib, peer);
    }
  }
  rib.syncSources();
}
