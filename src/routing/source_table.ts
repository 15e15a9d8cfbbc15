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
 * changes it between packet batches: {@link SourceTable.update} per prefix (the entry and the
 * entries of the prefixes inside it are recomputed in place; the prefixes are kept in a
 * {@link SortedChunks} order, so an insert is O(log n) plus one short splice, never a move of the
 * whole order), {@link SourceTable.rebuild} for a first table (built and swapped in by
 * reference). The forwarder holds this object and never sees a half-made table.
 *
 * Memory: equal peer sets and equal entries are shared (interned, bounded), and the table keeps
 * the caller's prefix objects instead of copying them, so a prefix costs a node, its key and its
 * FIB entry (about 150 bytes), not two sets of its own.
 * @module
 */
import { addressKey, type Ipv6Prefix, prefixCovers, prefixKey } from "../net/mod.ts";
import type { PeerId } from "../pki/mod.ts";
import { Fib } from "../fib/mod.ts";
import { comparePrefixes } from "./router_state.ts";
import { SortedChunks } from "./sorted_chunks.ts";

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

/** Distinct peer sets (and entries) kept for sharing before the cache starts over. */
export const MAX_SHARED_SETS = 4096;

const byPrefix = (a: Node, b: Node) => comparePrefixes(a.prefix, b.prefix);

/** The source table; hand it to the forwarder once (`setSourceCheck`). */
export class SourceTable {
  #fib = new Fib<Entry>();
  #nodes = new Map<string, Node>();
  /** Every node, sorted by address then length: a prefix's descendants follow it. */
  #order = new SortedChunks<Node>(byPrefix);
  /** Nodes per prefix length (to find a prefix's parent by masking). */
  #lens = new Int32Array(129);
  /** Shared one-peer sets by peer (bounded). */
  #single = new Map<PeerId, ReadonlySet<string>>();
  /** Shared entries of prefixes without a covering prefix, by their set (not own / own). */
  #top = new Map<ReadonlySet<string>, Entry>();
  #topOwn = new Map<ReadonlySet<string>, Entry>();
  /** Shared peer sets and entries by their text key (bounded: see {@link MAX_SHARED_SETS}). */
  #shared = new Map<string, ReadonlySet<string> | Entry>();

  /**
   * Loose mode (RFC 3704 §2.4, config `source_validation: "loose"`): a source is accepted from
   * any peer when some peer has a route for it; sources inside our own prefixes stay refused.
   */
  loose = false;

  /**
   * Work done by updates so far: items shifted in the order plus entries recomputed. Tests use
   * it to show that n updates cost O(n), not O(n²), steps.
   */
  get steps(): number {
    return this.#order.moves + this.#visits;
  }

  #visits = 0;

