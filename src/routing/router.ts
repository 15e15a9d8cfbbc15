/**
 * The routing core: Adj-RIB-In per neighbour, best-path decision, FIB and Adj-RIB-Out.
 *
 * Sans-IO: no sockets and no timers. The node calls it on events (session up/down, latency
 * samples, received announce/withdraw, local prefixes, whitelist changes), calls `tick()` about
 * once a second, and calls `flush()` shortly after a change (it batches; `pending` says whether
 * there is anything to send). Every event updates the decision and the FIB at once; `flush()`
 * returns the announcements and withdrawals each neighbour must get.
 *
 * Propagation rules:
 * - A new best route, a changed path or latency, or a lost route is sent to every neighbour in
 *   the next flush (announce or withdraw).
 * - Split horizon with explicit withdrawal: a usable route is never announced to the neighbour
 *   it was learned from, nor to a neighbour that appears in its path (that neighbour would refuse
 *   it as a loop). When the best route for a prefix moves onto such a neighbour, that neighbour
 *   gets a WITHDRAW at once if it had our earlier route, so it never keeps a route that points
 *   back through it.
 * - Poisoned reverse for feasibility only: that neighbour also gets the route itself once (its
 *   path contains the neighbour), within `poisonDelayMs`, riding along with other payloads when
 *   it can. The receiver refuses it as a route but keeps the prefix as "feasible only" via the
 *   sender for source address validation, so asymmetric routes do not fail uRPF
 *   (docs/routing.md, "Poisoned announcements").
 * - Withdraw before announcing a worse route: when the best route for a prefix moves to a
 *   different path with a higher latency, neighbours get a WITHDRAW at once and the new route
 *   only after `worseRouteHoldMs` (100 ms), or as soon as a route as good as the old one comes
 *   back. Path hunting after a failure then runs as one fast wave of withdrawals instead of
 *   every node trying every stale alternative in turn (docs/routing.md, "Path hunting").
 * - Each neighbour gets the full table when its session comes up and every
 *   `refreshIntervalMs` (30 s) as a safety net. Not when the latency this node measures for
 *   the link changes: the neighbour puts its own measurement in place of the first hop's.
 *   A learned route that is not announced again within `routeTimeoutMs` (60 s) expires.
 * - An announcement that fails the checks (first hop, loop, length, latency) or the filter
 *   replaces (withdraws) the route the neighbour sent earlier for that prefix; one whose only
 *   fault is the loop through this node, and that the filter and the quotas allow, is kept as
 *   feasible only (a source-table entry, never a candidate).
 *
 * Trust boundary of the metric: the latency of the first hop (the neighbour's link to us) is
 * always our own smoothed measurement of that link; what the neighbour claims for it is
 * replaced. Hops further away can only be taken as announced (each was measured by the node
 * that prepended it, and we cannot check it), so a neighbour can still lie about the rest of
 * the path, but never about how close it is to us.
 *
 * Limits: at most `maxRoutesPerPeer` candidates per neighbour, and at most
 * `maxRoutesPerOrigin` per neighbour for one origin node (the path's last hop), so a node that
 * floods through a neighbour exhausts only its own quota. Refusals are counted
 * ({@link Router.quotaRefusals}).
 *
 * Revocation: {@link Router.setRevoked} gives the IDs of nodes the DC revokes. A route whose
 * path contains one is refused (not kept, not feasible) and those already learned are dropped
 * at once, so the prefixes of a revoked node and every path through it leave the table.
 *
 * The router also keeps the source table for uRPF ({@link Router.sources}) current at the end
 * of every event that changes candidates or local prefixes (so a neighbour's packets that follow
 * its announcement on the same session find its prefix feasible).
 *
 * Work per call is bounded for a transit site's 100 000 routes: received payloads can be queued
 * ({@link Router.queueAnnounce}; receive_queue.ts) and are then applied in slices, the expiry
 * walk and a big table's latency re-base run a slice at a time (set_walk.ts), and `flush(max)`
 * syncs at most about `max` (prefix, neighbour) pairs.
 *
 * Files: this one holds the entry points; the state and its consistent updates are in rib.ts,
 * the checks of received routes in rib_receive.ts, whitelist and revocation in rib_filter.ts,
 * the timers in rib_expiry.ts, latency re-bases in rib_latency.ts, the flush in rib_flush.ts
 * and adj_rib_out.ts.
 * @module
 */
