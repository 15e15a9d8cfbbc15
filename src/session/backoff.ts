/**
 * Reconnect delays: exponential backoff with jitter, reset once a session stayed up long
 * enough.
 * @module
 */

/** Backoff settings (ms). */
export interface BackoffOptions {
  /**
   * First delay (default 100: a first dial refused because the peer is still starting is
   * retried within 50–100 ms; the doubling reaches the cap after ten failures).
   */
  initialMs?: number;
  /** Largest delay (default 60000). */
  maxMs?: number;
  /** A session that lasted this long resets the backoff (default 30000). */
  stableMs?: number;
}

/**
 * Delay sequence initial, 2×initial, … up to max, each scaled by a random factor in
 * [0.5, 1] ("equal jitter") so that peers restarted together do not dial in lock-step.
 * @example
 * ```ts
 * const b = new Backoff({ initialMs: 1000, maxMs: 60000 });
 * b.next(); // 500–1000
 * b.next(); // 1000–2000
 * ```
 */
export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #stable: number;
  readonly #random: () => number;
  #attempt = 0;

  /**
   * @param opts delays
   * @param random source of [0, 1) numbers (tests inject a fixed one)
   */
  constructor(opts: BackoffOptions = {}, random: () => number = Math.random) {
    this.#initial = opts.initialMs ?? 100;
    this.#max = opts.maxMs ?? 60_000;
    this.#stable = opts.stableMs ?? 30_000;
    this.#random = random;
    if (!(this.#initial > 0) || !(this.#max >= this.#initial)) {
      throw new RangeError("backoff needs 0 < initialMs ≤ maxMs");
    }
  }

  /** Attempts since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The next delay, ms. */
  next(): number {
    const base = Math.min(this.#max, this.#initial * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return base * (0.5 + 0.5 * this.#random());
  }

  /** Starts again from the initial delay. */
  reset(): void {
    this.#attempt = 0;
  }

  /** Call when a session ends: resets when it lasted at least `stableMs`. */
  sessionEnded(uptimeMs: number): void {
    if (uptimeMs >= this.#stable) this.reset();
  }
}
