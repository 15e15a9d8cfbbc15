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
 * @module
 */
import { getLogger } from "@logtape/logtape";
import {
  canonicalWhitelist,
  ClaimedSpace,
  filterRoute,
  type FilterVerdict,
  type PrefixWhitelist,
} from "../filter/mod.ts";
import {
  canonicalName,
  formatPrefix,
  type Ipv6Prefix,
  prefixCovers,
  prefixKey,
} from "../net/mod.ts";
import { type PeerId, shortId } from "../pki/mod.ts";
import { decide, type DecisionReason } from "./decision.ts";
import { Fib } from "../fib/mod.ts";
import {
  DEFAULT_MIN_CHANGE_MS,
  DEFAULT_MIN_CHANGE_RATIO,
  type LatencyOptions,
  LinkLatency,
} from "./latency.ts";
import { type Hop, type NextHop, pathMetricUs, type Route } from "./route.ts";
import { isValidPrefix, LOOP_PROBLEM, revokedHop, routeProblem } from "./route_check.ts";
import {
  type Dest,
  type FlushResult,
  type Learned,
  type PeerInfo,
  type PeerMessages,
  type PeerState,
  type ReceiveResult,
  type RouterOptions,
  sameAnnouncement,
  sameNextHop,
  samePath,
  type Selected,
  selectedMetricUs,
  significantMetricChange,
} from "./router_state.ts";
import { sendWaitingPoison, syncPrefix } from "./adj_rib_out.ts";
import { updateHold } from "./route_hold.ts";
import { routeViews } from "./route_views.ts";
import { SharedHops, SharedPaths } from "./shared_hops.ts";
import { PeerMap } from "./peer_map.ts";
import { SetWalk } from "./set_walk.ts";
import { PeerQuota, type QuotaRefusals } from "./route_quota.ts";
import { SourceTable } from "./source_table.ts";
import { RouteCounts } from "./route_counts.ts";
import { MAX_RECEIVE_QUEUED, RECEIVE_SLICE, type Received, ReceiveQueue } from "./receive_queue.ts";
import type { RouteView } from "./table_view.ts";

export type { FlushResult, PeerInfo, PeerMessages, QuotaRefusals, ReceiveResult, RouterOptions };

const log = getLogger(["vmesh", "routing"]);

const MAX_PROBLEMS = 8;

/**
 * Above this many prefixes, a change of a link's advertised latency (which re-bases the routes
 * learned over the link and sends the neighbour the whole table again) is applied at most once
 * per {@link BIG_TABLE_LATENCY_MS} per neighbour, at a `tick()`: with 100 000 routes each
 * application costs a second of CPU along the chain, and a node that is busy measures inflated
 * RTTs, which would otherwise start the next one.
 */
export const BIG_TABLE = 4096;
/** See {@link BIG_TABLE}. */
export const BIG_TABLE_LATENCY_MS = 5000;
/**
 * Routes (and feasible-only entries) per neighbour that `tick()` checks for expiry: a table up
 * to this size is checked whole every tick, a bigger one a slice per tick (100 000 routes in
 * 13 ticks), so a route expires up to that much later than `routeTimeoutMs`.
 */
export const EXPIRY_SLICE = 8192;

