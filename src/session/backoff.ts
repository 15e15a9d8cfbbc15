/**
 * Reconnect delays: exponential backoff with jitter, reset once a session stayed up long
 * enough. After a session that had opened is lost, the next retries are capped at
 * `lostMaxMs`: the peer was reachable a moment ago and is most likely restarting, and plain
 * doubling would leave its peers waiting about as long again as it was down (a hub back after
 * 3 s would see its peers only 1.6–3.2 s later).
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
  /**
   * Retries after a lost session (one that had opened) that wait at most {@link lostMaxMs}
   * (default 30: about 20 s of retries at most 1 s apart, then doubling resumes).
   */
  lostRetries?: number;
  /** Largest delay of those retries (default 1000). */
  lostMaxMs?: number;
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
  readonly #lostRetries: number;
  readonly #lostMax: number;
  #attempt = 0;
  #fastLeft = 0;

  /**
   * @param opts delays
   * @param random source of [0, 1) numbers (tests inject a fixed one)
   */
  constructor(opts: BackoffOptions = {}, random: () => number = Math.random) {
    this.#initial = opts.initialMs ?? 100;
    this.#max = opts.maxMs ?? 60_000;
    this.#stable = opts.stableMs ?? 30_000;
    this.#random = random;
    this.#lostRetries = opts.lostRetries ?? 30;
    this.#lostMax = opts.lostMaxMs ?? 1000;
    if (!(this.#initial > 0) || !(this.#max >= this.#initial)) {
      throw new RangeError("backoff needs 0 < initialMs ≤ maxMs");
    }
    if (!(this.#lostRetries >= 0) || !(this.#lostMax >= this.#initial)) {
      throw new RangeError("backoff needs lostRetries ≥ 0 and lostMaxMs ≥ initialMs");
    }
  }

  /** Attempts since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The next delay, ms. */
  next(): number {
    let base = Math.min(this.#max, this.#initial * 2 ** Math.min(this.#attempt, 30));
    if (this.#fastLeft > 0) {
      this.#fastLeft--;
      // Doubling pauses at the cap and resumes from there once the fast retries are used up.
      if (base < this.#lostMax) this.#attempt++;
      base = Math.min(base, this.#lostMax);
    } else this.#attempt++;
    return base * (0.5 + 0.5 * this.#random());
  }

  /** Starts again from the initial delay. */
  reset(): void {
    this.#attempt = 0;
  }

  /**
   * Call when a session that had opened ends: resets when it lasted at least `stableMs`, and
   * caps the next `lostRetries` delays at `lostMaxMs`. Only an opened session grants those
   * quick retries, so a peer that refuses every handshake still backs off to `maxMs`.
   */
  sessionEnded(uptimeMs: number): void {
    if (uptimeMs >= this.#stable) this.reset();
    this.#fastLeft = this.#lostRetries;
  }
}
