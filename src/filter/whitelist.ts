/**
 * The prefix whitelist carried by the distributed config: what each peer (by certificate
 * name) may announce.
 * @module
 */
import { canonicalName, type Ipv6Prefix } from "../net/mod.ts";

/** One whitelist entry: routes inside `prefix` with length ≤ `maxPrefixLen` are allowed. */
export interface WhitelistEntry {
  /** The covering prefix. */
  readonly prefix: Ipv6Prefix;
  /** 0..128; default 128. */
  readonly maxPrefixLen: number;
}

/** Node name → entries. A name that is absent has no entry (see the filter's defaults). */
export type PrefixWhitelist = ReadonlyMap<string, readonly WhitelistEntry[]>;

/**
 * The whitelist with every key in canonical DNS form ({@link canonicalName}): the filter looks
 * names up that way, so a key `B.Vnet.Example.Com.` limits node `b.vnet.example.com`. Keys
 * that are the same name are merged (their entries are joined, as the signer listed them all).
 */
export function canonicalWhitelist(whitelist: PrefixWhitelist): PrefixWhitelist {
  const out = new Map<string, WhitelistEntry[]>();
  for (const [name, entries] of whitelist) {
    const key = canonicalName(name);
    const have = out.get(key);
    if (have === undefined) out.set(key, [...entries]);
    else have.push(...entries);
  }
  return out;
}
