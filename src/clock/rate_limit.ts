/**
 * One rate limiter for everything the network can make us repeat: ICMPv6 errors (RFC 4443
 * §2.4(f)) and log lines about refused connections, dropped packets and bad input. A token
 * bucket on an injected clock that counts what it refused, so that the next allowed log line
 * can say how many similar ones were suppressed.
 * @module
 */
import type { Clock } from "./clock.ts";

/**
 * A token bucket: `perSecond` events per second on average, bursts of up to `burst`; starts
 * full.
 * @example Log at most 2 refusals a second, 20 in a burst
 * ```ts
 * import { RateLimit, realClock } from "./mod.ts";
 * const limit = new RateLimit(realClock, 2, 20);
 * if (limit.take()) {
 *   const n = limit.suppressed;
 *   console.warn(`refused a connection${n > 0 ? ` (${n} similar messages suppressed)` : ""}`);
 * }
 * ```
 */
export class RateLimit {
  readonly #clock: Pick<Clock, "now">;
  readonly #perSecond: number;
  readonly #burst: number;
  #tokens: number;
  #last: number;
  #refused = 0;
  #suppressed = 0;

  /**
   * Creates a full bucket.
   * @param clock time source (milliseconds)
   * @param perSecond tokens added per second (> 0)
   * @param burst bucket size (≥ 1)
   * @throws {RangeError} for a rate or burst out of range
   */
  constructor(clock: Pick<Clock, "now">, perSecond: number, burst: number) {
    if (!(perSecond > 0) || !(burst >= 1)) {
      throw new RangeError(
        `RateLimit: need perSecond > 0 and burst >= 1, got ${perSecond}, ${burst}`,
      );
    }
    this.#clock = clock;
    this.#perSecond = perSecond;
    this.#burst = burst;
    this.#tokens = burst;
    this.#last = clock.now();
  }

  /** Takes one token. @returns false (and counts the refusal) when the bucket is empty. */
  take(): boolean {
    const t = this.#clock.now();
    const elapsed = t - this.#last;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed * this.#perSecond) / 1000);
      this.#last = t;
    }
    if (this.#tokens < 1) {
      this.#refused++;
      return false;
    }
    this.#tokens -= 1;
    this.#suppressed = this.#refused;
    this.#refused = 0;
    return true;
  }

  /** Events refused between the previous allowed one and the last allowed one. */
  get suppressed(): number {
    return this.#suppressed;
  }
}
