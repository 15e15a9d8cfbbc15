/**
 * State records of the {@link Router} and small pure helpers over them.
 * The exported interfaces other than the options and results are internal to `src/routing/`.
 * @module
 */
import type { Clock } from "../clock/mod.ts";
import type { ExternalDefault, PrefixWhitelist } from "../filter/mod.ts";
import { type Ipv6Prefix, parsePrefix, prefixKey } from "../net/mod.ts";
import type { PeerId } from "../pki/mod.ts";
import type { Candidate, DecisionReason } from "./decision.ts";
import type { LatencyOptions, LinkLatency } from "./latency.ts";
import type { PeerQuota } from "./route_quota.ts";
import { MAX_PATH_HOPS, type NextHop, type Route } from "./route.ts";

/** Settings of a {@link Router}. */
export interface RouterOptions {
  /** This node's ID. */
  readonly localId: PeerId;
  /** This node's certificate name (for the table view). */
  readonly localName: string;
  /** The node's clock (only `now()` is read; milliseconds, monotonic). */
  readonly clock: Pick<Clock, "now">;
  /** A working best route is replaced only by one at least this much faster (default 10). */
  readonly hysteresisMs?: number;
  /** Routes accepted from one neighbour before it is refused more (default 65 536). */
  readonly maxRoutesPerPeer?: number;
  /**
   * Routes accepted from one neighbour for one origin node (the last hop of the path) before
   * that origin is refused more through that neighbour (default 16 384).
   */
  readonly maxRoutesPerOrigin?: number;
  /** Filter default for external peers without a whitelist entry (default "reject"). */
  readonly externalPeersDefault?: ExternalDefault;
  /** Prefix whitelist from the distributed config (default: no DC in force). */
  readonly whitelist?: PrefixWhitelist;
  /** Full re-announcement period per neighbour, ms (default 30 000). */
  readonly refreshIntervalMs?: number;
  /** A learned route not re-announced within this time expires, ms (default 60 000). */
  readonly routeTimeoutMs?: number;
  /** Filter-rejected routes kept per neighbour for re-evaluation on a new whitelist (1024). */
  readonly maxRejectedPerPeer?: number;
  /** Link latency smoothing. */
  readonly latency?: LatencyOptions;
  /**
   * When the best route for a prefix moves to a different, slower path, neighbours get a
   * withdrawal at once and the new route only after this hold, ms (default 100; 0 disables).
   * Damps path hunting: see docs/routing.md.
   */
  readonly worseRouteHoldMs?: number;
  /**
   * A change of poisoned state (a poisoned announcement, see {@link advertisable}, or its
   * withdrawal) waits up to this long to ride along with the next payload of its kind to that
   * neighbour, ms (default 300): it only matters to the neighbour's source address validation,
   * and waiting keeps it from costing a message of its own during convergence. A full-table
   * send carries it at once.
   */
  readonly poisonDelayMs?: number;
}

/** A neighbour as the router sees it. */
export interface PeerInfo {
  readonly id: PeerId;
  /** Certificate name (used by the filter and the table view). */
  readonly name: string;
  /** True for peers configured as external (filter default applies). */
  readonly external: boolean;
}

/** What one neighbour must be sent. */
export interface PeerMessages {
  readonly announce: Route[];
  readonly withdraw: Ipv6Prefix[];
}

/** Result of {@link Router.flush}. */
export interface FlushResult {
  /** Per neighbour with something to send. Encode with `encodeAnnounce`/`encodeWithdraw`. */
  readonly messages: Map<PeerId, PeerMessages>;
  /** True when the FIB changed since the previous flush. */
  readonly fibChanged: boolean;
}

/** Result of {@link Router.receiveAnnounce}. */
export interface ReceiveResult {
  readonly accepted: number;
  readonly rejected: number;
  /**
   * Poisoned announcements kept as "feasible only" (the neighbour's best route goes through
   * this node): not routes, but the neighbour is a feasible source for the prefix.
   */
  readonly feasibleOnly: number;
  /** Reasons of the first few rejections ("fd00::/16: first hop is not the announcing peer"). */
  readonly problems: string[];
}

