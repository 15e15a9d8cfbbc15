/**
 * The hold after a lost route ("withdraw before announcing a worse route", as BGP's ghost
 * flushing): see docs/routing.md, "Path hunting". When the best route for a prefix changes
 * because the candidate it came from vanished or slowed down, and the new best follows another
 * path (or there is none), neighbours get a withdrawal at once and the replacement only after
 * the hold. Internal to `src/routing/`.
 * @module
 */
import { type Dest, samePath, type Selected, selectedMetricUs } from "./router_state.ts";

/** Whether the candidate `sel` was chosen from is gone or slower now (a local route: removed). */
export function lostOrSlower(dest: Dest, sel: Selected): boolean {
  if (sel.kind === "local") return dest.local === undefined;
  const now = dest.cands.get(sel.cand.peer);
  return now === undefined || now.metricUs > sel.cand.metricUs;
}

/**
 * Updates `dest`'s hold after its best route changed from `old` to `next`: starts one after a
 * loss (returns true: the caller tracks the prefix until the hold ends), or ends one early when
 * a route faster than the lost one wins on its merits (its predecessor is still there).
 */
export function updateHold(
  dest: Dest,
  old: Selected | undefined,
  next: Selected | undefined,
  now: number,
  holdMs: number,
): boolean {
  if (dest.holdUntil !== undefined) {
    const improved = old === undefined || (!lostOrSlower(dest, old) && !samePath(old, next!));
    if (next !== undefined && improved && selectedMetricUs(next) < dest.holdMetricUs!) {
      dest.holdUntil = dest.holdMetricUs = undefined;
    }
    return false;
  }
  if (holdMs === 0 || old === undefined) return false;
  if (next !== undefined && (samePath(old, next) || !lostOrSlower(dest, old))) return false;
  if (next === undefined && old.kind === "local") return false;
  dest.holdUntil = now + holdMs;
  dest.holdMetricUs = Math.min(selectedMetricUs(old), next ? selectedMetricUs(next) : Infinity);
  return true;
}
