/**
 * A pool of fixed-size records in one growable `Int32Array`, handed out in blocks of 2^k
 * consecutive records. Freed blocks go to a free list of their size class and are reused first,
 * so insert/delete churn does not grow the pool without bound. Used by the FIB for trie nodes and
 * for per-node prefix entries.
 * @module
 */

/** Largest block size class: 2^MAX_CLASS records. */
const MAX_CLASS = 9;

/** Blocks of `2^k` records of `unit` int32 words each. */
export class BlockPool {
  /** The backing array. Replaced when the pool grows: re-read it after every `alloc`. */
  arr: Int32Array;
  /** A byte view of {@link BlockPool.arr} (same buffer), replaced with it. */
  bytes: Uint8Array;
  readonly #unit: number;
  #top = 0; // records handed out from the end
  readonly #free: number[][] = Array.from({ length: MAX_CLASS + 1 }, () => []);
  #inUse = 0;

  /** Creates a pool of records of `unit` words, with room for `initialRecords` at first. */
  constructor(unit: number, initialRecords: number) {
    this.#unit = unit;
    this.arr = new Int32Array(Math.max(16, initialRecords) * unit);
    this.bytes = new Uint8Array(this.arr.buffer);
  }

  /** Records currently handed out (not counting free-list slack). */
  get recordsInUse(): number {
    return this.#inUse;
  }

  /** Bytes of the backing array. */
  get byteLength(): number {
    return this.arr.byteLength;
  }

  /**
   * Allocates a zero-filled block able to hold `count` records (capacity = next power of two).
   * @returns [first record index, capacity]
   */
  alloc(count: number): [number, number] {
    const cls = classOf(count);
    const cap = 1 << cls;
    let at = this.#free[cls].pop();
    if (at === undefined) {
      if ((this.#top + cap) * this.#unit > this.arr.length) {
        this.#grow((this.#top + cap) * this.#unit);
      }
      at = this.#top;
      this.#top += cap;
    } else {
      this.arr.fill(0, at * this.#unit, (at + cap) * this.#unit);
    }
    this.#inUse += cap;
    return [at, cap];
  }

  /** Returns a block obtained from {@link BlockPool.alloc} with capacity `cap`. */
  free(at: number, cap: number): void {
    this.#free[classOf(cap)].push(at);
    this.#inUse -= cap;
  }

  /** Forgets every block. */
  reset(): void {
    this.#top = 0;
    this.#inUse = 0;
    for (const list of this.#free) list.length = 0;
    this.arr.fill(0);
  }

  #grow(minWords: number): void {
    // Grow by 2×: a growth copies the whole array into fresh memory, and on a VM the page
    // faults of that copy cost about 15 ms per 12 MB (a 100 000-route FIB; with 1.5×, 27
    // growths took 440 ms of a 100 000-route receive of about 2.5 s CPU). The part not used yet
    // is never written, so the kernel does not back it with memory (address space, not RSS).
    let n = this.arr.length;
    while (n < minWords) n = n * 2;
    const next = new Int32Array(n);
    next.set(this.arr);
    this.arr = next;
    this.bytes = new Uint8Array(next.buffer);
  }
}

function classOf(count: number): number {
  let cls = 0;
  while ((1 << cls) < count) cls++;
  if (cls > MAX_CLASS) throw new RangeError(`block of ${count} records is over the pool limit`);
  return cls;
}