import { canonicalWhitelist, ClaimedSpace, type PrefixWhitelist } from "../filter/mod.ts";
import { canonicalName, type Ipv6Prefix, prefixKey } from "../net/mod.ts";
import type { PeerId } from "../pki/mod.ts";
import type { Fib } from "../fib/mod.ts";
import { LinkLatency } from "./latency.ts";
import type { NextHop, Route } from "./route.ts";
import { isValidPrefix } from "./route_check.ts";
import type {
  FlushResult,
  PeerInfo,
  PeerMessages,
  ReceiveResult,
  RouterOptions,
} from "./router_state.ts";
import { routeViews } from "./route_views.ts";
import { SetWalk } from "./set_walk.ts";
import { PeerQuota, type QuotaRefusals } from "./route_quota.ts";
import type { SourceTable } from "./source_table.ts";
import { MAX_RECEIVE_QUEUED, RECEIVE_SLICE, type Received, ReceiveQueue } from "./receive_queue.ts";
import type { RouteView } from "./table_view.ts";
import { Rib } from "./rib.ts";
import { receiveAnnounce, receiveWithdraw } from "./rib_receive.ts";
import { refilter, revoke } from "./rib_filter.ts";
import { expire } from "./rib_expiry.ts";
import { flushRib } from "./rib_flush.ts";
import { latencyChanged, rebaseSome } from "./rib_latency.ts";

export type { FlushResult, PeerInfo, PeerMessages, QuotaRefusals, ReceiveResult, RouterOptions };
export { BIG_TABLE, BIG_TABLE_LATENCY_MS, EXPIRY_SLICE } from "./router_limits.ts";

