/**
 * The FIB's trie node record: its layout in the node pool, bitmap helpers, and the per-node
 * list of prefixes (inline in the record when short, else in a separate entry pool).
 *
 * A record is 32 int32 words (128 bytes); what a leaf needs comes first, so a lookup that ends
 * in a leaf reads only its first 64 bytes.
 * @module
 */
import { BlockPool } from "./block_pool.ts";

/** log2 of the record size in words. */
export const NODE_SHIFT = 5;
/** Record size in words. */
export const NODE = 1 << NODE_SHIFT;
/** Depth in bytes, 0..16: the node stands for the first `depth` bytes of an address. */
export const DEPTH = 0;
/** Number of prefixes ending in the node. */
export const ENT_COUNT = 1;
/** Words 2..5: the node's first `depth` address bytes; byte i at byte offset KEY_BYTE + i. */
export const KEY = 2;
/** Byte offset of the key inside a record. */
export const KEY_BYTE = KEY * 4;
/** Words 6..15: up to INLINE_MAX entries [key, value index], when ENT_COUNT ≤ INLINE_MAX. */
export const INLINE = 6;
/** Most entries kept inline. */
export const INLINE_MAX = 5;
/** Words 16..23: child bitmap, bit (b & 31) of word (b >> 5) for byte b. */
export const BITMAP = 16;
/** First record of the children block (children in byte order). */
export const CHILD_BASE = 24;
/** Running popcounts of bitmap words 0..3, one byte each. */
export const CUM_LO = 25;
/** Running popcounts of bitmap words 4..7. */
export const CUM_HI = 26;
/** Entry-pool block, when ENT_COUNT > INLINE_MAX. */
export const ENT_BASE = 27;
/** Capacity of the children block. */
export const CHILD_CAP = 28;
/** Capacity of the entry-pool block. */
export const ENT_CAP = 29;
/** Depth-2 nodes: 1 + value index of the longest /0–/15 covering them, or 0. */
export const INHERIT = 30;

/** Population count of a 32-bit integer. */
export function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Children of the record at word `b` whose byte is below 32 * wi. */
export function cumBefore(nd: Int32Array, b: number, wi: number): number {
  return (nd[b + CUM_LO + (wi >>> 2)] >>> ((wi & 3) << 3)) & 0xff;
}

/** Number of children of the record at word `b`. */
export function childCount(nd: Int32Array, b: number): number {
  return cumBefore(nd, b, 7) + popcount(nd[b + BITMAP + 7]);
}

/** Recomputes the running popcounts after a bitmap change. */
export function updateCum(nd: Int32Array, b: number): void {
  let lo = 0, hi = 0, sum = 0;
  for (let i = 0; i < 8; i++) {
    if (i < 4) lo |= sum << (i << 3);
    else hi |= sum << ((i - 4) << 3);
    sum += popcount(nd[b + BITMAP + i]);
  }
  nd[b + CUM_LO] = lo;
  nd[b + CUM_HI] = hi;
}

/** The entry key of a prefix inside its node: relative length << 8 | the leading bits. */
export function entryKey(addr: Uint8Array, len: number): number {
  const r = len & 7;
  return r === 0 ? 0 : (r << 8) | (addr[len >> 3] >>> (8 - r));
}

/** True when entry `key` covers address byte `byte` (the byte at the node's depth). */
export function keyCovers(key: number, byte: number): boolean {
  return byte >>> (8 - (key >>> 8)) === (key & 0xff);
}

/**
 * Splits the compressed edge above node c at depth m: c's record becomes a new node at depth
 * m whose only child is (a copy of) the old c.
 */
export function splitEdge(pool: BlockPool, c: number, m: number): void {
  const [moved, cap] = pool.alloc(1);
  const nd = pool.arr, nb = pool.bytes, b = c << NODE_SHIFT;
  nd.copyWithin(moved << NODE_SHIFT, b, b + NODE);
  nd.fill(0, b, b + NODE);
  const kb = (c << (NODE_SHIFT + 2)) + KEY_BYTE, mkb = (moved << (NODE_SHIFT + 2)) + KEY_BYTE;
  nb.copyWithin(kb, mkb, mkb + m);
  nd[b + DEPTH] = m;
  const byte = nb[mkb + m];
  nd[b + BITMAP + (byte >>> 5)] = 1 << (byte & 31);
  nd[b + CHILD_BASE] = moved;
  nd[b + CHILD_CAP] = cap;
  updateCum(nd, b);
}