export interface Learned extends Candidate {
  readonly receivedAt: number;
}

/** A poisoned announcement kept for uRPF: its origin (for the quota) and when it arrived. */
export interface FeasibleOnly {
  readonly origin: PeerId;
  readonly receivedAt: number;
}

/**
 * One Adj-RIB-Out entry: a usable route was announced (the destination's version then), or
 * a poisoned one (our best route goes through the peer; see {@link advertisable}).
 */
export type Sent = { readonly kind: "usable"; readonly version: number } | typeof POISONED;

/** The Adj-RIB-Out entry of a poisoned announcement (path changes while poisoned send nothing). */
export const POISONED: { readonly kind: "poisoned" } = { kind: "poisoned" };

export type Selected =
  | { readonly kind: "local"; readonly target: string; readonly reason: DecisionReason }
  | { readonly kind: "peer"; readonly cand: Learned; readonly reason: DecisionReason };

export interface Dest {
  readonly prefix: Ipv6Prefix;
  local?: string;
  readonly cands: Map<PeerId, Learned>;
  /**
   * Neighbours that sent a poisoned announcement for the prefix (their best route to it goes
   * through us): feasible sources for uRPF, never candidates for the decision or the FIB.
   */
  readonly feasible: Map<PeerId, FeasibleOnly>;
  best?: Selected;
  since: number;
  /** Bumped whenever what we announce for this prefix changes. */
  version: number;
  /** While set and in the future, the route is withdrawn from neighbours, not announced. */
  holdUntil?: number;
  /** Metric (µs) of the route we had when the hold started: a route this good ends it. */
  holdMetricUs?: number;
}

export interface PeerState {
  info: PeerInfo;
  readonly latency: LinkLatency;
  readonly hop: NextHop;
  /** Prefixes with a candidate from this peer. */
  readonly keys: Set<string>;
  /** Prefixes this peer is feasible-only for (see {@link Dest.feasible}). */
  readonly feasibleKeys: Set<string>;
  /** Adj-RIB-Out: prefix key → what the peer was last sent (absent: nothing, or a withdrawal). */
  readonly adjOut: Map<string, Sent>;
  /** Prefixes whose poisoned announcement waits to ride along (see `poisonDelayMs`). */
  readonly poisonWait: Set<string>;
  /** When the waiting poisoned announcements go out on their own. */
  poisonDueAt: number | undefined;
  /** Routes the filter refused, kept (bounded) to re-evaluate on a whitelist change. */
  readonly rejected: Map<string, { route: Route; at: number }>;
  refreshAll: boolean;
  lastRefresh: number;
  /** The per-peer and per-origin route limits and their refusal counters. */
  readonly quota: PeerQuota;
}

export function sameNextHop(a: Selected | undefined, b: Selected | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.kind === "local") return b.kind === "local" && a.target === b.target;
  return b.kind === "peer" && a.cand.peer === b.cand.peer;
}

export function sameAnnouncement(a: Selected | undefined, b: Selected | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.kind === "local" || b.kind === "local") return a.kind === b.kind;
  const pa = a.cand.path, pb = b.cand.path;
  if (pa.length !== pb.length) return false;
  for (let i = 0; i < pa.length; i++) {
    if (pa[i].id !== pb[i].id) return false;
    if (Math.round(pa[i].latencyMs * 1000) !== Math.round(pb[i].latencyMs * 1000)) return false;
  }
  return true;
}

/** Metric of a selection in µs (0 for a local route). */
export function selectedMetricUs(s: Selected): number {
  return s.kind === "local" ? 0 : s.cand.metricUs;
}