/** The routing core of one node. See the module documentation. */
export class Router {
  readonly #rib: Rib;
  /** The forwarding table, kept current after every event (mutated in place). */
  readonly fib: Fib<NextHop>;
  /**
   * The uRPF source table (feasible peers per source prefix); a stable object, updated at the
   * end of every event. Give it to the forwarder once.
   */
  readonly sources: SourceTable;
  /** Received payloads not applied yet (see {@link queueAnnounce}). */
  readonly #inbox = new ReceiveQueue();
  /** Received items applied on arrival since the last flush (see #queue). */
  #appliedAtOnce = 0;
  readonly #applyReceived = (b: Received): void => {
    if (b.kind === "announce") receiveAnnounce(this.#rib, b.from, b.items);
    else receiveWithdraw(this.#rib, b.from, b.items);
  };

  /**
   * Creates a router with no routes and no neighbours.
   * @throws {RangeError} on a bad option value
   */
  constructor(options: RouterOptions) {
    this.#rib = new Rib(options);
    this.fib = this.#rib.fib;
    this.sources = this.#rib.sources;
  }

  /** True when {@link Router.flush} has something to return. */
  get pending(): boolean {
    if (
      this.#rib.dirty.size > 0 || this.#rib.held.size > 0 || this.#rib.fibChanged ||
      this.#rib.sourceDirty.size > 0 || this.#inbox.size > 0
    ) {
      return true;
    }
    for (const p of this.#rib.peers.values()) {
      if (p.refreshAll || p.refreshQueue !== undefined || p.poisonWait.size > 0) return true;
      if (p.rebaseWalk.active) return true;
    }
    return false;
  }

  /**
   * Adds or retargets a prefix served by this node (a local route always wins).
   * @param target the local vif key the FIB should send matching packets to
   * @throws {RangeError} when the prefix is malformed
   */
  addLocal(prefix: Ipv6Prefix, target: string): void {
    if (!isValidPrefix(prefix)) throw new RangeError("addLocal: malformed prefix");
    const key = prefixKey(prefix);
    const dest = this.#rib.dest(key, prefix);
    const added = !this.#rib.locals.has(key);
    if (dest.local === undefined) this.#rib.counts.candidates++;
    dest.local = target;
    this.#rib.locals.set(key, dest.prefix);
    this.#rib.sourcesChanged(key, dest.prefix);
    this.#rib.recompute(dest);
    // While a DC is in force, unlisted neighbours may not hold more-specifics of it.
    if (added && this.#rib.claimed !== undefined) refilter(this.#rib);
    this.#rib.syncSources();
  }

  /** Removes a local prefix; learned routes for it (if any) take over at once. */
  removeLocal(prefix: Ipv6Prefix): void {
    const key = prefixKey(prefix);
    const dest = this.#rib.dests.get(key);
    if (dest?.local === undefined) return;
    dest.local = undefined;
    this.#rib.counts.candidates--;
    this.#rib.locals.delete(key);
    this.#rib.sourceDirty.set(key, dest.prefix);
    this.#rib.recompute(dest);
    this.#rib.syncSources();
  }

  /**
   * A session with a neighbour came up: it gets the full table in the next flush. If the
   * neighbour was already up, its old routes are dropped first (a new session starts clean).
   * @param latencyMs the first latency sample for the link
   * @throws {RangeError} on a latency that is not a finite number ≥ 0
   */
  peerUp(info: PeerInfo, latencyMs: number): void {
    if (info.id === this.#rib.o.localId) {
      throw new RangeError("peerUp: a node cannot peer with itself");
    }
    const latency = new LinkLatency(latencyMs, this.#rib.latencyOptions);
    if (this.#rib.peers.has(info.id)) this.peerDown(info.id);
    this.#inbox.dropPeer(info.id);
    this.#rib.peers.set(info.id, {
      info,
      latency,
      hop: { kind: "peer", id: info.id },
      keys: new Set(),
      feasibleKeys: new Set(),
      adjOut: new Map(),
      poisonWait: new Set(),
      poisonDueAt: undefined,
      rejected: new Map(),
      refreshAll: true,
      refreshQueue: undefined,
      refreshAt: 0,
      latencyPending: false,
      latencyAppliedAt: -Infinity,
      lastRefresh: this.#rib.o.clock.now(),
      quota: new PeerQuota(this.#rib.o.maxRoutesPerPeer, this.#rib.o.maxRoutesPerOrigin),
      expiryWalk: new SetWalk(),
      feasibleWalk: new SetWalk(),
      rebaseWalk: new SetWalk(),
    });
    this.#rib.names.set(info.id, info.name);
  }

  /** A session went down: every route through it is dropped and the next best installed. */
  peerDown(id: PeerId): void {
    this.#inbox.dropPeer(id);
    const peer = this.#rib.peers.get(id);
    if (peer === undefined) return;
    this.#rib.peers.delete(id);
    for (const key of peer.keys) {
      const dest = this.#rib.dests.get(key)!;
      this.#rib.sourcesChanged(key, dest.prefix);
      dest.cands.delete(id);
      this.#rib.counts.candidates--;
      this.#rib.recompute(dest);
    }
    for (const key of [...peer.feasibleKeys]) this.#rib.forgetFeasible(peer, key);
    this.#rib.syncSources();
  }

  /**
   * A latency sample (RTT, ms) for the link to a neighbour. When the smoothed value moves past
   * the threshold, the routes learned from it are re-decided with the new value as their first
   * hop (and re-announced to the other neighbours where that changes what they were told). The
   * neighbour itself is not sent its routes again: it replaces the first hop's latency of what
   * we announce with its own measurement of the link, so the value would change nothing there.
   * @throws {RangeError} on a sample that is not a finite number ≥ 0
   */
  updateLatency(id: PeerId, sampleMs: number): void {
    const peer = this.#rib.peers.get(id);
    if (peer !== undefined && peer.latency.sample(sampleMs)) latencyChanged(this.#rib, peer);
  }

  /**
   * Replaces the link latency to a neighbour with a first real measurement (the value given to
   * `peerUp` may have been a guess); as {@link updateLatency}, the routes learned from it are
   * re-decided.
   * @throws {RangeError} on a sample that is not a finite number ≥ 0
   */
  resetLatency(id: PeerId, sampleMs: number): void {
    const peer = this.#rib.peers.get(id);
    if (peer !== undefined && peer.latency.reset(sampleMs)) latencyChanged(this.#rib, peer);
  }

  /** The latency this node currently advertises for the link to `id`, ms. */
  linkLatency(id: PeerId): number | undefined {
    return this.#rib.peers.get(id)?.latency.advertisedMs;
  }

  /**
   * Routes received from neighbour `fromId`. Each is checked (first hop = sender, no loop, at
   * most 64 hops, sane latencies, filter, per-peer limit); a refused route also withdraws the
   * route that neighbour sent earlier for the same prefix.
   *
   * A route whose only fault is that its path contains this node (a poisoned announcement: the
   * neighbour's best route goes through us) withdraws that neighbour's earlier route too, but
   * when the filter and the quotas allow the neighbour the prefix it is kept as "feasible only":
   * the neighbour becomes a feasible source for the prefix ({@link Router.sources}), never a
   * next hop. It counts in `feasibleOnly`, not in `rejected`.
   */
  receiveAnnounce(fromId: PeerId, routes: readonly Route[]): ReceiveResult {
    return receiveAnnounce(this.#rib, fromId, routes);
  }

  /**
   * A received announce payload, applied as {@link receiveAnnounce} in slices of
   * `RECEIVE_SLICE` routes (receive_queue.ts): the first slice at once when nothing else
   * waits, the rest by the following flushes (`pending` stays true meanwhile), so a payload of
   * a thousand routes does not hold the event loop. Payloads are applied in arrival order; what
   * a neighbour sent is dropped when its session ends (`peerDown`, a new `peerUp`).
   */
  queueAnnounce(fromId: PeerId, routes: readonly Route[]): void {
    this.#queue({ from: fromId, kind: "announce", items: routes });
  }

  /** A received withdraw payload, applied as {@link receiveWithdraw} in slices (see {@link queueAnnounce}). */
  queueWithdraw(fromId: PeerId, prefixes: readonly Ipv6Prefix[]): void {
    this.#queue({ from: fromId, kind: "withdraw", items: prefixes });
  }

  /** Received items waiting to be applied (see {@link queueAnnounce}). */
  get receiveBacklog(): number {
    return this.#inbox.size;
  }

  #queue(b: Received): void {
    const idle = this.#inbox.size === 0;
    this.#inbox.push(b);
    // One read of the session can hold many payloads: at most a slice at once between flushes.
    const room = RECEIVE_SLICE - this.#appliedAtOnce;
    if (idle && room > 0) this.#appliedAtOnce += this.#inbox.take(room, this.#applyReceived);
    const over = this.#inbox.size - MAX_RECEIVE_QUEUED;
    if (over > 0) this.#inbox.take(over, this.#applyReceived);
  }

  /** Prefixes withdrawn by neighbour `fromId`. Unknown prefixes are ignored. */
  receiveWithdraw(fromId: PeerId, prefixes: readonly Ipv6Prefix[]): void {
    receiveWithdraw(this.#rib, fromId, prefixes);
  }

  /**
   * Installs a new prefix whitelist. Learned routes it no longer allows are dropped at once;
   * kept rejected routes it now allows are accepted at once (others on the next refresh).
   */
  setWhitelist(whitelist: PrefixWhitelist): void {
    this.#rib.whitelist = canonicalWhitelist(whitelist);
    this.#rib.claimed = new ClaimedSpace(this.#rib.whitelist, canonicalName(this.#rib.o.localName));
    refilter(this.#rib);
    this.#rib.syncSources();
  }
  /**
   * Sets the IDs of revoked nodes (the set is kept, not copied: pass a new one to change it).
   * Learned routes, feasible-only entries and kept rejected routes whose path contains one
   * are dropped at once; announcements containing one are refused from then on.
   * @returns how many candidate routes were dropped
   */
  setRevoked(ids: ReadonlySet<PeerId>): number {
    return revoke(this.#rib, ids);
  }

  /**
   * Timers: expires routes not refreshed within `routeTimeoutMs` and schedules the periodic
   * full refresh of each neighbour. Call about once a second.
   */
  tick(): void {
    expire(this.#rib);
  }

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
  flush(maxPrefixes = Infinity): FlushResult {
    // Received payloads waiting in the queue come first, then latency re-bases under way: a
    // slice of them (see queueAnnounce, rib_latency.ts).
    this.#appliedAtOnce = 0;
    let work = maxPrefixes === Infinity ? Infinity : Math.min(maxPrefixes, RECEIVE_SLICE);
    work -= this.#inbox.take(work, this.#applyReceived);
    for (const peer of this.#rib.peers.values()) {
      if (peer.rebaseWalk.active && work > 0) work -= rebaseSome(this.#rib, peer, work);
    }
    // While received payloads wait, what they change is sent once it fills a slice (full
    // payloads, not one small payload per received slice).
    const peers = Math.max(1, this.#rib.peers.size);
    if (this.#inbox.size > 0 && this.#rib.dirty.size * peers < maxPrefixes) {
      return { messages: new Map(), fibChanged: false };
    }
    return flushRib(this.#rib, maxPrefixes);
  }
  /**
   * Names of nodes beyond the neighbours (the node sets the node book's lookup), used by
   * {@link table} for hops whose name the router does not know.
   */
  nameOf: ((id: PeerId) => string | undefined) | undefined;

  /** The selected routes, sorted by prefix, for `vmesh routes` and table files. */
  table(): RouteView[] {
    const names = this.#rib.names;
    const more = this.nameOf;
    const nameOf = (id: PeerId) => names.get(id) ?? more?.(id);
    return routeViews(this.#rib.dests.values(), nameOf, this.#rib.o.clock.now());
  }

  /**
   * Every node ID in the path of a candidate route (Adj-RIB-In, not only the best routes), and
   * every neighbour's: the nodes whose names this node may need to show.
   */
  nodesInPaths(): Set<PeerId> {
    const out = new Set<PeerId>(this.#rib.peers.keys());
    for (const dest of this.#rib.dests.values()) {
      for (const c of dest.cands.values()) for (const h of c.path) out.add(h.id);
    }
    return out;
  }

  /**
   * Changes of a prefix's next hop in the FIB since start: a route installed, moved to another
   * next hop, or removed (a monotonic counter).
   */
  get routeChanges(): number {
    return this.#rib.routeChanges;
  }

  /**
   * The number of selected routes (local ones included) and of candidates (as in the table's
   * CANDIDATES column: routes learned from neighbours plus local routes). O(1): kept as the
   * table changes (route_counts.ts), cheap enough to read at every status poll.
   */
  counts(): { routes: number; candidates: number } {
    return { routes: this.#rib.counts.routes, candidates: this.#rib.counts.candidates };
  }

  /** The number of selected routes through each neighbour (for `vmesh status`). */
  routesVia(): Map<PeerId, number> {
    return this.#rib.counts.via();
  }

  /** Routes refused by the per-peer and per-origin limits, per neighbour with any refusal. */
  quotaRefusals(): QuotaRefusals[] {
    const out: QuotaRefusals[] = [];
    for (const p of this.#rib.peers.values()) {
      const r = p.quota.refusals(p.info.name, p.info.id);
      if (r !== undefined) out.push(r);
    }
    return out;
  }
}
