/**
 * The longest-prefix-match table over IPv6 prefixes ({@link Fib}): a path-compressed multibit
 * trie in flat integer pools whose lookups never allocate. Generic over the value: routing keeps
 * the forwarding table and the uRPF source table in it, the filter the address space a DC
 * whitelist claims.
 * @module
 */
export { Fib } from "./fib.ts";