/** True when both selections follow the same nodes (latencies aside). */
export function samePath(a: Selected, b: Selected): boolean {
  if (a.kind === "local" || b.kind === "local") return a.kind === b.kind;
  const pa = a.cand.path, pb = b.cand.path;
  if (pa.length !== pb.length) return false;
  for (let i = 0; i < pa.length; i++) if (pa[i].id !== pb[i].id) return false;
  return true;
}

export function comparePrefixes(a: Ipv6Prefix, b: Ipv6Prefix): number {
  for (let i = 0; i < 16; i++) if (a.addr[i] !== b.addr[i]) return a.addr[i] - b.addr[i];
  return a.len - b.len;
}

/**
 * What to announce to `peer` for `dest`:
 * - `usable`: our best route with this node prepended;
 * - `poisoned`: our best route goes through `peer` (learned from it, or `peer` is in its path),
 *   so `peer` would refuse it as a loop. It is sent all the same (once, see {@link syncPrefix}):
 *   the receiver's loop check turns it into "this neighbour has a path to the prefix", which
 *   its source address validation needs when routes are asymmetric (docs/routing.md). Only
 *   when we could pass the prefix's traffic on to `peer` at all: some other neighbour gave us
 *   a usable route for the prefix, since our own uRPF refuses the prefix's sources from a
 *   neighbour that is no feasible source. (Feasible-only entries do not count: with them,
 *   poisoned routes would enable each other hop by hop, each after `poisonDelayMs`.);
 * - undefined: nothing (no route, a path at the hop limit, or held back after a change to a
 *   slower path until `now` passes the hold; a poisoned route is not held, as it is never
 *   usable by the peer and replaces the withdrawal the hold would send).
 */
export function advertisable(
  localId: PeerId,
  peer: PeerState,
  dest: Dest,
  now: number,
): { readonly kind: "usable" | "poisoned"; readonly route: Route } | undefined {
  const best = dest.best;
  if (best === undefined) return undefined;
  const held = dest.holdUntil !== undefined && now < dest.holdUntil;
  const first = { id: localId, latencyMs: peer.latency.advertisedMs };
  if (best.kind === "local") {
    return held ? undefined : { kind: "usable", route: { prefix: dest.prefix, path: [first] } };
  }
  const path = best.cand.path;
  if (path.length >= MAX_PATH_HOPS) return undefined;
  const route = { prefix: dest.prefix, path: [first, ...path] };
  let through = best.cand.peer === peer.info.id;
  for (let i = 1; i < path.length && !through; i++) through = path[i].id === peer.info.id;
  if (!through) return held ? undefined : { kind: "usable", route };
  return otherRoute(dest, peer.info.id) ? { kind: "poisoned", route } : undefined;
}

/** True when a neighbour other than `id` gave us a usable route for `dest`'s prefix. */
function otherRoute(dest: Dest, id: PeerId): boolean {
  for (const p of dest.cands.keys()) if (p !== id) return true;
  return false;
}

/** Gives the message record of one neighbour in a flush. */
export type Outbox = (id: PeerId) => PeerMessages;

/** What {@link syncPrefix} needs besides the peer and the prefix. */
export interface SyncContext {
  readonly localId: PeerId;
  readonly now: number;
  readonly poisonDelayMs: number;
  readonly out: Outbox;
}

/**
 * Brings `peer`'s Adj-RIB-Out for one prefix up to date: announces when the route changed (or
 * always, with `force`), withdraws when there is nothing to announce any more.
 *
 * A poisoned route is sent on the transition into the poisoned state (and by a full refresh),
 * not when its path or latency changes while it stays poisoned: the receiver only learns from
 * it that we have some path. On the transition it waits (`peer.poisonWait`, sent by
 * {@link sendWaitingPoison}); a usable route the peer had is withdrawn at once.
 */
