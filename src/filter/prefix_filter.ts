/**
 * Route filtering by the distributed config's prefix whitelist. Pure functions: the result
 * depends only on the arguments.
 *
 * Rules (as the Go vmesh): the whitelist entry list is looked up by the certificate name of the
 * neighbour that announced the route (not the route's origin).
 * - The peer has entries: accepted when some entry's prefix covers the route's prefix and the
 *   route's length is ≤ that entry's `maxPrefixLen`; otherwise rejected.
 * - The peer has no entry: internal peers are accepted; external peers are rejected unless
 *   `externalPeersDefault` is "accept".
 * @module
 */
import { formatPrefix, type Ipv6Prefix, prefixCovers } from "../net/prefix.ts";
import type { PrefixWhitelist } from "./whitelist.ts";

/** The announcing neighbour as the filter sees it. */
export interface FilterPeer {
  /** Certificate name (CN) of the neighbour. */
  readonly name: string;
  /** True for peers outside our PKI domain (configured as external). */
  readonly external: boolean;
}

/** What to do with routes from an external peer that has no whitelist entry. */
export type ExternalDefault = "accept" | "reject";

/** The filter's verdict. */
export type FilterVerdict = { readonly accept: true } | {
  readonly accept: false;
  /** Why, for logs and the table view. */
  readonly reason: string;
};

const ACCEPT: FilterVerdict = { accept: true };

/**
 * Decides whether `peer` may announce `prefix`.
 * @param whitelist name → entries, from the distributed config (empty map: no entries)
 * @param externalDefault default for external peers without an entry
 * @returns accept, or reject with a reason
 * @example
 * filterRoute({ name: "b", external: false }, parsePrefix("fd00:b::/48"), wl, "reject")
 */
export function filterRoute(
  peer: FilterPeer,
  prefix: Ipv6Prefix,
  whitelist: PrefixWhitelist,
  externalDefault: ExternalDefault = "reject",
): FilterVerdict {
  const entries = whitelist.get(peer.name);
  if (entries === undefined) {
    if (!peer.external || externalDefault === "accept") return ACCEPT;
    return {
      accept: false,
      reason: `external peer "${peer.name}" has no prefix whitelist entry`,
    };
  }
  for (const e of entries) {
    if (prefixCovers(e.prefix, prefix) && prefix.len <= e.maxPrefixLen) return ACCEPT;
  }
  return {
    accept: false,
    reason: `${formatPrefix(prefix)} is outside the prefix whitelist of "${peer.name}"`,
  };
}
