/**
 * Route values exchanged between nodes: a prefix and the path of hops that leads to it.
 * @module
 */
import type { Ipv6Prefix } from "../net/mod.ts";
import type { PeerId } from "../pki/mod.ts";

/** One hop of a path: a node, and the latency that node measured to the next node downstream. */
export interface Hop {
  /** The node's ID. */
  readonly id: PeerId;
  /** Milliseconds, finite, 0..{@link MAX_HOP_LATENCY_MS}. */
  readonly latencyMs: number;
}

/**
 * A route as carried on the wire: `path[0]` is the neighbour that announced it, the last hop
 * is the node that owns the prefix. Each node prepends `{ its ID, its latency to the receiver }`
 * when it announces, so the route's metric is the sum of the hop latencies.
 */
export interface Route {
  readonly prefix: Ipv6Prefix;
  readonly path: readonly Hop[];
}

/** Where the FIB sends a destination: a local vif (by config key) or a peer (by PeerId). */
export type { NextHop } from "../net/mod.ts";

/** Longest path accepted (hops). Longer announcements are refused; we never send longer ones. */
export const MAX_PATH_HOPS = 64;

/** Largest per-hop latency accepted: the wire's u32 microseconds. */
export const MAX_HOP_LATENCY_MS = 0xffffffff / 1000;

/** Metric of a path in integer microseconds (sum of hop latencies, each rounded to 1 µs). */
export function pathMetricUs(path: readonly Hop[]): number {
  let sum = 0;
  for (const h of path) sum += Math.round(h.latencyMs * 1000);
  return sum;
}
