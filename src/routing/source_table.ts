/**
 * Source address validation for packets from peers: feasible-path uRPF (RFC 3704 §2.3).
 *
 * A packet that arrives from peer P is accepted only when its source address falls in a prefix
 * for which P is a feasible next hop: some accepted candidate route through P (the Adj-RIB-In
 * after the checks and the filter), not only the best one, so multipath and failover keep
 * working. A `::/0` learned through P makes every source feasible through P (transit). Sources
 * inside this node's own local prefixes are never accepted from a peer.
 *
 * The table is a longest-prefix match (a {@link Fib}) over every prefix with a candidate or a
 * local route. Each entry already holds the union of the feasible peers of the prefixes covering
 * it, and the "own" mark of a covering local prefix, so one lookup answers. The control plane
 * changes it between packet batches: {@link SourceTable.update} for a few prefixes (the entry
 * and the entries of the prefixes inside it are recomputed in place), {@link
 * SourceTable.rebuild} for many (a new table is built and swapped in by reference). The
 * forwarder holds this object and never sees a half-made table.
 * @module
 */
import { type Ipv6Prefix, prefixCovers } from "../net/mod.ts";
import type { PeerId } from "../pki/mod.ts";
import { Fib } from "../fib/mod.ts";
import { comparePrefixes } from "./router_state.ts";

/** The answer for one packet: accept, source is ours, or the peer is no feasible next hop. */
export type SourceVerdict = "ok" | "own" | "unfeasible";

/** One prefix's contribution to the table. */
export interface SourcePrefix {
  readonly prefix: Ipv6Prefix;
  /** Peers with an accepted candidate route for the prefix. */
  readonly peers: Iterable<PeerId>;
  /** True when the prefix is one of this node's local announcements. */
  readonly own: boolean;
}

/** What a lookup finds: the feasible peers and the own mark, covering prefixes included. */
interface Entry {
  readonly own: boolean;
  readonly peers: ReadonlySet<string>;
}

/** One prefix of the table: its own contribution and its entry. */
interface Node {
  readonly prefix: Ipv6Prefix;
  peers: ReadonlySet<string>;
  own: boolean;
  entry: Entry;
}

const NONE: ReadonlySet<string> = new Set();
const EMPTY: Entry = { own: false, peers: NONE };

/** The source table; hand it to the forwarder once (`setSourceCheck`). */
export class SourceTable {
  #fib = new Fib<Entry>();
  #nodes = new Map<string, Node>();
  /** Every node, sorted by address then length: a prefix's descendants follow it. */
  #order: Node[] = [];
  /** Nodes per prefix length (to find a prefix's parent by masking). */
  #lens = new Int32Array(129);

  /**
   * Loose mode (RFC 3704 §2.4, config `source_validation: "loose"`): a source is accepted from
   * any peer when some peer has a route for it; sources inside our own prefixes stay refused.
   */
  loose = false;

  /** Number of prefixes in the table. */
  get size(): number {
    return this.#order.length;
  }

  /**
   * Checks the 16-byte source address at `buf[off..off+16]` of a packet from `peerId`.
   * Allocation-free; called per packet.
   */
  check(buf: Uint8Array, off: number, peerId: string): SourceVerdict {
    const e = this.#fib.lookup(buf, off);
    if (e === undefined) return "unfeasible";
    if (e.own) return "own";
    if (this.loose) return e.peers.size > 0 ? "ok" : "unfeasible";
    return e.peers.has(peerId) ? "ok" : "unfeasible";
  }

  /** The verdict for a 16-byte address (convenience over {@link SourceTable.check}). */
  checkAddress(addr: Uint8Array, peerId: string): SourceVerdict {
    return this.check(addr, 0, peerId);
  }

