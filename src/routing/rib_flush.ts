/**
 * A {@link Rib}'s flush: ends due holds, starts full-table sends, and syncs dirty prefixes and
 * full-table slices into each neighbour's Adj-RIB-Out (adj_rib_out.ts), within a budget of
 * (prefix, neighbour) pairs. Internal to `src/routing/`; see `Router.flush`.
 * @module
 */
import type { PeerId } from "../pki/mod.ts";
import type { FlushResult, PeerMessages, PeerState } from "./router_state.ts";
import { sendWaitingPoison, syncPrefix } from "./adj_rib_out.ts";
import { isEmpty, type Rib } from "./rib.ts";

/**
 * Collects what each neighbour must be sent since the previous flush. Call shortly after
 * events (batching window ≤ 100 ms) and send the result; while `pending` stays true after a
 * flush (an announcement is held back, or the work was over `maxPrefixes`), call it again
 * after the same window.
 * @param maxPrefixes about how many (prefix, neighbour) pairs to sync in this call (default:
 *   all). A node passes a bound so that a change of 100 000 routes is sent in slices between
 *   which the packet path runs; each slice reflects the state when it is computed, and a
 *   prefix changed again after its slice is synced again in a later one, so neighbours see
 *   every prefix's changes in order.
 */
export function flushRib(rib: Rib, maxPrefixes: number): FlushResult {
  const now = rib.o.clock.now();
  // Holds are added in the order they end (see #recompute), so the first one not due ends it.
  // At most about `maxPrefixes` end per flush; the rest end in the next ones.
  let ended = 0;
  for (const key of rib.held) {
    const dest = rib.dests.get(key);
    if (dest?.holdUntil !== undefined && now < dest.holdUntil) break;
    if (ended++ >= maxPrefixes) break;
    if (dest !== undefined) dest.holdUntil = dest.holdMetricUs = undefined;
    rib.held.delete(key);
    rib.dirty.add(key);
  }
  const messages = new Map<PeerId, PeerMessages>();
  const out = (id: PeerId): PeerMessages => {
    let m = messages.get(id);
    if (m === undefined) messages.set(id, m = { announce: [], withdraw: [] });
    return m;
  };
  const ctx = { localId: rib.o.localId, now, poisonDelayMs: rib.o.poisonDelayMs, out };
  // Peers whose full table send starts now: it covers every prefix with force, so the dirty
  // ones are not synced twice. (One that started in an earlier flush gets the dirty ones now,
  // and may get some of them again when its send reaches them.)
  const starting = new Set<PeerState>();
  for (const peer of rib.peers.values()) {
    if (!peer.refreshAll) continue;
    starting.add(peer);
    // A full table send: withdraw what the peer had that is gone, (re)announce the rest.
    peer.refreshQueue = [];
    for (const key of peer.adjOut.keys()) if (!rib.dests.has(key)) peer.refreshQueue.push(key);
    for (const key of rib.dests.keys()) peer.refreshQueue.push(key);
    peer.refreshAt = 0;
    peer.refreshAll = false;
    peer.lastRefresh = now;
  }
  let budget = maxPrefixes;
  const peerCount = Math.max(1, rib.peers.size);
  for (const key of rib.dirty) {
    if (budget <= 0) break;
    budget -= peerCount;
    rib.dirty.delete(key);
    const dest = rib.dests.get(key);
    for (const peer of rib.peers.values()) {
      if (!starting.has(peer)) syncPrefix(ctx, peer, key, dest, false);
    }
    if (dest !== undefined && isEmpty(dest)) rib.dests.delete(key);
  }
  rib.syncSources();
  for (const peer of rib.peers.values()) {
    const queue = peer.refreshQueue;
    if (queue === undefined) continue;
    let i = peer.refreshAt;
    for (; i < queue.length && budget > 0; i++, budget--) {
      syncPrefix(ctx, peer, queue[i], rib.dests.get(queue[i]), true);
    }
    peer.refreshAt = i;
    if (i === queue.length) peer.refreshQueue = undefined;
  }
  for (const peer of rib.peers.values()) sendWaitingPoison(ctx, peer, rib.dests, messages);
  const fibChanged = rib.fibChanged;
  rib.fibChanged = false;
  return { messages, fibChanged };
}
