/**
 * The forwarding table: longest-prefix match over IPv6 destinations.
 *
 * A path-compressed multibit trie of stride 8 in the "tree bitmap" style, kept in flat
 * `Int32Array` pools so that a lookup walks integer indices and never allocates:
 *
 * - A node at depth d stands for the first d bytes of an address (its key, stored in the node).
 *   It holds a 256-bit child bitmap, the index of its children block (children are consecutive
 *   records, in byte order), packed running popcounts of the bitmap words (so a child's
 *   position costs one 32-bit popcount), and the prefixes that end inside it: length 8d + r,
 *   r in 0..7, longest first; up to five inline, more in a separate entry pool.
 * - A prefix of length L lives in the node at depth ⌊L/8⌋ (a /128 in a node at depth 16).
 * - Path compression: below depth 2, a chain of nodes with no prefix and a single child is
 *   left out. The child of a node at depth d for byte b may sit at any depth D > d; a lookup
 *   compares the address bytes d+1..D-1 with the child's key once and stops on a difference.
 *   Nodes at depths 0–2 are never skipped, so depth-2 nodes stand for one /16 each.
 * - A direct table indexed by the first 16 address bits gives the depth-2 node and the longest
 *   prefix of length 0–15 at once, so a lookup starts at depth 2.
 *
 * With random prefixes most prefixes end in a leaf hanging from a depth-2 node, so a lookup
 * touches the direct table, one depth-2 node and one leaf (the leaf's prefix list is inline).
 *
 * Insert and delete are incremental: they touch the nodes on one path, split or merge at most
 * one compressed edge and move at most one children block or entry list (blocks are powers of
 * two, freed blocks are reused).
 * @module
 */
import type { Ipv6Prefix } from "../net/prefix.ts";
import { BlockPool } from "./block_pool.ts";

// Node record layout (32 int32 words = 128 bytes). What a leaf needs comes first.
const NODE_SHIFT = 5;
const NODE = 1 << NODE_SHIFT;
const DEPTH = 0; // depth in bytes, 0..16
const ENT_COUNT = 1;
const KEY = 2; // words 2..5: the first `depth` address bytes, byte i at byte offset 4*KEY + i
const INLINE = 6; // words 6..15: up to INLINE_MAX entries [key, value index]
const INLINE_MAX = 5;
const BITMAP = 16; // words 16..23: bit (b & 31) of word (b >> 5) for byte b
const CHILD_BASE = 24;
const CUM_LO = 25; // running popcounts of bitmap words 0..3, one byte each
const CUM_HI = 26; // ... of words 4..7
const ENT_BASE = 27; // entry pool block, when ENT_COUNT > INLINE_MAX
const CHILD_CAP = 28;
const ENT_CAP = 29;
const INHERIT = 30; // depth-2 nodes: 1 + value index of the longest /0–/15 covering them, or 0
const KEY_BYTE = KEY * 4;
const ROOT = 0;
/** Nodes at this depth or above are never compressed away; the direct table points at them. */
const DIR_DEPTH = 2;

/** Longest-prefix-match table from IPv6 prefixes to values of type `T`. */
export class Fib<T> {
  readonly #nodes: BlockPool;
  readonly #ents = new BlockPool(2, 64); // entry: [key = rel len << 8 | bits, value index]
  /**
   * Per first 16 bits: the depth-2 node (> 0), else -(1 + value index of the longest /0–/15),
   * 0 when none.
   */
  readonly #dir = new Int32Array(1 << 16);
  #vals: (T | undefined)[] = [];
  #freeVals: number[] = [];
  #size = 0;
  readonly #path = new Int32Array(17);
  readonly #scratch = new Int32Array(2 * 256);

  /** Creates an empty table; `initialNodes` only sizes the first allocation. */
  constructor(initialNodes = 64) {
    this.#nodes = new BlockPool(NODE, initialNodes);
    this.#nodes.alloc(1); // the root, record 0
  }

  /** Number of prefixes in the table. */
  get size(): number {
    return this.#size;
  }