  /**
   * Sets one prefix's feasible peers and own mark (no peers and not own: the prefix leaves the
   * table), and recomputes the entries of the prefixes inside it. Cost: a few map look-ups, an
   * array insert or removal, and one step per prefix inside it.
   */
  update(prefix: Ipv6Prefix, peers: Iterable<PeerId>, own: boolean): void {
    const key = keyOf(prefix.addr, prefix.len);
    const set = new Set(peers);
    const remove = set.size === 0 && !own;
    let node = this.#nodes.get(key);
    if (node === undefined) {
      if (remove) return;
      node = {
        prefix: { addr: prefix.addr.slice(), len: prefix.len },
        peers: set,
        own,
        entry: EMPTY,
      };
      this.#nodes.set(key, node);
      this.#order.splice(this.#position(prefix), 0, node);
      this.#lens[prefix.len]++;
    } else if (remove) {
      const at = this.#position(prefix);
      this.#order.splice(at, 1);
      this.#nodes.delete(key);
      this.#lens[prefix.len]--;
      this.#fib.delete(node.prefix);
      this.#recomputeFrom(at, node.prefix, this.#parentOf(prefix)?.entry ?? EMPTY, false);
      return;
    } else {
      node.peers = set;
      node.own = own;
    }
    this.#recomputeFrom(
      this.#position(prefix),
      prefix,
      this.#parentOf(prefix)?.entry ?? EMPTY,
      true,
    );
  }

  /**
   * Applies a batch of changes (as {@link SourceTable.update} each) in one pass: the sorted
   * batch is merged into the sorted order (O(n + d log d) instead of one O(n) array splice per
   * prefix), then the entries inside each changed prefix are recomputed.
   */
  updateMany(changes: Iterable<SourcePrefix>): void {
    const added: Node[] = [];
    const removed = new Set<Node>();
    const touched: Ipv6Prefix[] = [];
    for (const c of changes) {
      const key = keyOf(c.prefix.addr, c.prefix.len);
      const set = new Set(c.peers);
      const remove = set.size === 0 && !c.own;
      const node = this.#nodes.get(key);
      if (node === undefined) {
        if (remove) continue;
        const fresh: Node = {
          prefix: { addr: c.prefix.addr.slice(), len: c.prefix.len },
          peers: set,
          own: c.own,
          entry: EMPTY,
        };
        this.#nodes.set(key, fresh);
        this.#lens[c.prefix.len]++;
        added.push(fresh);
        touched.push(fresh.prefix);
      } else if (remove) {
        this.#nodes.delete(key);
        this.#lens[c.prefix.len]--;
        this.#fib.delete(node.prefix);
        removed.add(node);
        touched.push(node.prefix);
      } else {
        node.peers = set;
        node.own = c.own;
        touched.push(node.prefix);
      }
    }
    if (added.length > 0 || removed.size > 0) {
      added.sort((a, b) => comparePrefixes(a.prefix, b.prefix));
      const old = this.#order;
      const order: Node[] = [];
      let j = 0;
      for (const node of old) {
        if (removed.has(node)) continue;
        while (j < added.length && comparePrefixes(added[j].prefix, node.prefix) < 0) {
          order.push(added[j++]);
        }
        order.push(node);
      }
      while (j < added.length) order.push(added[j++]);
      this.#order = order;
    }
    touched.sort(comparePrefixes);
    for (const p of touched) {
      const at = this.#position(p);
      const here = at < this.#order.length &&
        this.#nodes.get(keyOf(p.addr, p.len)) === this.#order[at];
      this.#recomputeFrom(at, p, this.#parentOf(p)?.entry ?? EMPTY, here);
    }
  }

  /**
   * Builds a new table from every prefix the router knows and swaps it in (for a first table
   * or a large batch of changes). O(n log n); entries share their peer sets where they can.
   */
  rebuild(prefixes: Iterable<SourcePrefix>): void {
    const order: Node[] = [];
    for (const p of prefixes) {
      const peers = new Set(p.peers);
      if (peers.size === 0 && !p.own) continue;
      const prefix = { addr: p.prefix.addr.slice(), len: p.prefix.len };
      order.push({ prefix, peers, own: p.own, entry: EMPTY });
    }
    order.sort((a, b) => comparePrefixes(a.prefix, b.prefix));
    const fib = new Fib<Entry>(Math.max(64, order.length * 2));
    const nodes = new Map<string, Node>();
    const lens = new Int32Array(129);
    const stack: Node[] = [];
    for (const node of order) {
      while (stack.length > 0 && !prefixCovers(stack[stack.length - 1].prefix, node.prefix)) {
        stack.pop();
      }
      node.entry = merge(stack.length > 0 ? stack[stack.length - 1].entry : EMPTY, node);
      fib.set(node.prefix, node.entry);
      nodes.set(keyOf(node.prefix.addr, node.prefix.len), node);
      lens[node.prefix.len]++;
      stack.push(node);
    }
    this.#fib = fib;
    this.#nodes = nodes;
    this.#order = order;
    this.#lens = lens;
  }

  /**
   * Recomputes the entries from `order[at]` on while they lie inside `top` (inclusive when
   * `self`, the node at `at` being `top` itself), given the entry of `top`'s parent.
   */
  #recomputeFrom(at: number, top: Ipv6Prefix, parentEntry: Entry, self: boolean): void {
    const order = this.#order;
    const stack: Node[] = [];
    for (let i = at; i < order.length; i++) {
      const node = order[i];
      if (!(self && i === at) && !(prefixCovers(top, node.prefix) && node.prefix.len > top.len)) {
        break;
      }
      while (stack.length > 0 && !prefixCovers(stack[stack.length - 1].prefix, node.prefix)) {
        stack.pop();
      }
      const entry = merge(stack.length > 0 ? stack[stack.length - 1].entry : parentEntry, node);
      if (!sameEntry(entry, node.entry)) {
        node.entry = entry;
        this.#fib.set(node.prefix, entry);
      }
      stack.push(node);
    }
  }

  /** The longest prefix in the table that strictly covers `p`. */
  #parentOf(p: Ipv6Prefix): Node | undefined {
    for (let len = p.len - 1; len >= 0; len--) {
      if (this.#lens[len] === 0) continue;
      const n = this.#nodes.get(keyOf(p.addr, len));
      if (n !== undefined) return n;
    }
    return undefined;
  }

  /** Index of `p` in the order, or where it would go. */
  #position(p: Ipv6Prefix): number {
    const order = this.#order;
    let lo = 0, hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (comparePrefixes(order[mid].prefix, p) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Map key of the first `len` bits of `addr` (no allocation besides the string). */
function keyOf(addr: Uint8Array, len: number): string {
  let s = "";
  const full = len >> 3, rest = len & 7;
  for (let i = 0; i < full; i++) s += HEX[addr[i]];
  if (rest !== 0) s += HEX[addr[full] & (0xff << (8 - rest)) & 0xff];
  return s + "/" + len;
}

/** A node's entry: its parent's, plus its own peers and mark (sharing the set when it can). */
function merge(parent: Entry, node: Node): Entry {
  let peers = parent.peers;
  for (const p of node.peers) {
    if (peers.has(p)) continue;
    if (peers === parent.peers) peers = new Set(parent.peers);
    (peers as Set<string>).add(p);
  }
  const own = parent.own || node.own;
  return own === parent.own && peers === parent.peers ? parent : { own, peers };
}

function sameEntry(a: Entry, b: Entry): boolean {
  if (a === b) return true;
  if (a.own !== b.own || a.peers.size !== b.peers.size) return false;
  for (const p of a.peers) if (!b.peers.has(p)) return false;
  return true;
}
