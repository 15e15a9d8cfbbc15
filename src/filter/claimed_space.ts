/**
 * The address space a DC whitelist claims for its listed nodes, indexed so that the filter can
 * ask, per route, whether a prefix overlaps (equals, contains or lies inside) some listed
 * node's entry. Built once per whitelist; a query is one longest-prefix match and one binary
 * search, whatever the number of entries (a DC may carry about 30 000).
 * @module
 */
import { type Ipv6Prefix, maskAddress } from "../net/mod.ts";
import { Fib } from "../fib/mod.ts";
import type { PrefixWhitelist } from "./whitelist.ts";

/** A whitelist entry and the node it is listed for. */
export interface Claim {
  readonly owner: string;
  readonly prefix: Ipv6Prefix;
}

/** The space claimed by every entry of a whitelist. */
export class ClaimedSpace {
  readonly #fib = new Fib<Claim>();
  /** Every claim, sorted by address. */
  readonly #sorted: Claim[];

  /**
   * Indexes every entry of `whitelist` (names as given) except those of `exclude` (the node
   * itself: its own entry says what it may announce, and its local prefixes are guarded
   * separately).
   */
  constructor(whitelist: PrefixWhitelist, exclude?: string) {
    const all: Claim[] = [];
    for (const [owner, entries] of whitelist) {
      if (owner === exclude) continue;
      for (const e of entries) {
        const claim = { owner, prefix: e.prefix };
        all.push(claim);
        this.#fib.set(e.prefix, claim);
      }
    }
    this.#sorted = all.sort((a, b) => compareAddr(a.prefix.addr, b.prefix.addr));
  }

  /** A claim that overlaps `prefix` (equal, covering or inside it), or undefined. */
  overlapping(prefix: Ipv6Prefix): Claim | undefined {
    // A claim that contains the prefix's first address covers the prefix or lies inside it.
    const hit = this.#fib.lookup(prefix.addr, 0);
    if (hit !== undefined) return hit;
    // Otherwise a claim inside the prefix starts somewhere in the prefix's range.
    const first = prefix.addr;
    const last = lastAddress(prefix);
    const s = this.#sorted;
    let lo = 0, hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareAddr(s[mid].prefix.addr, first) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo < s.length && compareAddr(s[lo].prefix.addr, last) <= 0) return s[lo];
    return undefined;
  }
}

function compareAddr(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

function lastAddress(p: Ipv6Prefix): Uint8Array {
  const out = maskAddress(p.addr, p.len);
  for (let bit = p.len; bit < 128; bit++) out[bit >> 3] |= 0x80 >> (bit & 7);
  return out;
}
