/**
 * The forwarding table: longest-prefix match over IPv6 destinations.
 *
 * A multibit trie of stride 8 in the "tree bitmap" style, kept in flat `Int32Array` pools so
 * that a lookup walks integer indices and never allocates:
 *
 * - A node at depth d stands for the first d bytes of an address. It holds a 256-bit child
 *   bitmap, the index of its children block (children are consecutive records, in byte order),
 *   packed running popcounts of the bitmap words (so a child's position costs one 32-bit
 *   popcount), and a short list of the prefixes that end inside it: length 8d + r, r in 0..7,
 *   kept longest first.
 * - A prefix of length L lives in the node at depth ⌊L/8⌋ (a /128 in a node at depth 16).
 *
 * Lookup reads destination byte d straight from the packet buffer at each level, notes the
 * longest prefix of the node that matches, and moves to the child for that byte: at most 17
 * nodes, one cache line each; with realistic tables (mostly /32–/48) the first levels stay in
 * cache and a lookup touches 2–4 cold lines.
 *
 * Insert and delete are incremental: they touch the nodes on one path and move at most one
 * children block or entry list (blocks are powers of two, freed blocks are reused).
 * @module
 */
import type { Ipv6Prefix } from "../net/prefix.ts";
import { BlockPool } from "./block_pool.ts";

// Node record layout (16 int32 words = 64 bytes).
const NODE = 16;
const CHILD_BASE = 8; // words 0..7: child bitmap, bit (b & 31) of word (b >> 5) for byte b
const CHILD_CAP = 9;
const ENT_COUNT = 10;
const ENT_BASE = 11;
const CUM_LO = 12; // running popcounts of bitmap words 0..3, one byte each
const CUM_HI = 13; // ... of words 4..7
const ENT_CAP = 14;
const ROOT = 0;

