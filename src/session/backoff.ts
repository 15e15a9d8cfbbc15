/**
 * Reconnect delays: exponential backoff with jitter, reset once a session stayed up long
 * enough. The first retries after the start and after a lost session (one that had opened)
 * wait at most `quickMaxMs`: a peer that refuses the connection right then is most likely
 * starting or restarting, and plain doubling would keep us away about as long again as it was
 * down (peers of a hub that is back after 3 s would dial it only 1.6–3.2 s later; nodes of a
 * mesh started together would wait for the slowest one to boot and then as long again).
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
   * Retries after the start and after a lost session (one that had opened) that wait at most
   * {@link quickMaxMs} (default 30: about 20 s of retries at most 1 s apart, then doubling
   * resumes).
   */
  quickRetries?: number;
  /** Largest delay of those retries (default 1000). */
  quickMaxMs?: number;
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
  readonly #quickRetries: number;
  readonly #quickMax: number;
  #attempt = 0;
  #quickLeft: number;

  /**
   * @param opts delays
   * @param random source of [0, 1) numbers (tests inject a fixed one)
   */
  constructor(opts: BackoffOptions = {}, random: () => number = Math.random) {
    this.#initial = opts.initialMs ?? 100;
    this.#max = opts.maxMs ?? 60_000;
    this.#stable = opts.stableMs ?? 30_000;
    this.#random = random;
    this.#quickRetries = opts.quickRetries ?? 30;
    this.#quickMax = opts.quickMaxMs ?? 1000;
    this.#quickLeft = this.#quickRetries;
    if (!(this.#initial > 0) || !(this.#max >= this.#initial)) {
      throw new RangeError("backoff needs 0 < initialMs ≤ maxMs");
    }
    if (!(this.#quickRetries >= 0) || !(this.#quickMax >= this.#initial)) {
      throw new RangeError("backoff needs quickRetries ≥ 0 and quickMaxMs ≥ initialMs");
    }
  }

  /** Attempts since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The next delay, ms. */
  next(): number {
    let base = Math.min(this.#max, this.#initial * 2 ** Math.min(this.#attempt, 30));
    if (this.#quickLeft > 0) {
      this.#quickLeft--;
      // Doubling pauses at the cap and resumes from there once the quick retries are used up.
      if (base < this.#quickMax) this.#attempt++;
      base = Math.min(base, this.#quickMax);
    } else this.#attempt++;
    return base * (0.5 + 0.5 * this.#random());
  }

  /** Starts again from the initial delay. */
  reset(): void {
    this.#attempt = 0;
  }

  /**
   * Call when a session that had opened ends: resets when it lasted at least `stableMs`, and
   * caps the next `quickRetries` delays at `quickMaxMs`. Only the start and an opened session
   * grant quick retries, so a peer that refuses every handshake still backs off to `maxMs`.
   */
  sessionEnded(uptimeMs: number): void {
    if (uptimeMs >= this.#stable) this.reset();
    this.#quickLeft = this.#quickRetries;
  }
}
