/**
 * Time: the injectable {@link Clock} (real, or {@link ManualClock} for tests), repeating
 * timers on it, and the one {@link RateLimit} (token bucket) used for ICMPv6 errors and for
 * log lines the network can trigger. Imports nothing from the rest of vmesh.
 * @module
 */
export { type Clock, every, ManualClock, realClock, type TimerHandle, untilGrid } from "./clock.ts";
export { RateLimit } from "./rate_limit.ts";