/** The routing core of one node. See the module documentation. */
export class Router {
  /** The forwarding table, kept current after every event (mutated in place). */
  readonly fib: Fib<NextHop> = new Fib<NextHop>();
  readonly #o: Required<Omit<RouterOptions, "latency" | "whitelist">>;
  readonly #latencyOptions: LatencyOptions;
  #whitelist: PrefixWhitelist;
  readonly #dests = new Map<string, Dest>();
  readonly #peers = new Map<PeerId, PeerState>();
  readonly #names = new Map<PeerId, string>();
  readonly #dirty = new Set<string>();
  /** Prefixes whose announcement is held back (see `worseRouteHoldMs`). */
  readonly #held = new Set<string>();
  readonly #localHops = new Map<string, NextHop>();
  /** This node's local prefixes by key. */
  readonly #locals = new Map<string, Ipv6Prefix>();
  /** The space the DC whitelist claims; undefined while no DC is in force. */
  #claimed: ClaimedSpace | undefined;
  #fibChanged = false;
  /** Prefixes whose feasible peers or own mark changed since the last flush. */
  readonly #sourceDirty = new Map<string, Ipv6Prefix>();
  /**
   * The uRPF source table (feasible peers per source prefix); a stable object, updated at the
   * end of every event. Give it to the forwarder once.
   */
  readonly sources: SourceTable = new SourceTable();
  /** Hop objects shared by the candidates' paths. */
  readonly #hops = new SharedHops();
  /** Path arrays shared by the candidates. */
  readonly #paths = new SharedPaths();
  #routeChanges = 0;
  readonly #counts = new RouteCounts();
  /** IDs of revoked nodes (see {@link setRevoked}). */
  #revoked: ReadonlySet<PeerId> = new Set();
  /** Received payloads not applied yet (see {@link queueAnnounce}). */
  readonly #inbox = new ReceiveQueue();
  #lastSelected: Selected | undefined;
  /** The last candidate made by #candidate and the path it was made from. */
  #lastCandidate: { from: readonly Hop[]; first: number; cand: Learned } | undefined;
  /** Received items applied on arrival since the last flush (see #queue). */
  #appliedAtOnce = 0;
  readonly #applyReceived = (b: Received): void => {
    if (b.kind === "announce") this.receiveAnnounce(b.from, b.items);
    else this.receiveWithdraw(b.from, b.items);
  };

  /**
   * Creates a router with no routes and no neighbours.
   * @throws {RangeError} on a bad option value
   */
  constructor(options: RouterOptions) {
    this.#o = {
      localId: options.localId,
      localName: options.localName,
      clock: options.clock,
      hysteresisMs: options.hysteresisMs ?? 10,
      maxRoutesPerPeer: options.maxRoutesPerPeer ?? 65536,
      maxRoutesPerOrigin: options.maxRoutesPerOrigin ?? 16384,
      externalPeersDefault: options.externalPeersDefault ?? "reject",
      refreshIntervalMs: options.refreshIntervalMs ?? 30_000,
      routeTimeoutMs: options.routeTimeoutMs ?? 60_000,
      maxRejectedPerPeer: options.maxRejectedPerPeer ?? 1024,
      worseRouteHoldMs: options.worseRouteHoldMs ?? 100,
      poisonDelayMs: options.poisonDelayMs ?? 300,
    };
    const checked = [
      "hysteresisMs",
      "maxRoutesPerPeer",
      "maxRoutesPerOrigin",
      "refreshIntervalMs",
      "worseRouteHoldMs",
      "poisonDelayMs",
    ] as const;
    for (const k of checked) {
      const v = this.#o[k];
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`router option ${k}: ${v} is not ≥ 0`);
    }
    this.#latencyOptions = options.latency ?? {};
    this.#whitelist = canonicalWhitelist(options.whitelist ?? new Map());
    if (options.whitelist !== undefined) {
      this.#claimed = new ClaimedSpace(this.#whitelist, canonicalName(this.#o.localName));
    }
    this.#names.set(options.localId, options.localName);
  }

  /** True when {@link Router.flush} has something to return. */
  get pending(): boolean {
    if (
      this.#dirty.size > 0 || this.#held.size > 0 || this.#fibChanged ||
      this.#sourceDirty.size > 0 || this.#inbox.size > 0
    ) {
      return true;
    }
    for (const p of this.#peers.values()) {
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
    const dest = this.#dest(key, prefix);
    const added = !this.#locals.has(key);
    if (dest.local === undefined) this.#counts.candidates++;
    dest.local = target;
    this.#locals.set(key, dest.prefix);
    this.#sourcesChanged(key, dest.prefix);
    this.#recompute(dest);
    // While a DC is in force, unlisted neighbours may not hold more-specifics of it.
    if (added && this.#claimed !== undefined) this.#refilter();
    this.#syncSources();
  }

  /** Removes a local prefix; learned routes for it (if any) take over at once. */
  removeLocal(prefix: Ipv6Prefix): void {
    const key = prefixKey(prefix);
    const dest = this.#dests.get(key);
    if (dest?.local === undefined) return;
    dest.local = undefined;
    this.#counts.candidates--;
    this.#locals.delete(key);
    this.#sourceDirty.set(key, dest.prefix);
    this.#recompute(dest);
    this.#syncSources();
  }

  /**
   * A session with a neighbour came up: it gets the full table in the next flush. If the
   * neighbour was already up, its old routes are dropped first (a new session starts clean).
   * @param latencyMs the first latency sample for the link
   * @throws {RangeError} on a latency that is not a finite number ≥ 0
   */
  peerUp(info: PeerInfo, latencyMs: number): void {
    if (info.id === this.#o.localId) throw new RangeError("peerUp: a node cannot peer with itself");
    const latency = new LinkLatency(latencyMs, this.#latencyOptions);
    if (this.#peers.has(info.id)) this.peerDown(info.id);
    this.#inbox.dropPeer(info.id);
    this.#peers.set(info.id, {
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
      lastRefresh: this.#o.clock.now(),
      quota: new PeerQuota(this.#o.maxRoutesPerPeer, this.#o.maxRoutesPerOrigin),
      expiryWalk: new SetWalk(),
      feasibleWalk: new SetWalk(),
      rebaseWalk: new SetWalk(),
    });
    this.#names.set(info.id, info.name);
  }

  /** A session went down: every route through it is dropped and the next best installed. */
  peerDown(id: PeerId): void {
    this.#inbox.dropPeer(id);
    const peer = this.#peers.get(id);
    if (peer === undefined) return;
    this.#peers.delete(id);
    for (const key of peer.keys) {
      const dest = this.#dests.get(key)!;
      this.#sourcesChanged(key, dest.prefix);
      dest.cands.delete(id);
      this.#counts.candidates--;
      this.#recompute(dest);
    }
    for (const key of [...peer.feasibleKeys]) this.#forgetFeasible(peer, key);
    this.#syncSources();
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
    const peer = this.#peers.get(id);
    if (peer !== undefined && peer.latency.sample(sampleMs)) this.#latencyChanged(peer);
  }

  /**
   * Replaces the link latency to a neighbour with a first real measurement (the value given to
   * `peerUp` may have been a guess); as {@link updateLatency}, the routes learned from it are
   * re-decided.
   * @throws {RangeError} on a sample that is not a finite number ≥ 0
   */
  resetLatency(id: PeerId, sampleMs: number): void {
    const peer = this.#peers.get(id);
    if (peer !== undefined && peer.latency.reset(sampleMs)) this.#latencyChanged(peer);
  }

  /** The latency this node currently advertises for the link to `id`, ms. */
  linkLatency(id: PeerId): number | undefined {
    return this.#peers.get(id)?.latency.advertisedMs;
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
    const peer = this.#peers.get(fromId);
    const result = { accepted: 0, rejected: 0, feasibleOnly: 0, problems: [] as string[] };
    const refuse = (prefix: Ipv6Prefix | undefined, why: string) => {
      result.rejected++;
      if (result.problems.length < MAX_PROBLEMS) {
        const p = prefix && isValidPrefix(prefix) ? formatPrefix(prefix) : "malformed prefix";
        result.problems.push(`${p}: ${why}`);
      }
    };
    if (peer === undefined) {
      for (const r of routes) refuse(r?.prefix, "the peer's session is not up");
      return result;
    }
    const now = this.#o.clock.now();
    for (const route of routes) {
      if (route === null || typeof route !== "object" || !isValidPrefix(route.prefix)) {
        refuse(undefined, "malformed prefix");
        continue;
      }
      const key = prefixKey(route.prefix);
      const problem = routeProblem(route, fromId, this.#o.localId);
      if (problem !== undefined && problem !== LOOP_PROBLEM) {
        this.#forget(peer, key);
        this.#forgetFeasible(peer, key);
        refuse(route.prefix, problem);
        continue;
      }
      const revoked = revokedHop(route.path, this.#revoked);
      if (revoked !== undefined) {
        this.#forget(peer, key);
        this.#forgetFeasible(peer, key);
        peer.rejected.delete(key);
        refuse(route.prefix, `path contains node ${shortId(revoked)}, revoked by the DC`);
        continue;
      }
      const verdict = this.#verdict(peer, route.prefix);
      if (!verdict.accept) {
        this.#forget(peer, key);
        this.#forgetFeasible(peer, key);
        if (problem === undefined) this.#keepRejected(peer, key, route, now);
        refuse(route.prefix, verdict.reason);
        continue;
      }
      if (problem === LOOP_PROBLEM) {
        this.#forget(peer, key);
        peer.rejected.delete(key);
        const over = this.#learnFeasible(peer, key, route, now);
        if (over === undefined) result.feasibleOnly++;
        else refuse(route.prefix, over);
        continue;
      }
      const over = this.#learn(peer, key, route, now);
      if (over === undefined) result.accepted++;
      else refuse(route.prefix, over);
    }
    if (result.rejected > 0) {
      log.debug("Refused {count} routes from {peer}: {problems}", {
        count: result.rejected,
        peer: peer.info.name,
        problems: result.problems.join("; "),
      });
    }
    this.#syncSources();
    return result;
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
    const peer = this.#peers.get(fromId);
    if (peer === undefined) return;
    for (const p of prefixes) {
      if (!isValidPrefix(p)) continue;
      const key = prefixKey(p);
      this.#forget(peer, key);
      this.#forgetFeasible(peer, key);
      peer.rejected.delete(key);
    }
    this.#syncSources();
  }

  /**
   * Installs a new prefix whitelist. Learned routes it no longer allows are dropped at once;
   * kept rejected routes it now allows are accepted at once (others on the next refresh).
   */
  setWhitelist(whitelist: PrefixWhitelist): void {
    this.#whitelist = canonicalWhitelist(whitelist);
    this.#claimed = new ClaimedSpace(this.#whitelist, canonicalName(this.#o.localName));
    this.#refilter();
    this.#syncSources();
  }

  /**
   * Sets the IDs of revoked nodes (the set is kept, not copied: pass a new one to change it).
   * Learned routes, feasible-only entries and kept rejected routes whose path contains one
   * are dropped at once; announcements containing one are refused from then on.
   * @returns how many candidate routes were dropped
   */
  setRevoked(ids: ReadonlySet<PeerId>): number {
    this.#revoked = ids;
    if (ids.size === 0) return 0;
    let dropped = 0;
    for (const peer of this.#peers.values()) {
      for (const key of [...peer.keys]) {
        const cand = this.#dests.get(key)!.cands.get(peer.info.id)!;
        if (revokedHop(cand.path, ids) === undefined) continue;
        this.#forget(peer, key);
        dropped++;
      }
      for (const key of [...peer.feasibleKeys]) {
        const f = this.#dests.get(key)!.feasible.get(peer.info.id)!;
        if (ids.has(f.origin) || ids.has(peer.info.id)) this.#forgetFeasible(peer, key);
      }
      for (const [key, kept] of [...peer.rejected]) {
        if (revokedHop(kept.route.path, ids) !== undefined) peer.rejected.delete(key);
      }
    }
    this.#syncSources();
    return dropped;
  }

  /** Re-applies the filter to every learned and every kept rejected route. */
  #refilter(): void {
    const now = this.#o.clock.now();
    for (const peer of this.#peers.values()) {
      for (const key of [...peer.keys]) {
        const dest = this.#dests.get(key)!;
        const cand = dest.cands.get(peer.info.id)!;
        if (!this.#allowed(peer, dest.prefix)) {
          this.#forget(peer, key);
          this.#keepRejected(peer, key, { prefix: dest.prefix, path: cand.path }, cand.receivedAt);
        }
      }
      for (const key of [...peer.feasibleKeys]) {
        if (!this.#allowed(peer, this.#dests.get(key)!.prefix)) this.#forgetFeasible(peer, key);
      }
      for (const [key, kept] of [...peer.rejected]) {
        if (!this.#allowed(peer, kept.route.prefix)) continue;
        peer.rejected.delete(key);
        if (now - kept.at <= this.#o.routeTimeoutMs) this.#learn(peer, key, kept.route, kept.at);
      }
    }
  }

  /**
   * Timers: expires routes not refreshed within `routeTimeoutMs` and schedules the periodic
   * full refresh of each neighbour. Call about once a second.
   */
  tick(): void {
    const now = this.#o.clock.now();
    const timeout = this.#o.routeTimeoutMs;
    for (const peer of this.#peers.values()) {
      const id = peer.info.id;
      // A slice of the routes per tick (all of them up to EXPIRY_SLICE): see SetWalk.
      peer.expiryWalk.step(peer.keys, EXPIRY_SLICE, (key) => {
        const cand = this.#dests.get(key)!.cands.get(id)!;
        if (now - cand.receivedAt > timeout) this.#forget(peer, key);
      });
      peer.feasibleWalk.step(peer.feasibleKeys, EXPIRY_SLICE, (key) => {
        const f = this.#dests.get(key)!.feasible.get(id)!;
        if (now - f.receivedAt > timeout) this.#forgetFeasible(peer, key);
      });
      for (const [key, kept] of [...peer.rejected]) {
        if (now - kept.at > this.#o.routeTimeoutMs) peer.rejected.delete(key);
      }
      if (now - peer.lastRefresh >= this.#o.refreshIntervalMs) peer.refreshAll = true;
      if (peer.latencyPending && now - peer.latencyAppliedAt >= BIG_TABLE_LATENCY_MS) {
        this.#applyLatency(peer);
      }
    }
    this.#syncSources();
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
    // slice of them (see queueAnnounce, #applyLatency).
    this.#appliedAtOnce = 0;
    let work = Math.min(maxPrefixes, Math.max(RECEIVE_SLICE, maxPrefixes / 4));
    work -= this.#inbox.take(work, this.#applyReceived);
    for (const peer of this.#peers.values()) {
      if (peer.rebaseWalk.active && work > 0) work -= this.#rebaseSome(peer, work);
    }
    const now = this.#o.clock.now();
    // Holds are added in the order they end (see #recompute), so the first one not due ends it.
    // At most about `maxPrefixes` end per flush; the rest end in the next ones.
    let ended = 0;
    for (const key of this.#held) {
      const dest = this.#dests.get(key);
      if (dest?.holdUntil !== undefined && now < dest.holdUntil) break;
      if (ended++ >= maxPrefixes) break;
      if (dest !== undefined) dest.holdUntil = dest.holdMetricUs = undefined;
      this.#held.delete(key);
      this.#dirty.add(key);
    }
    const messages = new Map<PeerId, PeerMessages>();
    const out = (id: PeerId): PeerMessages => {
      let m = messages.get(id);
      if (m === undefined) messages.set(id, m = { announce: [], withdraw: [] });
      return m;
    };
    const ctx = { localId: this.#o.localId, now, poisonDelayMs: this.#o.poisonDelayMs, out };
    // Peers whose full table send starts now: it covers every prefix with force, so the dirty
    // ones are not synced twice. (One that started in an earlier flush gets the dirty ones now,
    // and may get some of them again when its send reaches them.)
    const starting = new Set<PeerState>();
    for (const peer of this.#peers.values()) {
      if (!peer.refreshAll) continue;
      starting.add(peer);
      // A full table send: withdraw what the peer had that is gone, (re)announce the rest.
      peer.refreshQueue = [];
      for (const key of peer.adjOut.keys()) if (!this.#dests.has(key)) peer.refreshQueue.push(key);
      for (const key of this.#dests.keys()) peer.refreshQueue.push(key);
      peer.refreshAt = 0;
      peer.refreshAll = false;
      peer.lastRefresh = now;
    }
    let budget = maxPrefixes;
    const peerCount = Math.max(1, this.#peers.size);
    for (const key of this.#dirty) {
      if (budget <= 0) break;
      budget -= peerCount;
      this.#dirty.delete(key);
      const dest = this.#dests.get(key);
      for (const peer of this.#peers.values()) {
        if (!starting.has(peer)) syncPrefix(ctx, peer, key, dest, false);
      }
      if (dest !== undefined && isEmpty(dest)) this.#dests.delete(key);
    }
    this.#syncSources();
    for (const peer of this.#peers.values()) {
      const queue = peer.refreshQueue;
      if (queue === undefined) continue;
      let i = peer.refreshAt;
      for (; i < queue.length && budget > 0; i++, budget--) {
        syncPrefix(ctx, peer, queue[i], this.#dests.get(queue[i]), true);
      }
      peer.refreshAt = i;
      if (i === queue.length) peer.refreshQueue = undefined;
    }
    for (const peer of this.#peers.values()) sendWaitingPoison(ctx, peer, this.#dests, messages);
    const fibChanged = this.#fibChanged;
    this.#fibChanged = false;
    return { messages, fibChanged };
  }

  /**
   * Names of nodes beyond the neighbours (the node sets the node book's lookup), used by
   * {@link table} for hops whose name the router does not know.
   */
  nameOf: ((id: PeerId) => string | undefined) | undefined;

  /** The selected routes, sorted by prefix, for `vmesh routes` and table files. */
  table(): RouteView[] {
    const names = this.#names;
    const more = this.nameOf;
    const nameOf = (id: PeerId) => names.get(id) ?? more?.(id);
    return routeViews(this.#dests.values(), nameOf, this.#o.clock.now());
  }

  /**
   * Every node ID in the path of a candidate route (Adj-RIB-In, not only the best routes), and
   * every neighbour's: the nodes whose names this node may need to show.
   */
  nodesInPaths(): Set<PeerId> {
    const out = new Set<PeerId>(this.#peers.keys());
    for (const dest of this.#dests.values()) {
      for (const c of dest.cands.values()) for (const h of c.path) out.add(h.id);
    }
    return out;
  }

  /**
   * Changes of a prefix's next hop in the FIB since start: a route installed, moved to another
   * next hop, or removed (a monotonic counter).
   */
  get routeChanges(): number {
    return this.#routeChanges;
  }

  /**
   * The number of selected routes (local ones included) and of candidates (as in the table's
   * CANDIDATES column: routes learned from neighbours plus local routes). O(1): kept as the
   * table changes (route_counts.ts), cheap enough to read at every status poll.
   */
  counts(): { routes: number; candidates: number } {
    return { routes: this.#counts.routes, candidates: this.#counts.candidates };
  }

  /** The number of selected routes through each neighbour (for `vmesh status`). */
  routesVia(): Map<PeerId, number> {
    return this.#counts.via();
  }

  /** Routes refused by the per-peer and per-origin limits, per neighbour with any refusal. */
  quotaRefusals(): QuotaRefusals[] {
    const out: QuotaRefusals[] = [];
    for (const p of this.#peers.values()) {
      const r = p.quota.refusals(p.info.name, p.info.id);
      if (r !== undefined) out.push(r);
    }
    return out;
  }

  /**
   * Brings the source table up to date: a rebuild for a first table of many prefixes
   * (O(n log n)), otherwise prefix by prefix (each O(log n) plus the prefixes inside it).
   */
  #syncSources(): void {
    const dirty = this.#sourceDirty;
    if (dirty.size === 0) return;
    if (this.sources.size === 0 && dirty.size > 64) {
      this.sources.rebuild(this.#sourcePrefixes());
    } else {
      for (const [key, prefix] of dirty) {
        const d = this.#dests.get(key);
        // The table keeps the prefix object: give it the destination's own copy.
        this.sources.update(
          d?.prefix ?? prefix,
          d === undefined ? [] : feasiblePeers(d),
          d?.local !== undefined,
          key,
        );
      }
    }
    dirty.clear();
  }

  *#sourcePrefixes() {
    for (const d of this.#dests.values()) {
      yield { prefix: d.prefix, peers: feasiblePeers(d), own: d.local !== undefined };
    }
  }

  /**
   * The set of feasible neighbours of a prefix changed: the source table must follow, and so
   * may the poisoned announcements (see `advertisable`), so the prefix is synced in the next
   * flush (which sends nothing where nothing changed).
   */
  #sourcesChanged(key: string, prefix: Ipv6Prefix): void {
    this.#sourceDirty.set(key, prefix);
    this.#dirty.add(key);
  }

  #allowed(peer: PeerState, prefix: Ipv6Prefix): boolean {
    return this.#verdict(peer, prefix).accept;
  }

  /**
   * The filter's verdict, plus: while a DC is in force, a neighbour without a whitelist entry
   * may not announce a more-specific of one of our local prefixes.
   */
  #verdict(peer: PeerState, prefix: Ipv6Prefix): FilterVerdict {
    const ext = this.#o.externalPeersDefault;
    const v = filterRoute(peer.info, prefix, this.#whitelist, ext, this.#claimed);
    if (!v.accept || this.#claimed === undefined) return v;
    if (this.#whitelist.has(canonicalName(peer.info.name))) return v;
    for (const local of this.#locals.values()) {
      if (local.len < prefix.len && prefixCovers(local, prefix)) {
        return {
          accept: false,
          reason: `${formatPrefix(prefix)} lies inside this node's local prefix ` +
            `${formatPrefix(local)} and "${peer.info.name}" has no whitelist entry`,
        };
      }
    }
    return v;
  }

  /** The advertised latency of `peer`'s link moved: now, or later for a big table (BIG_TABLE). */
  #latencyChanged(peer: PeerState): void {
    const now = this.#o.clock.now();
    if (this.#dests.size > BIG_TABLE && now - peer.latencyAppliedAt < BIG_TABLE_LATENCY_MS) {
      peer.latencyPending = true;
    } else {
      this.#applyLatency(peer);
    }
  }

  /** Re-bases `peer`'s routes' first hop on its advertised latency. */
  #applyLatency(peer: PeerState): void {
    peer.latencyPending = false;
    peer.latencyAppliedAt = this.#o.clock.now();
    peer.rebaseWalk.start(peer.keys);
    // A small table at once; a big one in slices by the next flushes (see #rebaseSome).
    if (this.#dests.size <= BIG_TABLE) this.#rebaseSome(peer, Infinity);
  }

  /**
   * Re-bases up to `max` of `peer`'s routes on its advertised latency (a re-base under way).
   * @returns how many were visited
   */
  #rebaseSome(peer: PeerState, max: number): number {
    const id = peer.info.id;
    let n = 0;
    peer.rebaseWalk.step(peer.keys, max, (key) => {
      n++;
      const ms = peer.latency.advertisedMs;
      const dest = this.#dests.get(key)!;
      const c = dest.cands.get(id)!;
      if (c.path[0].latencyMs === ms) return;
      const path = this.#paths.get([this.#hops.get(c.path[0].id, ms), ...c.path.slice(1)]);
      dest.cands.set(id, { ...c, path, metricUs: pathMetricUs(path) });
      this.#recompute(dest);
    });
    return n;
  }

  #dest(key: string, prefix: Ipv6Prefix): Dest {
    let dest = this.#dests.get(key);
    if (dest === undefined) {
      const copy = { addr: prefix.addr.slice(), len: prefix.len };
      dest = {
        key,
        prefix: copy,
        cands: new PeerMap(),
        feasible: new PeerMap(),
        since: this.#o.clock.now(),
        version: 0,
      };
      this.#dests.set(key, dest);
    }
    return dest;
  }

  /**
   * Stores a checked, allowed route, its first hop's latency replaced by our own measurement.
   * @returns undefined, or why a limit refuses it
   */
  #learn(peer: PeerState, key: string, route: Route, at: number): string | undefined {
    const id = peer.info.id;
    const old = this.#dests.get(key)?.cands.get(id);
    const origin = route.path[route.path.length - 1].id;
    const oldOrigin = old?.path[old.path.length - 1].id;
    // A usable route replaces a feasible-only entry (and its place in the quotas).
    this.#forgetFeasible(peer, key);
    const held = peer.keys.size + peer.feasibleKeys.size;
    const refusal = peer.quota.admit(held, old === undefined, origin, oldOrigin);
    if (refusal?.limit === "peer") {
      const max = this.#o.maxRoutesPerPeer;
      if (refusal.first) {
        log.warn(
          "Peer {peer} ({id}) sent more than {max} routes; refusing the rest until its session restarts",
          { peer: peer.info.name, id: shortId(peer.info.id), max },
        );
      }
      return `over the limit of ${max} routes`;
    }
    if (refusal?.limit === "origin") {
      const max = this.#o.maxRoutesPerOrigin;
      if (refusal.first) {
        log.warn(
          "Origin {origin} sent more than {max} routes through {peer}; refusing the rest from it",
          { origin: shortId(origin), max, peer: peer.info.name },
        );
      }
      if (old !== undefined) this.#forget(peer, key);
      return `origin ${shortId(origin)} is over the limit of ${max} routes through this peer`;
    }
    const dest = this.#dest(key, route.prefix);
    dest.cands.set(id, this.#candidate(peer, route.path, at));
    if (old === undefined) {
      this.#counts.candidates++;
      peer.keys.add(key);
      this.#sourcesChanged(key, dest.prefix);
    }
    peer.quota.stored(origin, oldOrigin);
    peer.rejected.delete(key);
    this.#recompute(dest);
    return undefined;
  }

  /**
   * The candidate for a route `peer` sent with `path`, its first hop's latency replaced by our
   * own measurement; hop objects and paths are shared (see #hops, #paths), and so is the
   * candidate itself between the routes of a payload with the same path (they are immutable).
   */
  #candidate(peer: PeerState, path: readonly Hop[], at: number): Learned {
    const first = peer.latency.advertisedMs;
    const id = peer.info.id;
    const last = this.#lastCandidate;
    if (
      last !== undefined && last.from === path && last.first === first && last.cand.peer === id &&
      last.cand.receivedAt === at
    ) {
      return last.cand;
    }
    const shared = this.#paths.get(
      path.map((h, i) => this.#hops.get(h.id, i === 0 ? first : h.latencyMs)),
    );
    const cand = { peer: id, path: shared, metricUs: pathMetricUs(shared), receivedAt: at };
    this.#lastCandidate = { from: path, first, cand };
    return cand;
  }

  /** Drops the candidate `peer` gave for `key`, if any. */
  #forget(peer: PeerState, key: string): void {
    if (!peer.keys.delete(key)) return;
    const dest = this.#dests.get(key)!;
    const old = dest.cands.get(peer.info.id)!;
    peer.quota.released(old.path[old.path.length - 1].id);
    dest.cands.delete(peer.info.id);
    this.#counts.candidates--;
    this.#sourcesChanged(key, dest.prefix);
    this.#recompute(dest);
  }

  /**
   * Records that `peer` has a path to `route.prefix` through us (a poisoned announcement that
   * passed the filter): feasible for uRPF only. Counted in the peer's quotas like a candidate.
   * @returns undefined, or why a limit refuses it
   */
  #learnFeasible(peer: PeerState, key: string, route: Route, at: number): string | undefined {
    const id = peer.info.id;
    const origin = route.path[route.path.length - 1].id;
    const old = this.#dests.get(key)?.feasible.get(id);
    const held = peer.keys.size + peer.feasibleKeys.size;
    const refusal = peer.quota.admit(held, old === undefined, origin, old?.origin);
    if (refusal !== undefined) {
      if (old !== undefined) this.#forgetFeasible(peer, key);
      return refusal.limit === "peer"
        ? `over the limit of ${this.#o.maxRoutesPerPeer} routes`
        : `origin ${shortId(origin)} is over the limit of ${this.#o.maxRoutesPerOrigin} routes ` +
          "through this peer";
    }
    const dest = this.#dest(key, route.prefix);
    dest.feasible.set(id, { origin, receivedAt: at });
    if (old === undefined) {
      peer.feasibleKeys.add(key);
      this.#sourcesChanged(key, dest.prefix);
    }
    peer.quota.stored(origin, old?.origin);
    return undefined;
  }

  /** Drops `peer`'s feasible-only entry for `key`, if any. */
  #forgetFeasible(peer: PeerState, key: string): void {
    if (!peer.feasibleKeys.delete(key)) return;
    const dest = this.#dests.get(key)!;
    peer.quota.released(dest.feasible.get(peer.info.id)!.origin);
    dest.feasible.delete(peer.info.id);
    this.#sourcesChanged(key, dest.prefix);
    if (isEmpty(dest)) this.#dirty.add(key); // let flush drop the empty entry
  }

  #keepRejected(peer: PeerState, key: string, route: Route, at: number): void {
    if (!peer.rejected.has(key) && peer.rejected.size >= this.#o.maxRejectedPerPeer) return;
    peer.rejected.set(key, { route, at });
  }

  /** Re-runs the decision for one prefix; updates the FIB and marks announcements. */
  #recompute(dest: Dest): void {
    const old = dest.best;
    let next: Selected | undefined;
    if (dest.local !== undefined) {
      next = { kind: "local", target: dest.local, reason: "local route" };
    } else {
      const incumbent = old?.kind === "peer" ? old.cand.peer : undefined;
      const d = decide(dest.cands.values(), incumbent, this.#o.hysteresisMs * 1000);
      if (d !== undefined) next = this.#selection(d.best as Learned, d.reason);
    }
    dest.best = next;
    const key = dest.key;
    if (updateHold(dest, old, next, this.#o.clock.now(), this.#o.worseRouteHoldMs)) {
      // Re-added at the end, so that #held stays in the order the holds end (see flush).
      this.#held.delete(key);
      this.#held.add(key);
    }
    if (!sameNextHop(old, next)) {
      this.#routeChanges++;
      this.#counts.selected(old, next);
      dest.since = this.#o.clock.now();
      if (next === undefined) this.fib.delete(dest.prefix);
      else this.fib.set(dest.prefix, this.#nextHop(next));
      this.#fibChanged = true;
    }
    if (!sameAnnouncement(old, next) && !this.#minorMetricChange(dest, old, next)) {
      dest.version++;
      dest.announcedMetricUs = next === undefined ? undefined : selectedMetricUs(next);
      this.#dirty.add(key);
    } else if (next === undefined) {
      this.#dirty.add(key); // let flush drop the empty entry
    }
  }

  /** A peer selection (immutable: shared between prefixes, as the candidates are). */
  #selection(cand: Learned, reason: DecisionReason): Selected {
    const last = this.#lastSelected;
    if (last?.kind === "peer" && last.cand === cand && last.reason === reason) return last;
    return this.#lastSelected = { kind: "peer", cand, reason };
  }

  /** True when only the hop latencies of the same path moved, and not significantly. */
  #minorMetricChange(dest: Dest, old: Selected | undefined, next: Selected | undefined): boolean {
    if (old === undefined || next === undefined || !samePath(old, next)) return false;
    const announced = dest.announcedMetricUs;
    if (announced === undefined) return false;
    const o = this.#latencyOptions;
    return !significantMetricChange(
      announced,
      selectedMetricUs(next),
      o.minChangeMs ?? DEFAULT_MIN_CHANGE_MS,
      o.minChangeRatio ?? DEFAULT_MIN_CHANGE_RATIO,
    );
  }

  #nextHop(sel: Selected): NextHop {
    if (sel.kind === "peer") return this.#peers.get(sel.cand.peer)!.hop;
    let hop = this.#localHops.get(sel.target);
    if (hop === undefined) {
      this.#localHops.set(sel.target, hop = { kind: "local", target: sel.target });
    }
    return hop;
  }
}

/** True when nothing keeps `dest` in the table any more. */
function isEmpty(dest: Dest): boolean {
  return dest.local === undefined && dest.cands.size === 0 && dest.feasible.size === 0;
}

/** The peers `dest` makes feasible sources: every candidate's and every feasible-only one. */
function* feasiblePeers(dest: Dest): Iterable<PeerId> {
  yield* dest.cands.keys();
  yield* dest.feasible.keys();
}
