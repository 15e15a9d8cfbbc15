/**
 * Size limits of the router's work per call, shared by its files. Internal to `src/routing/`
 * (re-exported by router.ts).
 * @module
 */

/**
 * Above this many prefixes, a change of a link's advertised latency (which re-bases the routes
 * learned over the link and sends the neighbour the whole table again) is applied at most once
 * per {@link BIG_TABLE_LATENCY_MS} per neighbour, at a `tick()`: with 100 000 routes each
 * application costs a second of CPU along the chain, and a node that is busy measures inflated
 * RTTs, which would otherwise start the next one.
 */
export const BIG_TABLE = 4096;
/** See {@link BIG_TABLE}. */
export const BIG_TABLE_LATENCY_MS = 5000;
/**
 * Routes (and feasible-only entries) per neighbour that `tick()` checks for expiry: a table up
 * to this size is checked whole every tick, a bigger one a slice per tick (100 000 routes in
 * 13 ticks), so a route expires up to that much later than `routeTimeoutMs`.
 */
export const EXPIRY_SLICE = 8192;
