/**
 * A token bucket: `rate` events per second with bursts of up to `burst`.
 * Used to rate-limit ICMPv6 errors (RFC 4443 §2.4(f)) and repeated log lines.
 * @module
 */

/** Token bucket with an injected clock (milliseconds). */
export class TokenBucket {
  #tokens: number;
  #last: number;

  /**
   * @param rate tokens added per second
   * @param burst bucket size
   * @param now clock in milliseconds
   */
  constructor(
    readonly rate: number,
    readonly burst: number,
    private readonly now: () => number = performance.now.bind(performance),
  ) {
    this.#tokens = burst;
    this.#last = now();
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    const t = this.now();
    const elapsed = t - this.#last;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.rate) / 1000);
      this.#last = t;
    }
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
