/**
 * Frozen hop objects shared by a router's candidate paths. The paths of a mesh repeat the same
 * (node, latency to its next hop) pairs — one per directed link — so sharing them makes a stored
 * path cost one pointer per hop instead of one object (about half the RIB memory at 200 nodes).
 * Internal to `src/routing/`.
 * @module
 */
import type { PeerId } from "../pki/mod.ts";
import type { Hop } from "./route.ts";

/** Distinct hops kept before the cache starts over. */
export const MAX_SHARED_HOPS = 65536;

/** The cache. Bounded: a neighbour sending ever new latencies cannot grow it. */
export class SharedHops {
  readonly #hops = new Map<PeerId, Map<number, Hop>>();
  #count = 0;

  /** The shared, frozen hop for `id` and `latencyMs`. */
  get(id: PeerId, latencyMs: number): Hop {
    let byLatency = this.#hops.get(id);
    let hop = byLatency?.get(latencyMs);
    if (hop !== undefined) return hop;
    if (this.#count >= MAX_SHARED_HOPS) {
      // Paths stored so far keep their objects; only the sharing starts over.
      this.#hops.clear();
      this.#count = 0;
      byLatency = undefined;
    }
    if (byLatency === undefined) this.#hops.set(id, byLatency = new Map());
    hop = Object.freeze({ id, latencyMs });
    byLatency.set(latencyMs, hop);
    this.#count++;
    return hop;
  }
}
