/**
 * A change of a link's advertised latency applied to the routes learned over it (their first
 * hop is our own measurement of the link): at once for a small table; for one over
 * `BIG_TABLE` prefixes at most every `BIG_TABLE_LATENCY_MS` per link (a busy node measures
 * inflated RTTs) and then in slices by the following flushes (`Router.flush`), so 100 000
 * routes are not re-decided in one task. Internal to `src/routing/`.
 * @module
 */
import { pathMetricUs } from "./route.ts";
import type { PeerState } from "./router_state.ts";
import type { Rib } from "./rib.ts";
import { BIG_TABLE, BIG_TABLE_LATENCY_MS } from "./router_limits.ts";

/** The advertised latency of `peer`'s link moved: now, or later for a big table (BIG_TABLE). */
export function latencyChanged(rib: Rib, peer: PeerState): void {
  const now = rib.o.clock.now();
  if (rib.dests.size > BIG_TABLE && now - peer.latencyAppliedAt < BIG_TABLE_LATENCY_MS) {
    peer.latencyPending = true;
  } else {
    applyLatency(rib, peer);
  }
}

/** Re-bases `peer`'s routes' first hop on its advertised latency. */
export function applyLatency(rib: Rib, peer: PeerState): void {
  peer.latencyPending = false;
  peer.latencyAppliedAt = rib.o.clock.now();
  peer.rebaseWalk.start(peer.keys);
  // A small table at once; a big one in slices by the next flushes (see rebaseSome).
  if (rib.dests.size <= BIG_TABLE) rebaseSome(rib, peer, Infinity);
}

/**
 * Re-bases up to `max` of `peer`'s routes on its advertised latency (a re-base under way).
 * @returns how many were visited
 */
export function rebaseSome(rib: Rib, peer: PeerState, max: number): number {
  const id = peer.info.id;
  let n = 0;
  peer.rebaseWalk.step(peer.keys, max, (key) => {
    n++;
    const ms = peer.latency.advertisedMs;
    const dest = rib.dests.get(key)!;
    const c = dest.cands.get(id)!;
    if (c.path[0].latencyMs === ms) return;
    const path = rib.paths.get([rib.hops.get(c.path[0].id, ms), ...c.path.slice(1)]);
    dest.cands.set(id, { ...c, path, metricUs: pathMetricUs(path) });
    rib.recompute(dest);
  });
  return n;
}