  /**
   * Longest-prefix match on the 16 address bytes at `buf[off..off+16]` (for a packet, `off` is
   * the offset of the destination address). Allocation-free.
   * @returns the value of the longest prefix covering the address, or undefined.
   */
  lookup(buf: Uint8Array, off: number): T | undefined {
    const nd = this.#nodes.arr, nb = this.#nodes.bytes, dir = this.#dir;
    let n = dir[(buf[off] << 8) | buf[off + 1]], best = -1, d = DIR_DEPTH;
    if (n <= 0) best = -n - 1;
    else best = nd[(n << NODE_SHIFT) + INHERIT] - 1;
    walk: while (n > 0) {
      const b = n << NODE_SHIFT;
      const byte = d < 16 ? buf[off + d] : 0;
      const count = nd[b + ENT_COUNT];
      if (count !== 0) {
        let arr = nd, e = b + INLINE;
        if (count > INLINE_MAX) {
          arr = this.#ents.arr;
          e = nd[b + ENT_BASE] << 1;
        }
        for (const end = e + (count << 1); e < end; e += 2) {
          const key = arr[e];
          if (byte >>> (8 - (key >>> 8)) === (key & 0xff)) {
            best = arr[e + 1];
            break;
          }
        }
      }
      if (d === 16) break;
      const wi = byte >>> 5;
      const word = nd[b + BITMAP + wi];
      const bit = 1 << (byte & 31);
      if ((word & bit) === 0) break;
      n = nd[b + CHILD_BASE] + ((nd[b + CUM_LO + (wi >>> 2)] >>> ((wi & 3) << 3)) & 0xff) +
        popcount(word & (bit - 1));
      const depth = nd[(n << NODE_SHIFT) + DEPTH], kb = (n << (NODE_SHIFT + 2)) + KEY_BYTE;
      for (let i = d + 1; i < depth; i++) if (buf[off + i] !== nb[kb + i]) break walk;
      d = depth;
    }
    return best < 0 ? undefined : this.#vals[best];
  }

  /** Longest-prefix match on a 16-byte address (convenience over {@link Fib.lookup}). */
  lookupAddress(addr: Uint8Array): T | undefined {
    return this.lookup(addr, 0);
  }

  /** The value stored for exactly `prefix`, or undefined. */
  get(prefix: Ipv6Prefix): T | undefined {
    const n = this.#findNode(prefix);
    if (n < 0) return undefined;
    const i = this.#entryIn(n, entryKey(prefix.addr, prefix.len));
    return i < 0 ? undefined : this.#vals[this.#entryValue(n, i)];
  }

  /** True when exactly `prefix` is in the table. */
  has(prefix: Ipv6Prefix): boolean {
    const n = this.#findNode(prefix);
    return n >= 0 && this.#entryIn(n, entryKey(prefix.addr, prefix.len)) >= 0;
  }

  /**
   * Inserts or replaces the value of `prefix`.
   * @returns true when the prefix was new.
   * @throws {RangeError} when the prefix is malformed (length, address size, host bits).
   */
  set(prefix: Ipv6Prefix, value: T): boolean {
    checkPrefix(prefix);
    const { addr, len } = prefix;
    const target = len >> 3;
    let n = ROOT, d = 0;
    while (d < target) {
      let c = this.#child(n, addr[d]);
      if (c < 0) {
        c = this.#insertChild(n, addr[d]);
        this.#initNode(c, d < DIR_DEPTH ? d + 1 : target, addr);
        if (d === DIR_DEPTH - 1) {
          this.#nodes.arr[(c << NODE_SHIFT) + INHERIT] = this.#shortBest((addr[0] << 8) | addr[1]) +
            1;
          this.#refreshDirNodes(n);
        }
      } else {
        const depth = this.#nodes.arr[(c << NODE_SHIFT) + DEPTH];
        const m = this.#matchKey(c, addr, d + 1, Math.min(depth, target));
        if (m < depth) this.#split(c, m);
      }
      n = c;
      d = this.#nodes.arr[(c << NODE_SHIFT) + DEPTH];
    }
    const key = entryKey(addr, len);
    const i = this.#entryIn(n, key);
    if (i >= 0) {
      this.#vals[this.#entryValue(n, i)] = value;
      return false;
    }
    let v = this.#freeVals.pop();
    if (v === undefined) v = this.#vals.length;
    this.#vals[v] = value;
    this.#insertEntry(n, key, v);
    this.#size++;
    if (len < 8 * DIR_DEPTH) this.#refreshDirBest(addr, len);
    return true;
  }

