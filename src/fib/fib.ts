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
import type { Ipv6Prefix } from "../net/mod.ts";
import { BlockPool } from "./block_pool.ts";
import {
  BITMAP,
  CHILD_BASE,
  childCount,
  childOf,
  CUM_LO,
  DEPTH,
  ENT_BASE,
  ENT_COUNT,
  entryKey,
  EntryLists,
  INHERIT,
  INLINE,
  INLINE_MAX,
  insertChild,
  KEY_BYTE,
  mergeWithChild,
  NODE,
  NODE_SHIFT,
  popcount,
  removeChild,
  splitEdge,
} from "./fib_node.ts";

const ROOT = 0;
/** Nodes at this depth or shallower are never compressed away; the direct table points at them. */
const DIR_DEPTH = 2;

/** Longest-prefix-match table from IPv6 prefixes to values of type `T`. */
export class Fib<T> {
  readonly #nodes: BlockPool;
  readonly #lists: EntryLists;
  /**
   * Per first 16 bits: the depth-2 node (> 0), else -(1 + value index of the longest /0–/15),
   * 0 when none.
   */
  readonly #dir = new Int32Array(1 << 16);
  #vals: (T | undefined)[] = [];
  #freeVals: number[] = [];
  #size = 0;
  readonly #path = new Int32Array(17);

  /** Creates an empty table; `initialNodes` only sizes the first allocation. */
  constructor(initialNodes = 64) {
    this.#nodes = new BlockPool(NODE, initialNodes);
    this.#nodes.alloc(1); // the root, record 0
    this.#lists = new EntryLists(this.#nodes);
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
          arr = this.#lists.pool.arr;
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
    const i = this.#lists.indexOf(n, entryKey(prefix.addr, prefix.len));
    return i < 0 ? undefined : this.#vals[this.#lists.valueAt(n, i)];
  }

  /** True when exactly `prefix` is in the table. */
  has(prefix: Ipv6Prefix): boolean {
    const n = this.#findNode(prefix);
    return n >= 0 && this.#lists.indexOf(n, entryKey(prefix.addr, prefix.len)) >= 0;
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
      let c = childOf(this.#nodes, n, addr[d]);
      if (c < 0) {
        c = insertChild(this.#nodes, n, addr[d]);
        this.#initNode(c, d < DIR_DEPTH ? d + 1 : target, addr);
        if (d === DIR_DEPTH - 1) {
          this.#nodes.arr[(c << NODE_SHIFT) + INHERIT] = this.#shortBest((addr[0] << 8) | addr[1]) +
            1;
          this.#refreshDirNodes(n);
        }
      } else {
        const depth = this.#nodes.arr[(c << NODE_SHIFT) + DEPTH];
        const m = this.#matchKey(c, addr, d + 1, Math.min(depth, target));
        if (m < depth) splitEdge(this.#nodes, c, m);
      }
      n = c;
      d = this.#nodes.arr[(c << NODE_SHIFT) + DEPTH];
    }
    const key = entryKey(addr, len);
    const i = this.#lists.indexOf(n, key);
    if (i >= 0) {
      this.#vals[this.#lists.valueAt(n, i)] = value;
      return false;
    }
    let v = this.#freeVals.pop();
    if (v === undefined) v = this.#vals.length;
    this.#vals[v] = value;
    this.#lists.insert(n, key, v);
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
    const i = this.#lists.indexOf(n, entryKey(addr, len));
    if (i < 0) return false;
    const v = this.#lists.valueAt(n, i);
    this.#vals[v] = undefined;
    this.#freeVals.push(v);
    this.#lists.remove(n, i);
    this.#size--;
    if (len < 8 * DIR_DEPTH) this.#refreshDirBest(addr, len);
    // Bottom-up: remove nodes that hold nothing, merge a compressible node into its only child.
    for (; top > 0; top--) {
      const nd = this.#nodes.arr, b = path[top] << NODE_SHIFT;
      if (nd[b + ENT_COUNT] !== 0) break;
      const children = childCount(nd, b);
      if (children === 0) {
        const parent = path[top - 1];
        const pd = this.#nodes.arr[(parent << NODE_SHIFT) + DEPTH];
        removeChild(this.#nodes, parent, addr[pd]);
        if (pd === DIR_DEPTH - 1) this.#refreshDirNodes(parent);
        continue;
      }
      if (children === 1 && nd[b + DEPTH] > DIR_DEPTH) mergeWithChild(this.#nodes, path[top]);
      break;
    }
    return true;
  }

  /** Removes every prefix. */
  clear(): void {
    this.#nodes.reset();
    this.#nodes.alloc(1);
    this.#lists.pool.reset();
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
        const key = self.#lists.keyAt(n, i), r = key >>> 8;
        const addr = bytes.slice();
        if (d < 16) addr[d] = r === 0 ? 0 : (key & 0xff) << (8 - r);
        yield [{ addr, len: d * 8 + r }, self.#vals[self.#lists.valueAt(n, i)] as T];
      }
      if (d === 16) return;
      for (let byte = 0; byte < 256; byte++) {
        const c = childOf(self.#nodes, n, byte);
        if (c >= 0) yield* walk(self, c);
      }
    };
    yield* walk(this, ROOT);
  }

  /** Bytes held by the table's arrays (not counting the values themselves). */
  get byteLength(): number {
    return this.#nodes.byteLength + this.#lists.pool.byteLength + this.#dir.byteLength +
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
      n = childOf(this.#nodes, n, addr[d]);
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
   * Rewrites the direct table's 256 slots under depth-1 node n (its children moved, or one was
   * added or removed).
   */
  #refreshDirNodes(n: number): void {
    const dir = this.#dir, nd = this.#nodes.arr, b = n << NODE_SHIFT;
    const first = this.#nodes.bytes[(n << (NODE_SHIFT + 2)) + KEY_BYTE] << 8;
    let c = nd[b + CHILD_BASE];
    for (let byte = 0; byte < 256; byte++) {
      const s = first | byte;
      if ((nd[b + BITMAP + (byte >>> 5)] & (1 << (byte & 31))) !== 0) dir[s] = c++;
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
    const c = childOf(this.#nodes, ROOT, s >>> 8);
    const m = c < 0 ? -1 : this.#lists.firstMatch(c, s & 0xff);
    return m >= 0 ? m : this.#lists.firstMatch(ROOT, s >>> 8);
  }
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
