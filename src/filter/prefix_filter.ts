/**
 * Route filtering by the distributed config's prefix whitelist. Pure functions: the result
 * depends only on the arguments.
 *
 * Rules (as the Go vmesh): the whitelist entry list is looked up by the certificate name of the
 * neighbour that announced the route (not the route's origin), compared as a DNS name (case and
 * a trailing dot do not matter; the whitelist's keys must be canonical, see
 * `canonicalWhitelist`).
 * - The peer has entries: accepted when some entry's prefix covers the route's prefix and the
 *   route's length is ≤ that entry's `maxPrefixLen`; otherwise rejected.
 * - The peer has no entry: internal peers are accepted; external peers are rejected unless
 *   `externalPeersDefault` is "accept". Beyond the Go vmesh, while a DC is in force (`claimed`
 *   given) such a peer is refused any prefix that overlaps a prefix whitelisted to a listed node
 *   (equal, containing or inside it): unlisted nodes may use unclaimed space, but cannot hijack
 *   a listed node's space.
 * @module
 */
import { canonicalName, formatPrefix, type Ipv6Prefix, prefixCovers } from "../net/mod.ts";
import type { ClaimedSpace } from "./claimed_space.ts";
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
 * @param whitelist canonical name → entries, from the distributed config (empty map: no entries)
 * @param externalDefault default for external peers without an entry
 * @param claimed the space the whitelist claims, while a DC is in force
 * @returns accept, or reject with a reason
 * @example
 * filterRoute({ name: "b", external: false }, parsePrefix("fd00:b::/48"), wl, "reject")
 */
export function filterRoute(
  peer: FilterPeer,
  prefix: Ipv6Prefix,
  whitelist: PrefixWhitelist,
  externalDefault: ExternalDefault = "reject",
  claimed?: ClaimedSpace,
): FilterVerdict {
  const entries = whitelist.get(canonicalName(peer.name));
  if (entries === undefined) {
    if (peer.external && externalDefault !== "accept") {
      return {
        accept: false,
        reason: `external peer "${peer.name}" has no prefix whitelist entry`,
      };
    }
    const claim = claimed?.overlapping(prefix);
    if (claim === undefined) return ACCEPT;
    return {
      accept: false,
      reason: `${formatPrefix(prefix)} overlaps ${formatPrefix(claim.prefix)}, whitelisted to ` +
        `"${claim.owner}", and "${peer.name}" has no whitelist entry`,
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
