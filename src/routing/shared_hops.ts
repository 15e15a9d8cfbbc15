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

/** Distinct paths kept before the path cache starts over. */
export const MAX_SHARED_PATHS = 65536;

interface PathNode {
  path?: readonly Hop[];
  next?: Map<Hop, PathNode>;
}

/**
 * Frozen path arrays shared by a router's candidates: the routes of one origin through one
 * neighbour usually follow the same path, so 100 000 prefixes of a transit site share one
 * array instead of holding one each. Keyed by the (shared) hop objects, hop by hop. Bounded.
 */
export class SharedPaths {
  #root: Map<Hop, PathNode> = new Map();
  #count = 0;

  /** The shared, frozen path with the hops of `hops` (compared by identity). */
  get(hops: readonly Hop[]): readonly Hop[] {
    if (this.#count >= MAX_SHARED_PATHS) {
      this.#root = new Map();
      this.#count = 0;
    }
    let level = this.#root;
    let node: PathNode | undefined;
    for (let i = 0; i < hops.length; i++) {
      node = level.get(hops[i]);
      if (node === undefined) level.set(hops[i], node = {});
      if (i < hops.length - 1) level = node.next ??= new Map();
    }
    if (node === undefined) return Object.freeze([]);
    if (node.path === undefined) {
      node.path = Object.freeze(hops.slice());
      this.#count++;
    }
    return node.path;
  }
}
