/**
 * Best-path choice as a chain of small comparators, each of which can say which rule decided
 * (as GoBGP's destination.go), plus babeld-style hysteresis (consider_route): a working route
 * is only replaced by a route through another neighbour that is clearly better — at least the
 * hysteresis faster, or both faster and shorter. (The Go vmesh applies the latency threshold
 * alone; then a node that learns a prefix over a long detour first keeps the detour even after
 * its direct link to the owner comes up, when the two differ by less than 10 ms. Switching to a
 * faster and shorter route cannot flap: going back would need the longer route to be a full
 * threshold faster.)
 *
 * Order: local routes (handled by the RIB: a local prefix always wins), then
 * 1. lowest total latency (sum of hop latencies, in whole microseconds),
 * 2. shorter path (fewer hops),
 * 3. lowest next-hop PeerId (string order of the hex ID).
 * Equal inputs give equal results on every node.
 * @module
 */
import type { PeerId } from "../pki/mod.ts";
import type { Hop } from "./route.ts";

/** A route learned from a neighbour, as the decision sees it. */
export interface Candidate {
  /** The neighbour it was learned from (= path[0].id). */
  readonly peer: PeerId;
  /** The path as received. */
  readonly path: readonly Hop[];
  /** Sum of the path's hop latencies in whole microseconds. */
  readonly metricUs: number;
}

/** Which rule chose the best route; shown by `vmesh routes`. */
export type DecisionReason =
  | "local route"
  | "only route"
  | "lowest latency"
  | "shorter path"
  | "lowest next-hop id"
  | "hysteresis";

type Rule = {
  readonly reason: DecisionReason;
  readonly compare: (a: Candidate, b: Candidate) => number;
};

/** Negative when `a` has the lower total latency. */
export function compareByLatency(a: Candidate, b: Candidate): number {
  return a.metricUs - b.metricUs;
}

/** Negative when `a` has the shorter path. */
export function compareByPathLength(a: Candidate, b: Candidate): number {
  return a.path.length - b.path.length;
}

/** Negative when `a`'s next hop has the lower PeerId. */
export function compareByNextHopId(a: Candidate, b: Candidate): number {
  return a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0;
}

const RULES: readonly Rule[] = [
  { reason: "lowest latency", compare: compareByLatency },
  { reason: "shorter path", compare: compareByPathLength },
  { reason: "lowest next-hop id", compare: compareByNextHopId },
];

/**
 * Compares two candidates through the rule chain.
 * @returns order < 0 when `a` is better, and the rule that decided (undefined on a full tie)
 */
export function compareCandidates(
  a: Candidate,
  b: Candidate,
): { order: number; reason: DecisionReason | undefined } {
  for (const rule of RULES) {
    const order = rule.compare(a, b);
    if (order !== 0) return { order, reason: rule.reason };
  }
  return { order: 0, reason: undefined };
}

/** The outcome of a decision. */
export interface Decision {
  readonly best: Candidate;
  readonly reason: DecisionReason;
}

/**
 * Picks the best candidate.
 * @param candidates every usable route for one prefix
 * @param incumbent the neighbour of the current best route, if any: it stays best unless the
 *   winner goes through another neighbour and is at least `hysteresisUs` faster, or faster
 *   with a shorter path
 * @param hysteresisUs switching threshold in microseconds; 0 disables hysteresis
 * @returns undefined when there is no candidate
 */
export function decide(
  candidates: Iterable<Candidate>,
  incumbent: PeerId | undefined,
  hysteresisUs: number,
): Decision | undefined {
  let best: Candidate | undefined, second: Candidate | undefined, current: Candidate | undefined;
  for (const c of candidates) {
    if (c.peer === incumbent) current = c;
    if (best === undefined || compareCandidates(c, best).order < 0) {
      second = best;
      best = c;
    } else if (second === undefined || compareCandidates(c, second).order < 0) {
      second = c;
    }
  }
  if (best === undefined) return undefined;
  if (
    current !== undefined && current !== best && hysteresisUs > 0 &&
    current.metricUs - best.metricUs < hysteresisUs &&
    !(best.metricUs < current.metricUs && best.path.length < current.path.length)
  ) {
    return { best: current, reason: "hysteresis" };
  }
  if (second === undefined) return { best, reason: "only route" };
  return { best, reason: compareCandidates(best, second).reason ?? "lowest next-hop id" };
}
