/**
 * The prefix whitelist carried by the distributed config: what each peer (by certificate
 * name) may announce.
 * @module
 */
import type { Ipv6Prefix } from "../net/prefix.ts";

/** One whitelist entry: routes inside `prefix` with length ≤ `maxPrefixLen` are allowed. */
export interface WhitelistEntry {
  /** The covering prefix. */
  readonly prefix: Ipv6Prefix;
  /** 0..128; default 128. */
  readonly maxPrefixLen: number;
}

/** Node name → entries. A name that is absent has no entry (see the filter's defaults). */
export type PrefixWhitelist = ReadonlyMap<string, readonly WhitelistEntry[]>;