  /**
   * Removes `prefix`.
   * @returns true when it was present.
   */
  delete(prefix: Ipv6Prefix): boolean {
    checkPrefix(prefix);
    const { addr, len } = prefix;
    const path = this.#path;
    let top = this.#walkTo(addr, len >> 3, path);
    if (top < 0) return false;
    const n = path[top];
    const i = this.#entryIn(n, entryKey(addr, len));
    if (i < 0) return false;
    const v = this.#entryValue(n, i);
    this.#vals[v] = undefined;
    this.#freeVals.push(v);
    this.#removeEntry(n, i);
    this.#size--;
    if (len < 8 * DIR_DEPTH) this.#refreshDirBest(addr, len);
    // Bottom-up: remove nodes that hold nothing, merge a compressible node into its only child.
    for (; top > 0; top--) {
      const nd = this.#nodes.arr, b = path[top] << NODE_SHIFT;
      if (nd[b + ENT_COUNT] !== 0) break;
      const children = childCount(nd, b);
      if (children === 0) {
        const parent = path[top - 1];
        this.#removeChild(parent, addr[this.#nodes.arr[(parent << NODE_SHIFT) + DEPTH]]);
        continue;
      }
      if (children === 1 && nd[b + DEPTH] > DIR_DEPTH) this.#mergeWithChild(path[top]);
      break;
    }
    return true;
  }

  /** Removes every prefix. */
  clear(): void {
    this.#nodes.reset();
    this.#nodes.alloc(1);
    this.#ents.reset();
    this.#dir.fill(0);
    this.#vals = [];
    this.#freeVals = [];
    this.#size = 0;
  }

  /** Every (prefix, value) pair, in address order. */
  *entries(): IterableIterator<[Ipv6Prefix, T]> {
    const walk = function* (self: Fib<T>, n: number): Generator<[Ipv6Prefix, T]> {
      const b = n << NODE_SHIFT, d = self.#nodes.arr[b + DEPTH];
      const kb = (n << (NODE_SHIFT + 2)) + KEY_BYTE;
      const bytes = new Uint8Array(16);
      bytes.set(self.#nodes.bytes.subarray(kb, kb + d));
      const count = self.#nodes.arr[b + ENT_COUNT];
      for (let i = count - 1; i >= 0; i--) {
        const key = self.#entryKeyAt(n, i), r = key >>> 8;
        const addr = bytes.slice();
        if (d < 16) addr[d] = r === 0 ? 0 : (key & 0xff) << (8 - r);
        yield [{ addr, len: d * 8 + r }, self.#vals[self.#entryValue(n, i)] as T];
      }
      if (d === 16) return;
      for (let byte = 0; byte < 256; byte++) {
        const c = self.#child(n, byte);
        if (c >= 0) yield* walk(self, c);
      }
    };
    yield* walk(this, ROOT);
  }

  /** Bytes held by the table's arrays (not counting the values themselves). */
  get byteLength(): number {
    return this.#nodes.byteLength + this.#ents.byteLength + this.#dir.byteLength +
      this.#vals.length * 8;
  }

  /**
   * Follows `addr` down to the node at depth `target`, recording the nodes in `path`.
   * @returns the index in `path` of that node, or -1 when it does not exist.
   */
  #walkTo(addr: Uint8Array, target: number, path: Int32Array): number {
    let n = ROOT, d = 0, top = 0;
    path[0] = n;
    while (d < target) {
      n = this.#child(n, addr[d]);
      if (n < 0) return -1;
      const depth = this.#nodes.arr[(n << NODE_SHIFT) + DEPTH];
      if (depth > target || this.#matchKey(n, addr, d + 1, depth) < depth) return -1;
      path[++top] = n;
      d = depth;
    }
    return top;
  }

  #findNode(prefix: Ipv6Prefix): number {
    checkPrefix(prefix);
    const top = this.#walkTo(prefix.addr, prefix.len >> 3, this.#path);
    return top < 0 ? -1 : this.#path[top];
  }

  /** First index in from..to-1 where `addr` differs from node n's key, or `to`. */
  #matchKey(n: number, addr: Uint8Array, from: number, to: number): number {
    const nb = this.#nodes.bytes, kb = (n << (NODE_SHIFT + 2)) + KEY_BYTE;
    let i = from;
    while (i < to && nb[kb + i] === addr[i]) i++;
    return i;
  }