  /** Number of prefixes in the table. */
  get size(): number {
    return this.#order.size;
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
   * insert into or removal from the order (O(log n) plus a short splice), and one step per
   * prefix inside it. The table keeps `prefix` (a new one) by reference: do not change it.
   * @param key `prefixKey(prefix)`, when the caller has it already
   */
  update(
    prefix: Ipv6Prefix,
    peers: Iterable<PeerId>,
    own: boolean,
    key: string = prefixKey(prefix),
  ): void {
    const set = this.#peerSet(peers);
    const remove = set.size === 0 && !own;
    const node = this.#nodes.get(key);
    if (node === undefined) {
      if (remove) return;
      const fresh: Node = { prefix, peers: set, own, entry: EMPTY };
      this.#nodes.set(key, fresh);
      this.#order.insert(fresh);
      this.#lens[prefix.len]++;
      this.#recompute(fresh, true);
    } else if (remove) {
      this.#nodes.delete(key);
      this.#lens[prefix.len]--;
      this.#fib.delete(node.prefix);
      this.#order.remove(node);
      this.#recompute(node, false);
    } else {
      node.peers = set;
      node.own = own;
      this.#recompute(node, true);
    }
  }

  /** Applies a batch of changes, as {@link SourceTable.update} each. */
  updateMany(changes: Iterable<SourcePrefix>): void {
    for (const c of changes) this.update(c.prefix, c.peers, c.own);
  }

  /**
   * Builds a new table from every prefix the router knows and swaps it in (for a first table
   * or a large batch of changes). O(n log n). Keeps the prefix objects by reference.
   */
  rebuild(prefixes: Iterable<SourcePrefix>): void {
    const sorted: Node[] = [];
    for (const p of prefixes) {
      const peers = this.#peerSet(p.peers);
      if (peers.size === 0 && !p.own) continue;
      sorted.push({ prefix: p.prefix, peers, own: p.own, entry: EMPTY });
    }
    sorted.sort(byPrefix);
    const fib = new Fib<Entry>(Math.max(64, sorted.length * 2));
    const nodes = new Map<string, Node>();
    const lens = new Int32Array(129);
    const stack: Node[] = [];
    for (const node of sorted) {
      while (stack.length > 0 && !prefixCovers(stack[stack.length - 1].prefix, node.prefix)) {
        stack.pop();
      }
      node.entry = this.#merge(stack.length > 0 ? stack[stack.length - 1].entry : EMPTY, node);
      fib.set(node.prefix, node.entry);
      nodes.set(prefixKey(node.prefix), node);
      lens[node.prefix.len]++;
      stack.push(node);
    }
    this.#fib = fib;
    this.#nodes = nodes;
    this.#order.reset(sorted);
    this.#lens = lens;
  }

  /**
   * Recomputes the entries of the nodes inside `top` (and of `top` itself when `self`; `top`
   * is then in the order), from the entry of `top`'s parent.
   */
  #recompute(top: Node, self: boolean): void {
    const parentEntry = this.#parentOf(top.prefix)?.entry ?? EMPTY;
    const stack: Node[] = [];
    for (const node of this.#order.from(top)) {
      if (node === top) {
        if (!self) continue;
      } else if (!(node.prefix.len > top.prefix.len && prefixCovers(top.prefix, node.prefix))) {
        break;
      }
      this.#visits++;
      while (stack.length > 0 && !prefixCovers(stack[stack.length - 1].prefix, node.prefix)) {
        stack.pop();
      }
      const entry = this.#merge(
        stack.length > 0 ? stack[stack.length - 1].entry : parentEntry,
        node,
      );
      if (entry !== node.entry) {
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
      const n = this.#nodes.get(addressKey(p.addr, len));
      if (n !== undefined) return n;
    }
    return undefined;
  }

  /** The shared set of `peers`. */
  #peerSet(peers: Iterable<PeerId>): ReadonlySet<string> {
    const ids = [...peers];
    if (ids.length === 0) return NONE;
    if (ids.length === 1) {
      // The common case (one neighbour per prefix): no key to build.
      let one = this.#single.get(ids[0]);
      if (one === undefined) {
        if (this.#single.size >= MAX_SHARED_SETS) this.#single.clear();
        this.#single.set(ids[0], one = new Set(ids));
      }
      return one;
    }
    ids.sort();
    const key = "p" + ids.join(",");
    const hit = this.#shared.get(key) as ReadonlySet<string> | undefined;
    if (hit !== undefined) return hit;
    const set = new Set(ids);
    this.#share(key, set);
    return set;
  }

  /** A node's entry: its parent's plus its own peers and mark; equal entries are one object. */
  #merge(parent: Entry, node: Node): Entry {
    if (parent === EMPTY && !node.own && node.peers.size === 0) return EMPTY;
    if (parent === EMPTY) {
      // A prefix with no covering prefix in the table (most of a transit site's): its entry is
      // its own peers and mark, one shared object per (set, mark).
      const byOwn = node.own ? this.#topOwn : this.#top;
      let entry = byOwn.get(node.peers);
      if (entry === undefined) {
        if (byOwn.size >= MAX_SHARED_SETS) byOwn.clear();
        byOwn.set(node.peers, entry = { own: node.own, peers: node.peers });
      }
      return entry;
    }
    const own = parent.own || node.own;
    let more = false;
    for (const p of node.peers) {
      if (!parent.peers.has(p)) {
        more = true;
        break;
      }
    }
    if (!more && own === parent.own) return parent;
    const peers = more
      ? this.#peerSet([...new Set([...parent.peers, ...node.peers])])
      : parent.peers;
    const key = (own ? "e1" : "e0") + [...peers].join(",");
    const hit = this.#shared.get(key) as Entry | undefined;
    // The sets of shared entries are shared too, so the entry's set is this one.
    if (hit !== undefined && hit.peers === peers) return hit;
    const entry: Entry = { own, peers };
    this.#share(key, entry);
    return entry;
  }

  #share(key: string, value: ReadonlySet<string> | Entry): void {
    // Objects handed out so far stay valid; only the sharing starts over.
    if (this.#shared.size >= MAX_SHARED_SETS) this.#shared.clear();
    this.#shared.set(key, value);
  }
}
