/**
 * State records of the {@link Router} and small pure helpers over them.
 * The exported interfaces other than the options and results are internal to `src/routing/`.
 * @module
 */
import type { Clock } from "../clock/mod.ts";
import type { ExternalDefault, PrefixWhitelist } from "../filter/mod.ts";
import type { Ipv6Prefix } from "../net/mod.ts";
import type { PeerId } from "../pki/mod.ts";
import type { Candidate, DecisionReason } from "./decision.ts";
import type { LatencyOptions, LinkLatency } from "./latency.ts";
import type { PeerQuota } from "./route_quota.ts";
import type { Hop, NextHop, Route } from "./route.ts";
import type { Sent } from "./adj_rib_out.ts";
import type { PeerMap } from "./peer_map.ts";
import type { SetWalk } from "./set_walk.ts";

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

export type Selected =
  | { readonly kind: "local"; readonly target: string; readonly reason: DecisionReason }
  | { readonly kind: "peer"; readonly cand: Learned; readonly reason: DecisionReason };

export interface Dest {
  /** The prefix's key in the router's maps (`prefixKey`). */
  readonly key: string;
  readonly prefix: Ipv6Prefix;
  local?: string;
  readonly cands: PeerMap<Learned>;
  /**
   * Neighbours that sent a poisoned announcement for the prefix (their best route to it goes
   * through us): feasible sources for uRPF, never candidates for the decision or the FIB.
   */
  readonly feasible: PeerMap<FeasibleOnly>;
  best?: Selected;
  since: number;
  /**
   * Bumped whenever what we announce for this prefix changes: another path, or the same path
   * with a metric that moved significantly from {@link announcedMetricUs} (see
   * {@link significantMetricChange}).
   */
  version: number;
  /** Metric (µs) of the best route when {@link version} was last bumped. */
  announcedMetricUs?: number;
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
  /** The peer is due a full table send (started at the next flush). */
  refreshAll: boolean;
  /** The prefixes of a full table send in progress (sent in slices; see `Router.flush`). */
  refreshQueue: string[] | undefined;
  /** How far the full table send got in {@link PeerState.refreshQueue}. */
  refreshAt: number;
  /** A change of the link's advertised latency waits for `tick()` (see `BIG_TABLE`). */
  latencyPending: boolean;
  /** When a change of the link's advertised latency was last applied. */
  latencyAppliedAt: number;
  lastRefresh: number;
  /** The per-peer and per-origin route limits and their refusal counters. */
  readonly quota: PeerQuota;
  /** Where `tick()`'s expiry check of {@link keys} stands. */
  readonly expiryWalk: SetWalk<string>;
  /** Where `tick()`'s expiry check of {@link feasibleKeys} stands. */
  readonly feasibleWalk: SetWalk<string>;
  /** A re-base of {@link keys} on the link's advertised latency under way (see `flush`). */
  readonly rebaseWalk: SetWalk<string>;
  /** The last path announced to this peer and what it was made from (adj_rib_out.ts). */
  outPath?: { readonly from: readonly Hop[]; readonly ms: number; readonly path: readonly Hop[] };
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
 * Whether a route's metric moved enough since it was last announced to announce it again, by
 * the same rule as a link's advertised latency (more than `minChangeMs` and more than
 * `minChangeRatio` of the announced value). Smaller moves of the same path are not worth a
 * message to every neighbour — each of them would pass it on in turn, so one link's jitter
 * rippled through the whole mesh; they travel with the next full refresh.
 */
export function significantMetricChange(
  announcedUs: number,
  nextUs: number,
  minChangeMs: number,
  minChangeRatio: number,
): boolean {
  const delta = Math.abs(nextUs - announcedUs);
  return delta > minChangeMs * 1000 && delta > minChangeRatio * announcedUs;
}