/** Replaces node n (no prefixes, one child) by its child, freeing the child's block. */
export function mergeWithChild(pool: BlockPool, n: number): void {
  const nd = pool.arr, b = n << NODE_SHIFT;
  const base = nd[b + CHILD_BASE], cap = nd[b + CHILD_CAP];
  nd.copyWithin(b, base << NODE_SHIFT, (base << NODE_SHIFT) + NODE);
  pool.free(base, cap);
}

/** Record index of node n's child for `byte`, or -1. */
export function childOf(pool: BlockPool, n: number, byte: number): number {
  const nd = pool.arr, b = n << NODE_SHIFT, wi = byte >>> 5, bit = 1 << (byte & 31);
  const word = nd[b + BITMAP + wi];
  if ((word & bit) === 0) return -1;
  return nd[b + CHILD_BASE] + cumBefore(nd, b, wi) + popcount(word & (bit - 1));
}

/**
 * Adds a zeroed child record to node n for `byte` (moving its siblings).
 * @returns the new record index; re-read `pool.arr` afterwards
 */
export function insertChild(pool: BlockPool, n: number, byte: number): number {
  let nd = pool.arr;
  const b = n << NODE_SHIFT, wi = byte >>> 5, bit = 1 << (byte & 31);
  const count = childCount(nd, b);
  const rank = cumBefore(nd, b, wi) + popcount(nd[b + BITMAP + wi] & (bit - 1));
  let base = nd[b + CHILD_BASE];
  const cap = nd[b + CHILD_CAP];
  if (count === cap) {
    const [nb, ncap] = pool.alloc(count + 1);
    nd = pool.arr;
    if (count > 0) {
      nd.copyWithin(nb * NODE, base * NODE, (base + rank) * NODE);
      nd.copyWithin((nb + rank + 1) * NODE, (base + rank) * NODE, (base + count) * NODE);
      pool.free(base, cap);
    }
    nd[b + CHILD_BASE] = base = nb;
    nd[b + CHILD_CAP] = ncap;
  } else {
    nd.copyWithin((base + rank + 1) * NODE, (base + rank) * NODE, (base + count) * NODE);
    nd.fill(0, (base + rank) * NODE, (base + rank + 1) * NODE);
  }
  nd[b + BITMAP + wi] |= bit;
  updateCum(nd, b);
  return base + rank;
}

/** Removes node n's child for `byte` (moving its siblings; the block may shrink). */
export function removeChild(pool: BlockPool, n: number, byte: number): void {
  let nd = pool.arr;
  const b = n << NODE_SHIFT, wi = byte >>> 5, bit = 1 << (byte & 31);
  const count = childCount(nd, b);
  const rank = cumBefore(nd, b, wi) + popcount(nd[b + BITMAP + wi] & (bit - 1));
  const base = nd[b + CHILD_BASE], cap = nd[b + CHILD_CAP];
  nd.copyWithin((base + rank) * NODE, (base + rank + 1) * NODE, (base + count) * NODE);
  nd.fill(0, (base + count - 1) * NODE, (base + count) * NODE);
  nd[b + BITMAP + wi] &= ~bit;
  updateCum(nd, b);
  const left = count - 1;
  if (left === 0) {
    pool.free(base, cap);
    nd[b + CHILD_BASE] = 0;
    nd[b + CHILD_CAP] = 0;
  } else if (cap >= 8 && left * 4 <= cap) {
    const [nb, ncap] = pool.alloc(left);
    nd = pool.arr;
    nd.copyWithin(nb * NODE, base * NODE, (base + left) * NODE);
    pool.free(base, cap);
    nd[b + CHILD_BASE] = nb;
    nd[b + CHILD_CAP] = ncap;
  }
}

