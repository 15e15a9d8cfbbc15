/**
 * Route filtering: the prefix whitelist the distributed config carries (what each peer, by
 * certificate name, may announce) and the pure first-match function that accepts or rejects a
 * route from a peer ({@link filterRoute}). Used by routing; never by the packet path.
 * @module
 */
export { type Claim, ClaimedSpace } from "./claimed_space.ts";
export {
  type ExternalDefault,
  type FilterPeer,
  filterRoute,
  type FilterVerdict,
} from "./prefix_filter.ts";
export { canonicalWhitelist, type PrefixWhitelist, type WhitelistEntry } from "./whitelist.ts";
