/**
 * The state of a {@link Router} and the operations that keep it consistent: the destinations
 * (candidates per prefix, the selection, holds), the FIB and the uRPF source table, the
 * neighbours' records, and the shared hop, path, candidate and selection objects. Every change
 * of a candidate or a local prefix goes through {@link Rib.recompute}, which re-decides the
 * prefix, updates the FIB, the counts and the hold, and marks what neighbours must hear. The
 * router's entry points (router.ts, rib_receive.ts, rib_filter.ts, rib_flush.ts) are built on
 * it. Internal to `src/routing/`.
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
import { canonicalName, formatPrefix, type Ipv6Prefix, prefixCovers } from "../net/mod.ts";
import { type PeerId, shortId } from "../pki/mod.ts";
import { decide, type DecisionReason } from "./decision.ts";
import { Fib } from "../fib/mod.ts";
import { DEFAULT_MIN_CHANGE_MS, DEFAULT_MIN_CHANGE_RATIO, type LatencyOptions } from "./latency.ts";
import { type Hop, type NextHop, pathMetricUs, type Route } from "./route.ts";
import {
  type Dest,
  type Learned,
  type PeerState,
  type RouterOptions,
  sameAnnouncement,
  sameNextHop,
  samePath,
  type Selected,
  selectedMetricUs,
  significantMetricChange,
} from "./router_state.ts";
import { updateHold } from "./route_hold.ts";
import { SharedHops, SharedPaths } from "./shared_hops.ts";
import { PeerMap } from "./peer_map.ts";
import { SourceTable } from "./source_table.ts";
import { RouteCounts } from "./route_counts.ts";

const log = getLogger(["vmesh", "routing"]);

/** The state of one router. See the module documentation. */
export class Rib {
  /** The forwarding table, kept current after every event (mutated in place). */
  readonly fib: Fib<NextHop> = new Fib<NextHop>();
  readonly o: Required<Omit<RouterOptions, "latency" | "whitelist">>;
  readonly latencyOptions: LatencyOptions;
  whitelist: PrefixWhitelist;
  readonly dests = new Map<string, Dest>();
  readonly peers = new Map<PeerId, PeerState>();
  readonly names = new Map<PeerId, string>();
  /** Prefixes to sync to the neighbours at the next flush. */
  readonly dirty = new Set<string>();
  /** Prefixes whose announcement is held back (see `worseRouteHoldMs`). */
  readonly held = new Set<string>();
  readonly localHops = new Map<string, NextHop>();
  /** This node's local prefixes by key. */
  readonly locals = new Map<string, Ipv6Prefix>();
  /** The space the DC whitelist claims; undefined while no DC is in force. */
  claimed: ClaimedSpace | undefined;
  fibChanged = false;
  /** Prefixes whose feasible peers or own mark changed since the last flush. */
  readonly sourceDirty = new Map<string, Ipv6Prefix>();
  /** The uRPF source table (feasible peers per source prefix), updated at the end of every event. */
  readonly sources: SourceTable = new SourceTable();
  /** Hop objects shared by the candidates' paths. */
  readonly hops = new SharedHops();
  /** Path arrays shared by the candidates. */
  readonly paths = new SharedPaths();
  routeChanges = 0;
  readonly counts = new RouteCounts();
  /** IDs of revoked nodes (see `Router.setRevoked`). */
  revoked: ReadonlySet<PeerId> = new Set();
  lastSelected: Selected | undefined;
  /** The last candidate made by {@link Rib.candidate} and the path it was made from. */
  lastCandidate: { from: readonly Hop[]; first: number; cand: Learned } | undefined;