/** Longest-prefix-match table from IPv6 prefixes to values of type `T`. */
export class Fib<T> {
  readonly #nodes: BlockPool;
  readonly #ents = new BlockPool(2, 64); // entry: [key = rel len << 8 | bits, value index]
  #vals: (T | undefined)[] = [];
  #freeVals: number[] = [];
  #size = 0;
  readonly #path = new Int32Array(17);

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
    const nd = this.#nodes.arr, ent = this.#ents.arr;
    let n = ROOT, best = -1;
    for (let d = 0;; d++) {
      const b = n << 4;
      const byte = d < 16 ? buf[off + d] : 0;
      const count = nd[b + ENT_COUNT];
      if (count !== 0) {
        for (let e = nd[b + ENT_BASE] << 1, end = e + (count << 1); e < end; e += 2) {
          const key = ent[e];
          if (byte >>> (8 - (key >>> 8)) === (key & 0xff)) {
            best = ent[e + 1];
            break;
          }
        }
      }
      if (d === 16) break;
      const wi = byte >>> 5;
      const word = nd[b + wi];
      const bit = 1 << (byte & 31);
      if ((word & bit) === 0) break;
      n = nd[b + CHILD_BASE] + ((nd[b + CUM_LO + (wi >>> 2)] >>> ((wi & 3) << 3)) & 0xff) +
        popcount(word & (bit - 1));
    }
    return best < 0 ? undefined : this.#vals[best];
  }

  /** Longest-prefix match on a 16-byte address (convenience over {@link Fib.lookup}). */
  lookupAddress(addr: Uint8Array): T | undefined {
    return this.lookup(addr, 0);
  }

  /** The value stored for exactly `prefix`, or undefined. */
  get(prefix: Ipv6Prefix): T | undefined {
    const e = this.#findEntry(prefix);
    return e < 0 ? undefined : this.#vals[this.#ents.arr[(e << 1) + 1]];
  }

  /** True when exactly `prefix` is in the table. */
  has(prefix: Ipv6Prefix): boolean {
    return this.#findEntry(prefix) >= 0;
  }

  /**
   * Inserts or replaces the value of `prefix`.
   * @returns true when the prefix was new.
   * @throws {RangeError} when the prefix is malformed (length, address size, host bits).
   */
  set(prefix: Ipv6Prefix, value: T): boolean {
    checkPrefix(prefix);
    const { addr, len } = prefix;
    const depth = len >> 3;
    let n = ROOT;
    for (let d = 0; d < depth; d++) {
      const c = this.#child(n, addr[d]);
      n = c >= 0 ? c : this.#insertChild(n, addr[d]);
    }
    const key = entryKey(addr, len);
    const e = this.#entryIn(n, key);
    if (e >= 0) {
      this.#vals[this.#ents.arr[(e << 1) + 1]] = value;
      return false;
    }
    let v = this.#freeVals.pop();
    if (v === undefined) v = this.#vals.length;
    this.#vals[v] = value;
    this.#insertEntry(n, key, v);
    this.#size++;
    return true;
  }

  /**
   * Removes `prefix`.
   * @returns true when it was present.
   */
  delete(prefix: Ipv6Prefix): boolean {
    checkPrefix(prefix);
    const { addr, len } = prefix;
    const depth = len >> 3, path = this.#path;
    let n = ROOT;
    path[0] = n;
    for (let d = 0; d < depth; d++) {
      n = this.#child(n, addr[d]);
      if (n < 0) return false;
      path[d + 1] = n;
    }
    const e = this.#entryIn(n, entryKey(addr, len));
    if (e < 0) return false;
    const v = this.#ents.arr[(e << 1) + 1];
    this.#vals[v] = undefined;
    this.#freeVals.push(v);
    this.#removeEntry(n, e);
    this.#size--;
    // Remove nodes that hold neither prefixes nor children, bottom-up.
    for (let d = depth; d > 0; d--) {
      const nd = this.#nodes.arr, b = path[d] << 4;
      if (nd[b + ENT_COUNT] !== 0 || childCount(nd, b) !== 0) break;
      this.#removeChild(path[d - 1], addr[d - 1]);
    }
    return true;
  }

  /** Removes every prefix. */
  clear(): void {
    this.#nodes.reset();
    this.#nodes.alloc(1);
    this.#ents.reset();
    this.#vals = [];
    this.#freeVals = [];
    this.#size = 0;
  }

  /** Every (prefix, value) pair, in address order. */
  *entries(): IterableIterator<[Ipv6Prefix, T]> {
    const bytes = new Uint8Array(16);
    const walk = function* (self: Fib<T>, n: number, d: number): Generator<[Ipv6Prefix, T]> {
      const nd = self.#nodes.arr, ent = self.#ents.arr, b = n << 4;
      const count = nd[b + ENT_COUNT], base = nd[b + ENT_BASE];
      for (let i = count - 1; i >= 0; i--) {
        const key = ent[(base + i) << 1], r = key >>> 8;
        const addr = bytes.slice();
        if (d < 16) addr[d] = r === 0 ? 0 : (key & 0xff) << (8 - r);
        yield [{ addr, len: d * 8 + r }, self.#vals[ent[((base + i) << 1) + 1]] as T];
      }
      if (d === 16) return;
      for (let byte = 0; byte < 256; byte++) {
        const c = self.#child(n, byte);
        if (c < 0) continue;
        bytes[d] = byte;
        yield* walk(self, c, d + 1);
        bytes[d] = 0;
      }
    };
    yield* walk(this, ROOT, 0);
  }

  /** Bytes held by the table's arrays (not counting the values themselves). */
  get byteLength(): number {
    return this.#nodes.byteLength + this.#ents.byteLength + this.#vals.length * 8;
  }

  #child(n: number, byte: number): number {
    const nd = this.#nodes.arr, b = n << 4, wi = byte >>> 5, bit = 1 << (byte & 31);
    const word = nd[b + wi];
    if ((word & bit) === 0) return -1;
    return nd[b + CHILD_BASE] + cumBefore(nd, b, wi) + popcount(word & (bit - 1));
  }

  #insertChild(n: number, byte: number): number {
    const pool = this.#nodes;
    let nd = pool.arr;
    const b = n << 4, wi = byte >>> 5, bit = 1 << (byte & 31);
    const count = childCount(nd, b);
    const rank = cumBefore(nd, b, wi) + popcount(nd[b + wi] & (bit - 1));
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
    nd[b + wi] |= bit;
    updateCum(nd, b);
    return base + rank;
  }

  #removeChild(n: number, byte: number): void {
    const pool = this.#nodes;
    let nd = pool.arr;
    const b = n << 4, wi = byte >>> 5, bit = 1 << (byte & 31);
    const count = childCount(nd, b);
    const rank = cumBefore(nd, b, wi) + popcount(nd[b + wi] & (bit - 1));
    const base = nd[b + CHILD_BASE], cap = nd[b + CHILD_CAP];
    nd.copyWithin((base + rank) * NODE, (base + rank + 1) * NODE, (base + count) * NODE);
    nd.fill(0, (base + count - 1) * NODE, (base + count) * NODE);
    nd[b + wi] &= ~bit;
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

  #findEntry(prefix: Ipv6Prefix): number {
    checkPrefix(prefix);
    const { addr, len } = prefix;
    let n = ROOT;
    for (let d = 0; d < len >> 3; d++) {
      n = this.#child(n, addr[d]);
      if (n < 0) return -1;
    }
    return this.#entryIn(n, entryKey(addr, len));
  }

  /** Index (in entry records) of `key` in node n's list, or -1. */
  #entryIn(n: number, key: number): number {
    const nd = this.#nodes.arr, ent = this.#ents.arr, b = n << 4;
    const base = nd[b + ENT_BASE], count = nd[b + ENT_COUNT];
    for (let i = base; i < base + count; i++) if (ent[i << 1] === key) return i;
    return -1;
  }

  #insertEntry(n: number, key: number, v: number): void {
    const pool = this.#ents;
    const b = n << 4;
    let nd = this.#nodes.arr;
    const count = nd[b + ENT_COUNT], cap = nd[b + ENT_CAP];
    let base = nd[b + ENT_BASE];
    let ent = pool.arr;
    let pos = 0; // keep keys in descending order: longest relative length first
    while (pos < count && ent[(base + pos) << 1] > key) pos++;
    if (count === cap) {
      const [nb, ncap] = pool.alloc(count + 1);
      ent = pool.arr;
      nd = this.#nodes.arr;
      if (count > 0) {
        ent.copyWithin(nb << 1, base << 1, (base + pos) << 1);
        ent.copyWithin((nb + pos + 1) << 1, (base + pos) << 1, (base + count) << 1);
        pool.free(base, cap);
      }
      nd[b + ENT_BASE] = base = nb;
      nd[b + ENT_CAP] = ncap;
    } else {
      ent.copyWithin((base + pos + 1) << 1, (base + pos) << 1, (base + count) << 1);
    }
    ent[(base + pos) << 1] = key;
    ent[((base + pos) << 1) + 1] = v;
    nd[b + ENT_COUNT] = count + 1;
  }

  #removeEntry(n: number, e: number): void {
    const nd = this.#nodes.arr, ent = this.#ents.arr, b = n << 4;
    const base = nd[b + ENT_BASE], count = nd[b + ENT_COUNT], cap = nd[b + ENT_CAP];
    ent.copyWithin(e << 1, (e + 1) << 1, (base + count) << 1);
    ent.fill(0, (base + count - 1) << 1, (base + count) << 1);
    nd[b + ENT_COUNT] = count - 1;
    if (count - 1 === 0) {
      this.#ents.free(base, cap);
      nd[b + ENT_BASE] = 0;
      nd[b + ENT_CAP] = 0;
    }
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
  return cumBefore(nd, b, 7) + popcount(nd[b + 7]);
}

function updateCum(nd: Int32Array, b: number): void {
  let lo = 0, hi = 0, sum = 0;
  for (let i = 0; i < 8; i++) {
    if (i < 4) lo |= sum << (i << 3);
    else hi |= sum << ((i - 4) << 3);
    sum += popcount(nd[b + i]);
  }
  nd[b + CUM_LO] = lo;
  nd[b + CUM_HI] = hi;
}
