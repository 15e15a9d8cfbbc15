/**
 * The Adj-RIB-Out: what each neighbour is told about each prefix (a usable route, a poisoned
 * one, or nothing), and the flush-time sync that sends the difference. Internal to
 * `src/routing/`; see docs/routing.md ("Propagation", "Poisoned announcements").
 * @module
 */
import { prefixFromKey, prefixKey } from "../net/mod.ts";
import type { PeerId } from "../pki/mod.ts";
import { type Hop, MAX_PATH_HOPS, type Route } from "./route.ts";
import type { Dest, PeerMessages, PeerState } from "./router_state.ts";

/**
 * One Adj-RIB-Out entry: a usable route was announced (the destination's version then, ≥ 0),
 * or a poisoned one ({@link POISONED}: our best route goes through the peer; see
 * {@link advertisable}). A number, not an object: a peer's Adj-RIB-Out has an entry per prefix.
 */
export type Sent = number;

/** The Adj-RIB-Out entry of a poisoned announcement (path changes while poisoned send nothing). */
export const POISONED = -1;

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
  if (best.kind === "local") {
    if (held) return undefined;
    return {
      kind: "usable",
      route: { prefix: dest.prefix, path: outPath(localId, peer, NO_HOPS) },
    };
  }
  const path = best.cand.path;
  if (path.length >= MAX_PATH_HOPS) return undefined;
  const route = { prefix: dest.prefix, path: outPath(localId, peer, path) };
  let through = best.cand.peer === peer.info.id;
  for (let i = 1; i < path.length && !through; i++) through = path[i].id === peer.info.id;
  if (!through) return held ? undefined : { kind: "usable", route };
  return otherRoute(dest, peer.info.id) ? { kind: "poisoned", route } : undefined;
}

const NO_HOPS: readonly Hop[] = Object.freeze([]);

/**
 * `path` with this node prepended as the first hop towards `peer`. The routes of a flush
 * mostly follow one path (a transit site's prefixes share it): the last result is kept per
 * peer and given again while the path and the link's advertised latency stay the same.
 */
function outPath(localId: PeerId, peer: PeerState, path: readonly Hop[]): readonly Hop[] {
  const ms = peer.latency.advertisedMs;
  const last = peer.outPath;
  if (last !== undefined && last.from === path && last.ms === ms) return last.path;
  const out = Object.freeze([{ id: localId, latencyMs: ms }, ...path]);
  peer.outPath = { from: path, ms, path: out };
  return out;
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
    ctx.out(peer.info.id).withdraw.push(dest?.prefix ?? prefixFromKey(key));
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
  } else if (force || had !== dest!.version) {
    peer.adjOut.set(key, dest!.version);
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
      ctx.out(peer.info.id).withdraw.push(dest?.prefix ?? prefixFromKey(key));
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