  /**
   * Creates the state with no routes and no neighbours.
   * @throws {RangeError} on a bad option value
   */
  constructor(options: RouterOptions) {
    this.o = {
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
      const v = this.o[k];
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`router option ${k}: ${v} is not ≥ 0`);
    }
    this.latencyOptions = options.latency ?? {};
    this.whitelist = canonicalWhitelist(options.whitelist ?? new Map());
    if (options.whitelist !== undefined) {
      this.claimed = new ClaimedSpace(this.whitelist, canonicalName(this.o.localName));
    }
    this.names.set(options.localId, options.localName);
  }

  /**
   * Brings the source table up to date: a rebuild for a first table of many prefixes
   * (O(n log n)), otherwise prefix by prefix (each O(log n) plus the prefixes inside it).
   */
  syncSources(): void {
    const dirty = this.sourceDirty;
    if (dirty.size === 0) return;
    if (this.sources.size === 0 && dirty.size > 64) {
      this.sources.rebuild(this.sourcePrefixes());
    } else {
      for (const [key, prefix] of dirty) {
        const d = this.dests.get(key);
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

  *sourcePrefixes() {
    for (const d of this.dests.values()) {
      yield { prefix: d.prefix, peers: feasiblePeers(d), own: d.local !== undefined };
    }
  }

  /**
   * The set of feasible neighbours of a prefix changed: the source table must follow, and so
   * may the poisoned announcements (see `advertisable`), so the prefix is synced in the next
   * flush (which sends nothing where nothing changed).
   */
  sourcesChanged(key: string, prefix: Ipv6Prefix): void {
    this.sourceDirty.set(key, prefix);
    this.dirty.add(key);
  }

  allowed(peer: PeerState, prefix: Ipv6Prefix): boolean {
    return this.verdict(peer, prefix).accept;
  }

  /**
   * The filter's verdict, plus: while a DC is in force, a neighbour without a whitelist entry
   * may not announce a more-specific of one of our local prefixes.
   */
  verdict(peer: PeerState, prefix: Ipv6Prefix): FilterVerdict {
    const ext = this.o.externalPeersDefault;
    const v = filterRoute(peer.info, prefix, this.whitelist, ext, this.claimed);
    if (!v.accept || this.claimed === undefined) return v;
    if (this.whitelist.has(canonicalName(peer.info.name))) return v;
    for (const local of this.locals.values()) {
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

  dest(key: string, prefix: Ipv6Prefix): Dest {
    let dest = this.dests.get(key);
    if (dest === undefined) {
      const copy = { addr: prefix.addr.slice(), len: prefix.len };
      dest = {
        key,
        prefix: copy,
        cands: new PeerMap(),
        feasible: new PeerMap(),
        since: this.o.clock.now(),
        version: 0,
      };
      this.dests.set(key, dest);
    }
    return dest;
  }

  /**
   * Stores a checked, allowed route, its first hop's latency replaced by our own measurement.
   * @returns undefined, or why a limit refuses it
   */
  learn(peer: PeerState, key: string, route: Route, at: number): string | undefined {
    const id = peer.info.id;
    const old = this.dests.get(key)?.cands.get(id);
    const origin = route.path[route.path.length - 1].id;
    const oldOrigin = old?.path[old.path.length - 1].id;
    // A usable route replaces a feasible-only entry (and its place in the quotas).
    this.forgetFeasible(peer, key);
    const held = peer.keys.size + peer.feasibleKeys.size;
    const refusal = peer.quota.admit(held, old === undefined, origin, oldOrigin);
    if (refusal?.limit === "peer") {
      const max = this.o.maxRoutesPerPeer;
      if (refusal.first) {
        log.warn(
          "Peer {peer} ({id}) sent more than {max} routes; refusing the rest until its session restarts",
          { peer: peer.info.name, id: shortId(peer.info.id), max },
        );
      }
      return `over the limit of ${max} routes`;
    }
    if (refusal?.limit === "origin") {
      const max = this.o.maxRoutesPerOrigin;
      if (refusal.first) {
        log.warn(
          "Origin {origin} sent more than {max} routes through {peer}; refusing the rest from it",
          { origin: shortId(origin), max, peer: peer.info.name },
        );
      }
      if (old !== undefined) this.forget(peer, key);
      return `origin ${shortId(origin)} is over the limit of ${max} routes through this peer`;
    }
    const dest = this.dest(key, route.prefix);
    dest.cands.set(id, this.candidate(peer, route.path, at));
    if (old === undefined) {
      this.counts.candidates++;
      peer.keys.add(key);
      this.sourcesChanged(key, dest.prefix);
    }
    peer.quota.stored(origin, oldOrigin);
    peer.rejected.delete(key);
    this.recompute(dest);
    return undefined;
  }

  /**
   * The candidate for a route `peer` sent with `path`, its first hop's latency replaced by our
   * own measurement; hop objects and paths are shared (see #hops, #paths), and so is the
   * candidate itself between the routes of a payload with the same path (they are immutable).
   */
  candidate(peer: PeerState, path: readonly Hop[], at: number): Learned {
    const first = peer.latency.advertisedMs;
    const id = peer.info.id;
    const last = this.lastCandidate;
    if (
      last !== undefined && last.from === path && last.first === first && last.cand.peer === id &&
      last.cand.receivedAt === at
    ) {
      return last.cand;
    }
    const shared = this.paths.get(
      path.map((h, i) => this.hops.get(h.id, i === 0 ? first : h.latencyMs)),
    );
    const cand = { peer: id, path: shared, metricUs: pathMetricUs(shared), receivedAt: at };
    this.lastCandidate = { from: path, first, cand };
    return cand;
  }

  /** Drops the candidate `peer` gave for `key`, if any. */
  forget(peer: PeerState, key: string): void {
    if (!peer.keys.delete(key)) return;
    const dest = this.dests.get(key)!;
    const old = dest.cands.get(peer.info.id)!;
    peer.quota.released(old.path[old.path.length - 1].id);
    dest.cands.delete(peer.info.id);
    this.counts.candidates--;
    this.sourcesChanged(key, dest.prefix);
    this.recompute(dest);
  }

  /**
   * Records that `peer` has a path to `route.prefix` through us (a poisoned announcement that
   * passed the filter): feasible for uRPF only. Counted in the peer's quotas like a candidate.
   * @returns undefined, or why a limit refuses it
   */
  learnFeasible(peer: PeerState, key: string, route: Route, at: number): string | undefined {
    const id = peer.info.id;
    const origin = route.path[route.path.length - 1].id;
    const old = this.dests.get(key)?.feasible.get(id);
    const held = peer.keys.size + peer.feasibleKeys.size;
    const refusal = peer.quota.admit(held, old === undefined, origin, old?.origin);
    if (refusal !== undefined) {
      if (old !== undefined) this.forgetFeasible(peer, key);
      return refusal.limit === "peer"
        ? `over the limit of ${this.o.maxRoutesPerPeer} routes`
        : `origin ${shortId(origin)} is over the limit of ${this.o.maxRoutesPerOrigin} routes ` +
          "through this peer";
    }
    const dest = this.dest(key, route.prefix);
    dest.feasible.set(id, { origin, receivedAt: at });
    if (old === undefined) {
      peer.feasibleKeys.add(key);
      this.sourcesChanged(key, dest.prefix);
    }
    peer.quota.stored(origin, old?.origin);
    return undefined;
  }

  /** Drops `peer`'s feasible-only entry for `key`, if any. */
  forgetFeasible(peer: PeerState, key: string): void {
    if (!peer.feasibleKeys.delete(key)) return;
    const dest = this.dests.get(key)!;
    peer.quota.released(dest.feasible.get(peer.info.id)!.origin);
    dest.feasible.delete(peer.info.id);
    this.sourcesChanged(key, dest.prefix);
    if (isEmpty(dest)) this.dirty.add(key); // let flush drop the empty entry
  }

  keepRejected(peer: PeerState, key: string, route: Route, at: number): void {
    if (!peer.rejected.has(key) && peer.rejected.size >= this.o.maxRejectedPerPeer) return;
    peer.rejected.set(key, { route, at });
  }

  /** Re-runs the decision for one prefix; updates the FIB and marks announcements. */
  recompute(dest: Dest): void {
    const old = dest.best;
    let next: Selected | undefined;
    if (dest.local !== undefined) {
      next = { kind: "local", target: dest.local, reason: "local route" };
    } else {
      const incumbent = old?.kind === "peer" ? old.cand.peer : undefined;
      const d = decide(dest.cands.values(), incumbent, this.o.hysteresisMs * 1000);
      if (d !== undefined) next = this.selection(d.best as Learned, d.reason);
    }
    dest.best = next;
    const key = dest.key;
    if (updateHold(dest, old, next, this.o.clock.now(), this.o.worseRouteHoldMs)) {
      // Re-added at the end, so that #held stays in the order the holds end (see flush).
      this.held.delete(key);
      this.held.add(key);
    }
    if (!sameNextHop(old, next)) {
      this.routeChanges++;
      this.counts.selected(old, next);
      dest.since = this.o.clock.now();
      if (next === undefined) this.fib.delete(dest.prefix);
      else this.fib.set(dest.prefix, this.nextHop(next));
      this.fibChanged = true;
    }
    if (!sameAnnouncement(old, next) && !this.minorMetricChange(dest, old, next)) {
      dest.version++;
      dest.announcedMetricUs = next === undefined ? undefined : selectedMetricUs(next);
      this.dirty.add(key);
    } else if (next === undefined) {
      this.dirty.add(key); // let flush drop the empty entry
    }
  }

  /** A peer selection (immutable: shared between prefixes, as the candidates are). */
  selection(cand: Learned, reason: DecisionReason): Selected {
    const last = this.lastSelected;
    if (last?.kind === "peer" && last.cand === cand && last.reason === reason) return last;
    return this.lastSelected = { kind: "peer", cand, reason };
  }

  /** True when only the hop latencies of the same path moved, and not significantly. */
  minorMetricChange(dest: Dest, old: Selected | undefined, next: Selected | undefined): boolean {
    if (old === undefined || next === undefined || !samePath(old, next)) return false;
    const announced = dest.announcedMetricUs;
    if (announced === undefined) return false;
    const o = this.latencyOptions;
    return !significantMetricChange(
      announced,
      selectedMetricUs(next),
      o.minChangeMs ?? DEFAULT_MIN_CHANGE_MS,
      o.minChangeRatio ?? DEFAULT_MIN_CHANGE_RATIO,
    );
  }

  nextHop(sel: Selected): NextHop {
    if (sel.kind === "peer") return this.peers.get(sel.cand.peer)!.hop;
    let hop = this.localHops.get(sel.target);
    if (hop === undefined) {
      this.localHops.set(sel.target, hop = { kind: "local", target: sel.target });
    }
    return hop;
  }
}

/** True when nothing keeps `dest` in the table any more. */
export function isEmpty(dest: Dest): boolean {
  return dest.local === undefined && dest.cands.size === 0 && dest.feasible.size === 0;
}

/** The peers `dest` makes feasible sources: every candidate's and every feasible-only one. */
function* feasiblePeers(dest: Dest): Iterable<PeerId> {
  yield* dest.cands.keys();
  yield* dest.feasible.keys();
}