  /** Sets up the zeroed record n as a node at `depth` whose key is the start of `addr`. */
  #initNode(n: number, depth: number, addr: Uint8Array): void {
    this.#nodes.arr[(n << NODE_SHIFT) + DEPTH] = depth;
    this.#nodes.bytes.set(addr.subarray(0, depth), (n << (NODE_SHIFT + 2)) + KEY_BYTE);
  }

  /**
   * Splits the compressed edge above node c at depth m: c's record becomes a new node at depth
   * m whose only child is (a copy of) the old c.
   */
  #split(c: number, m: number): void {
    const pool = this.#nodes;
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
  #mergeWithChild(n: number): void {
    const nd = this.#nodes.arr, b = n << NODE_SHIFT;
    const base = nd[b + CHILD_BASE], cap = nd[b + CHILD_CAP];
    nd.copyWithin(b, base << NODE_SHIFT, (base << NODE_SHIFT) + NODE);
    this.#nodes.free(base, cap);
  }

  #child(n: number, byte: number): number {
    const nd = this.#nodes.arr, b = n << NODE_SHIFT, wi = byte >>> 5, bit = 1 << (byte & 31);
    const word = nd[b + BITMAP + wi];
    if ((word & bit) === 0) return -1;
    return nd[b + CHILD_BASE] + cumBefore(nd, b, wi) + popcount(word & (bit - 1));
  }

  #insertChild(n: number, byte: number): number {
    const pool = this.#nodes;
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

  #removeChild(n: number, byte: number): void {
    const pool = this.#nodes;
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
    if (nd[b + DEPTH] === DIR_DEPTH - 1) this.#refreshDirNodes(n);
  }

  /**
   * Rewrites the direct table's 256 slots under depth-1 node n (its children moved, or one was
   * added or removed).
   */
  #refreshDirNodes(n: number): void {
    const dir = this.#dir;
    const first = this.#nodes.bytes[(n << (NODE_SHIFT + 2)) + KEY_BYTE] << 8;
    for (let byte = 0; byte < 256; byte++) {
      const c = this.#child(n, byte), s = first | byte;
      if (c >= 0) dir[s] = c;
      else if (dir[s] > 0) dir[s] = -(this.#shortBest(s) + 1);
    }
  }

  /** Recomputes the /0–/15 match of the direct-table slots under a changed short prefix. */
  #refreshDirBest(addr: Uint8Array, len: number): void {
    const first = (addr[0] << 8) | addr[1], end = first + (1 << (16 - len));
    const dir = this.#dir, nd = this.#nodes.arr;
    for (let s = first; s < end; s++) {
      const best = this.#shortBest(s);
      if (dir[s] > 0) nd[(dir[s] << NODE_SHIFT) + INHERIT] = best + 1;
      else dir[s] = -(best + 1);
    }
  }

  /** Value index of the longest prefix of length 0–15 covering the 16-bit start `s`, or -1. */
  #shortBest(s: number): number {
    const c = this.#child(ROOT, s >>> 8);
    const m = c < 0 ? -1 : this.#firstMatch(c, s & 0xff);
    return m >= 0 ? m : this.#firstMatch(ROOT, s >>> 8);
  }

  /** Value index of the longest prefix of node n that covers `byte`, or -1. */
  #firstMatch(n: number, byte: number): number {
    const count = this.#nodes.arr[(n << NODE_SHIFT) + ENT_COUNT];
    for (let i = 0; i < count; i++) {
      const key = this.#entryKeyAt(n, i);
      if (byte >>> (8 - (key >>> 8)) === (key & 0xff)) return this.#entryValue(n, i);
    }
    return -1;
  }

  // Entry lists: up to INLINE_MAX inline in the node, else all in an entry-pool block.

  /** Word index of entry i of node n, in the array returned by #entryArr. */
  #entryAt(n: number, i: number): number {
    const b = n << NODE_SHIFT, nd = this.#nodes.arr;
    return nd[b + ENT_COUNT] > INLINE_MAX ? (nd[b + ENT_BASE] + i) << 1 : b + INLINE + (i << 1);
  }

  #entryArr(n: number): Int32Array {
    const nd = this.#nodes.arr;
    return nd[(n << NODE_SHIFT) + ENT_COUNT] > INLINE_MAX ? this.#ents.arr : nd;
  }

  #entryKeyAt(n: number, i: number): number {
    return this.#entryArr(n)[this.#entryAt(n, i)];
  }

  #entryValue(n: number, i: number): number {
    return this.#entryArr(n)[this.#entryAt(n, i) + 1];
  }

  /** Position of `key` in node n's list, or -1. */
  #entryIn(n: number, key: number): number {
    const count = this.#nodes.arr[(n << NODE_SHIFT) + ENT_COUNT];
    for (let i = 0; i < count; i++) if (this.#entryKeyAt(n, i) === key) return i;
    return -1;
  }

  #insertEntry(n: number, key: number, v: number): void {
    const count = this.#readEntries(n), s = this.#scratch;
    let pos = 0; // keep keys in descending order: longest relative length first
    while (pos < count && s[pos << 1] > key) pos++;
    s.copyWithin((pos + 1) << 1, pos << 1, count << 1);
    s[pos << 1] = key;
    s[(pos << 1) + 1] = v;
    this.#writeEntries(n, count + 1);
  }

  #removeEntry(n: number, i: number): void {
    const count = this.#readEntries(n), s = this.#scratch;
    s.copyWithin(i << 1, (i + 1) << 1, count << 1);
    this.#writeEntries(n, count - 1);
  }

  /** Copies node n's entries to the scratch array. @returns their count */
  #readEntries(n: number): number {
    const count = this.#nodes.arr[(n << NODE_SHIFT) + ENT_COUNT];
    const e = this.#entryAt(n, 0);
    this.#scratch.set(this.#entryArr(n).subarray(e, e + (count << 1)));
    return count;
  }

  /** Stores `count` entries from the scratch array as node n's list. */
  #writeEntries(n: number, count: number): void {
    const pool = this.#ents, b = n << NODE_SHIFT;
    let nd = this.#nodes.arr;
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
      if (cap === 0) {
        [base, cap] = pool.alloc(count);
        nd = this.#nodes.arr;
      }
      pool.arr.fill(0, base << 1, (base + cap) << 1);
      pool.arr.set(s, base << 1);
    }
    nd[b + ENT_BASE] = base;
    nd[b + ENT_CAP] = cap;
    nd[b + ENT_COUNT] = count;
  }
}

