/**
 * Source address validation for packets from peers: feasible-path uRPF (RFC 3704 §2.3).
 *
 * A packet that arrives from peer P is accepted only when its source address falls in a prefix
 * for which P is a feasible next hop: some accepted candidate route through P (the Adj-RIB-In
 * after the checks and the filter), not only the best one, so multipath and failover keep
 * working. A `::/0` learned through P makes every source feasible through P (transit). Sources
 * inside this node's own local prefixes are never accepted from a peer.
 *
 * The table is a longest-prefix match over every prefix with a candidate or a local route.
 * Each entry already holds the union of the feasible peers of the prefixes covering it, and the
 * "own" mark of a covering local prefix, so one lookup answers. The control plane rebuilds it
 * from the routing table (`rebuild`) after a batch of changes; the new table is swapped in by
 * reference, so the forwarder, which holds this object, always sees a complete table.
 * @module
 */
import { type Ipv6Prefix, prefixCovers } from "../net/prefix.ts";
import type { PeerId } from "../pki/peer_id.ts";
import { Fib } from "./fib.ts";
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

interface Entry {
  readonly own: boolean;
  readonly peers: ReadonlySet<string>;
}

const NONE: ReadonlySet<string> = new Set();

/** The source table; hand it to the forwarder once (`setSourceCheck`), rebuild as routes move. */
export class SourceTable {
  #fib = new Fib<Entry>();

  /** Number of prefixes in the table in force. */
  get size(): number {
    return this.#fib.size;
  }

  /**
   * Checks the 16-byte source address at `buf[off..off+16]` of a packet from `peerId`.
   * Allocation-free; called per packet.
   */
  check(buf: Uint8Array, off: number, peerId: string): SourceVerdict {
    const e = this.#fib.lookup(buf, off);
    if (e === undefined) return "unfeasible";
    if (e.own) return "own";
    return e.peers.has(peerId) ? "ok" : "unfeasible";
  }

  /** The verdict for a 16-byte address (convenience over {@link SourceTable.check}). */
  checkAddress(addr: Uint8Array, peerId: string): SourceVerdict {
    return this.check(addr, 0, peerId);
  }

  /**
   * Builds a new table from every prefix the router knows and swaps it in.
   * O(n log n) in the number of prefixes; entries share their peer sets where they can.
   */
  rebuild(prefixes: Iterable<SourcePrefix>): void {
    const list = [...prefixes].sort((a, b) => comparePrefixes(a.prefix, b.prefix));
    const fib = new Fib<Entry>(Math.max(64, list.length * 2));
    // Covering prefixes sort before the prefixes inside them: keep the chain of ancestors.
    const stack: { prefix: Ipv6Prefix; entry: Entry }[] = [];
    for (const item of list) {
      while (stack.length > 0 && !prefixCovers(stack[stack.length - 1].prefix, item.prefix)) {
        stack.pop();
      }
      const parent = stack.length > 0 ? stack[stack.length - 1].entry : undefined;
      const inherited = parent?.peers ?? NONE;
      let peers = inherited;
      for (const p of item.peers) {
        if (peers.has(p)) continue;
        if (peers === inherited) peers = new Set(inherited);
        (peers as Set<string>).add(p);
      }
      const own = item.own || (parent?.own ?? false);
      const entry = parent !== undefined && own === parent.own && peers === parent.peers
        ? parent
        : { own, peers };
      fib.set(item.prefix, entry);
      stack.push({ prefix: item.prefix, entry });
    }
    this.#fib = fib;
  }
}
