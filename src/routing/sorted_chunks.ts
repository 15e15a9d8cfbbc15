/**
 * A sorted list stored as a list of short sorted chunks: finding, inserting and removing an
 * item costs a binary search over the chunks plus a splice inside one chunk (at most
 * {@link MAX_CHUNK} items), so n inserts cost O(n (log n + chunk)) instead of the O(n²) of one
 * flat array kept sorted with `splice`. Iteration from any position is in order. Internal to
 * `src/routing/` (the source table's prefix order).
 * @module
 */

/** Largest chunk; a chunk that grows past it is split in two halves. */
export const MAX_CHUNK = 512;

/** The list. `compare` orders the items (and must not change while they are stored). */
export class SortedChunks<T> {
  #chunks: T[][] = [];
  #size = 0;
  /**
   * Items shifted by inserts and removals so far (each costs at most one chunk): a count of the
   * work done, which tests use to show that n inserts cost O(n), not O(n²), moves.
   */
  moves = 0;

  constructor(readonly compare: (a: T, b: T) => number) {}

  /** Number of items. */
  get size(): number {
    return this.#size;
  }

  /** Replaces the contents with `sorted` (already in order; taken over, not copied). */
  reset(sorted: T[]): void {
    const chunks: T[][] = [];
    const half = MAX_CHUNK >> 1;
    for (let i = 0; i < sorted.length; i += half) chunks.push(sorted.slice(i, i + half));
    this.#chunks = chunks;
    this.#size = sorted.length;
  }

  /** Inserts `item` after every item that compares equal or lower. */
  insert(item: T): void {
    const chunks = this.#chunks;
    if (chunks.length === 0) {
      chunks.push([item]);
      this.#size++;
      return;
    }
    let c = this.#chunkFor(item);
    if (c < 0) c = 0;
    const chunk = chunks[c];
    const at = upperBound(chunk, item, this.compare);
    this.moves += chunk.length - at;
    chunk.splice(at, 0, item);
    this.#size++;
    if (chunk.length > MAX_CHUNK) {
      this.moves += chunks.length - c + (chunk.length >> 1);
      chunks.splice(c + 1, 0, chunk.splice(chunk.length >> 1));
    }
  }

  /**
   * Removes `item` (the same object; found by `compare`, then by identity among equal ones).
   * @returns false when it is not in the list
   */
  remove(item: T): boolean {
    const chunks = this.#chunks;
    for (let c = Math.max(0, this.#firstChunk(item)); c < chunks.length; c++) {
      const chunk = chunks[c];
      for (let i = lowerBound(chunk, item, this.compare); i < chunk.length; i++) {
        if (chunk[i] === item) {
          this.moves += chunk.length - i - 1;
          chunk.splice(i, 1);
          this.#size--;
          if (chunk.length === 0) chunks.splice(c, 1);
          return true;
        }
        if (this.compare(chunk[i], item) !== 0) return false;
      }
    }
    return false;
  }

  /** The items from the first one that compares ≥ `item` on, in order. */
  *from(item: T): Generator<T> {
    const chunks = this.#chunks;
    let c = Math.max(0, this.#firstChunk(item));
    if (c >= chunks.length) return;
    let i = lowerBound(chunks[c], item, this.compare);
    // Mutating the list ends the walk's guarantees; callers only change the items' values.
    for (; c < chunks.length; c++, i = 0) {
      const chunk = chunks[c];
      for (; i < chunk.length; i++) yield chunk[i];
    }
  }

  /** Every item in order. */
  *[Symbol.iterator](): Generator<T> {
    for (const chunk of this.#chunks) yield* chunk;
  }

  /** The last chunk whose first item is ≤ `item` (-1: none), where `item` would be inserted. */
  #chunkFor(item: T): number {
    const chunks = this.#chunks;
    let lo = 0, hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(chunks[mid][0], item) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** The chunk that holds the first item ≥ `item`, or the one before it (-1: none before). */
  #firstChunk(item: T): number {
    const chunks = this.#chunks;
    let lo = 0, hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(chunks[mid][0], item) < 0) lo = mid + 1;
      else hi = mid;
    }
    // Items equal to `item` may end the chunk before the first chunk that starts at ≥ `item`.
    return lo - 1;
  }
}

/** Index of the first item of `a` that compares ≥ `x`. */
function lowerBound<T>(a: readonly T[], x: T, compare: (a: T, b: T) => number): number {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(a[mid], x) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first item of `a` that compares > `x`. */
function upperBound<T>(a: readonly T[], x: T, compare: (a: T, b: T) => number): number {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(a[mid], x) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