/** The entry key of a prefix inside its node: relative length << 8 | the leading bits. */
function entryKey(addr: Uint8Array, len: number): number {
  const r = len & 7;
  return r === 0 ? 0 : (r << 8) | (addr[len >> 3] >>> (8 - r));
}

function checkPrefix(prefix: Ipv6Prefix): void {
  const { addr, len } = prefix;
  if (!Number.isInteger(len) || len < 0 || len > 128) {
    throw new RangeError(`FIB prefix length ${len} is not an integer in 0..128`);
  }
  if (!(addr instanceof Uint8Array) || addr.length !== 16) {
    throw new RangeError("FIB prefix address must be a 16-byte Uint8Array");
  }
  const full = len >> 3;
  for (let i = full; i < 16; i++) {
    const keep = i === full ? (0xff00 >>> (len & 7)) & 0xff : 0;
    if ((addr[i] & ~keep & 0xff) !== 0) {
      throw new RangeError(`FIB prefix has host bits set past /${len}`);
    }
  }
}

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

function cumBefore(nd: Int32Array, b: number, wi: number): number {
  return (nd[b + CUM_LO + (wi >>> 2)] >>> ((wi & 3) << 3)) & 0xff;
}

function childCount(nd: Int32Array, b: number): number {
  return cumBefore(nd, b, 7) + popcount(nd[b + BITMAP + 7]);
}

function updateCum(nd: Int32Array, b: number): void {
  let lo = 0, hi = 0, sum = 0;
  for (let i = 0; i < 8; i++) {
    if (i < 4) lo |= sum << (i << 3);
    else hi |= sum << ((i - 4) << 3);
    sum += popcount(nd[b + BITMAP + i]);
  }
  nd[b + CUM_LO] = lo;
  nd[b + CUM_HI] = hi;
}
