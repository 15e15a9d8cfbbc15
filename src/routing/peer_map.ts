/**
 * A small map from neighbour to value for one prefix (its candidates, its feasible-only
 * entries): one array of alternating keys and values searched linearly, since a prefix has at
 * most one entry per neighbour and usually one or two. Costs about 60 bytes with one entry and
 * 16 when empty (a `Map` costs 184 even empty), which matters at 100 000 prefixes. Internal to
 * `src/routing/`.
 * @module
 */
import type { PeerId } from "../pki/mod.ts";

const NO_ITEMS: readonly never[] = Object.freeze([]);

/** The map; iteration is in insertion order, as a `Map`'s. */
export class PeerMap<V> {
  /** id, value, id, value, … */
  #items: readonly (PeerId | V)[] = NO_ITEMS;

  get size(): number {
    return this.#items.length >> 1;
  }

  get(id: PeerId): V | undefined {
    const i = this.#find(id);
    return i < 0 ? undefined : this.#items[i + 1] as V;
  }

  has(id: PeerId): boolean {
    return this.#find(id) >= 0;
  }

  set(id: PeerId, value: V): void {
    const i = this.#find(id);
    if (i >= 0) (this.#items as (PeerId | V)[])[i + 1] = value;
    else if (this.#items === NO_ITEMS) this.#items = [id, value];
    else (this.#items as (PeerId | V)[]).push(id, value);
  }

  /** @returns true when there was an entry for `id` */
  delete(id: PeerId): boolean {
    const i = this.#find(id);
    if (i < 0) return false;
    if (this.#items.length === 2) this.#items = NO_ITEMS;
    else (this.#items as (PeerId | V)[]).splice(i, 2);
    return true;
  }

  *keys(): Generator<PeerId> {
    const items = this.#items;
    for (let i = 0; i < items.length; i += 2) yield items[i] as PeerId;
  }

  *values(): Generator<V> {
    const items = this.#items;
    for (let i = 1; i < items.length; i += 2) yield items[i] as V;
  }

  #find(id: PeerId): number {
    const items = this.#items;
    for (let i = 0; i < items.length; i += 2) if (items[i] === id) return i;
    return -1;
  }
}