/**
 * The prefix lists of the nodes of one node pool: [entry key, value index] pairs, longest
 * relative length first; up to INLINE_MAX inline in the record, else all in an entry-pool block.
 */
export class EntryLists {
  /** The overflow pool, 2 words per entry. */
  readonly pool = new BlockPool(2, 64);
  readonly #nodes: BlockPool;
  readonly #scratch = new Int32Array(2 * 256);

  /** Lists for the records of `nodes`. */
  constructor(nodes: BlockPool) {
    this.#nodes = nodes;
  }

  /** Number of entries of node n. */
  count(n: number): number {
    return this.#nodes.arr[(n << NODE_SHIFT) + ENT_COUNT];
  }

  /** Entry key at position i of node n. */
  keyAt(n: number, i: number): number {
    return this.#arr(n)[this.#at(n, i)];
  }

  /** Value index at position i of node n. */
  valueAt(n: number, i: number): number {
    return this.#arr(n)[this.#at(n, i) + 1];
  }

  /** Position of `key` in node n's list, or -1. */
  indexOf(n: number, key: number): number {
    const count = this.count(n);
    for (let i = 0; i < count; i++) if (this.keyAt(n, i) === key) return i;
    return -1;
  }

  /** Value index of the longest entry of node n that covers `byte`, or -1. */
  firstMatch(n: number, byte: number): number {
    const count = this.count(n);
    for (let i = 0; i < count; i++) {
      if (keyCovers(this.keyAt(n, i), byte)) return this.valueAt(n, i);
    }
    return -1;
  }

  /** Adds an entry (the key must not be present). */
  insert(n: number, key: number, v: number): void {
    const count = this.#read(n), s = this.#scratch;
    let pos = 0;
    while (pos < count && s[pos << 1] > key) pos++;
    s.copyWithin((pos + 1) << 1, pos << 1, count << 1);
    s[pos << 1] = key;
    s[(pos << 1) + 1] = v;
    this.#write(n, count + 1);
  }

  /** Removes the entry at position i. */
  remove(n: number, i: number): void {
    const count = this.#read(n), s = this.#scratch;
    s.copyWithin(i << 1, (i + 1) << 1, count << 1);
    this.#write(n, count - 1);
  }

  /** Word index of entry i of node n, in the array returned by #arr. */
  #at(n: number, i: number): number {
    const b = n << NODE_SHIFT, nd = this.#nodes.arr;
    return nd[b + ENT_COUNT] > INLINE_MAX ? (nd[b + ENT_BASE] + i) << 1 : b + INLINE + (i << 1);
  }

  #arr(n: number): Int32Array {
    return this.count(n) > INLINE_MAX ? this.pool.arr : this.#nodes.arr;
  }

  /** Copies node n's entries to the scratch array. @returns their count */
  #read(n: number): number {
    const count = this.count(n), e = this.#at(n, 0);
    this.#scratch.set(this.#arr(n).subarray(e, e + (count << 1)));
    return count;
  }

  /** Stores `count` entries from the scratch array as node n's list. */
  #write(n: number, count: number): void {
    const pool = this.pool, nd = this.#nodes.arr, b = n << NODE_SHIFT;
    const old = nd[b + ENT_COUNT], s = this.#scratch.subarray(0, count << 1);
    let base = nd[b + ENT_BASE], cap = nd[b + ENT_CAP];
    if (
      old > INLINE_MAX && (count <= INLINE_MAX || count > cap || (cap >= 16 && count * 4 <= cap))
    ) {
      pool.free(base, cap);
      base = cap = 0;
    }
    nd.fill(0, b + INLINE, b + INLINE + 2 * INLINE_MAX);
    if (count <= INLINE_MAX) {
      nd.set(s, b + INLINE);
    } else {
      if (cap === 0) [base, cap] = pool.alloc(count);
      pool.arr.fill(0, base << 1, (base + cap) << 1);
      pool.arr.set(s, base << 1);
    }
    nd[b + ENT_BASE] = base;
    nd[b + ENT_CAP] = cap;
    nd[b + ENT_COUNT] = count;
  }
}