export function syncPrefix(
  ctx: SyncContext,
  peer: PeerState,
  key: string,
  dest: Dest | undefined,
  force: boolean,
): void {
  const ad = dest === undefined ? undefined : advertisable(ctx.localId, peer, dest, ctx.now);
  const had = peer.adjOut.get(key);
  if (ad !== undefined && ad.kind !== "poisoned") peer.poisonWait.delete(key);
  if (ad === undefined) {
    if (had === undefined) return;
    if (had === POISONED && !force) {
      // Only the peer's feasibility for the prefix changes: no hurry (see `poisonWait`).
      peer.poisonWait.add(key);
      peer.poisonDueAt ??= ctx.now + ctx.poisonDelayMs;
      return;
    }
    peer.adjOut.delete(key);
    ctx.out(peer.info.id).withdraw.push(dest?.prefix ?? parsePrefix(key));
  } else if (ad.kind === "poisoned") {
    if (force) {
      peer.poisonWait.delete(key);
      peer.adjOut.set(key, POISONED);
      ctx.out(peer.info.id).announce.push(ad.route);
      return;
    }
    if (had === POISONED) {
      peer.poisonWait.delete(key); // back to poisoned before its withdrawal went out
      return;
    }
    if (peer.poisonWait.has(key)) return;
    if (had !== undefined) {
      peer.adjOut.delete(key);
      ctx.out(peer.info.id).withdraw.push(dest!.prefix);
    }
    peer.poisonWait.add(key);
    peer.poisonDueAt ??= ctx.now + ctx.poisonDelayMs;
  } else if (force || had?.kind !== "usable" || had.version !== dest!.version) {
    peer.adjOut.set(key, { kind: "usable", version: dest!.version });
    ctx.out(peer.info.id).announce.push(ad.route);
  }
}

/**
 * Sends `peer`'s waiting changes of poisoned state (a poisoned announcement, or the withdrawal
 * of one) when this flush sends it a payload of the same kind anyway, or when they are due.
 * A poisoned announcement that replaces a withdrawal in the same flush takes its place.
 */
export function sendWaitingPoison(
  ctx: SyncContext,
  peer: PeerState,
  dests: ReadonlyMap<string, Dest>,
  sent: ReadonlyMap<PeerId, PeerMessages>,
): void {
  if (peer.poisonWait.size === 0) {
    peer.poisonDueAt = undefined;
    return;
  }
  const m = sent.get(peer.info.id);
  const due = ctx.now >= peer.poisonDueAt!;
  const announcing = due || (m?.announce.length ?? 0) > 0;
  const withdrawing = due || (m?.withdraw.length ?? 0) > 0;
  const replaced = new Set<string>();
  for (const key of peer.poisonWait) {
    const dest = dests.get(key);
    const ad = dest === undefined ? undefined : advertisable(ctx.localId, peer, dest, ctx.now);
    const had = peer.adjOut.get(key);
    if (ad?.kind === "poisoned" && had !== POISONED) {
      if (!announcing) continue;
      peer.adjOut.set(key, POISONED);
      ctx.out(peer.info.id).announce.push(ad.route);
      replaced.add(key);
    } else if (ad === undefined && had === POISONED) {
      if (!withdrawing) continue;
      peer.adjOut.delete(key);
      ctx.out(peer.info.id).withdraw.push(dest?.prefix ?? parsePrefix(key));
    }
    peer.poisonWait.delete(key);
  }
  if (peer.poisonWait.size === 0) peer.poisonDueAt = undefined;
  const withdraw = m?.withdraw;
  if (withdraw === undefined || replaced.size === 0) return;
  let n = 0;
  for (const p of withdraw) if (!replaced.has(prefixKey(p))) withdraw[n++] = p;
  withdraw.length = n;
}

/** Sends `peer` the whole table (and withdraws anything it had that is gone). */
export function syncAll(
  ctx: SyncContext,
  peer: PeerState,
  dests: ReadonlyMap<string, Dest>,
): void {
  for (const key of [...peer.adjOut.keys()]) {
    if (!dests.has(key)) syncPrefix(ctx, peer, key, undefined, true);
  }
  for (const [key, dest] of dests) syncPrefix(ctx, peer, key, dest, true);
}
