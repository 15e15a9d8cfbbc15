/**
 * Shared fixture of the router unit tests (src/routing/router*_test.ts): node IDs, a router on
 * a settable clock, routes written as hop lists, and FIB / source-table / prefix helpers.
 * @module
 */
import { formatPrefix, type Ipv6Prefix, parseIpv6, parsePrefix } from "../../src/net/mod.ts";
import { type Route, Router, type RouterOptions } from "../../src/routing/mod.ts";

/** A 64-hex-digit node ID made of one repeated character. */
export const ID = (c: string): string => c.repeat(64);
/** Shorthand for `parsePrefix`. */
export const P = (t: string): Ipv6Prefix => parsePrefix(t);
/** The local node's ID in these tests. */
export const A: string = ID("a");

/** A router for node `a` on a clock the test moves by setting `clock.t` (starts at 1000 ms). */
export function setup(opts: Partial<RouterOptions> = {}): { r: Router; clock: { t: number } } {
  const clock = { t: 1000 };
  const r = new Router({ localId: A, localName: "a", clock: { now: () => clock.t }, ...opts });
  return { r, clock };
}

/** A route to `prefix` over `hops` ([node ID, latency ms], nearest first). */
export function route(prefix: string, ...hops: [string, number][]): Route {
  return { prefix: P(prefix), path: hops.map(([id, latencyMs]) => ({ id, latencyMs })) };
}

/** The FIB's next hop for an address given as text. */
export function hopOf(r: Router, addr: string): ReturnType<Router["fib"]["lookupAddress"]> {
  return r.fib.lookupAddress(parseIpv6(addr));
}

/** The source table's verdict for a packet from `peer` with source `addr`. */
export function src(r: Router, addr: string, peer: string): string {
  return r.sources.checkAddress(parseIpv6(addr), peer);
}

/** Prefixes as sorted text, for comparing announce/withdraw lists. */
export function texts(ps: Ipv6Prefix[]): string[] {
  return ps.map(formatPrefix).sort();
}
