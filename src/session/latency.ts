/**
 * Link quality from pings, for `vmesh status`: a sliding window of the last RTT samples and
 * of the last ping outcomes, giving mean RTT, minimum, jitter and loss.
 *
 * This window is a display figure only. Routing does not read it: each raw sample goes to
 * the node as an `onRtt` event and from there to the router, whose `LinkLatency`
 * (`src/routing/latency.ts`, an EWMA with a re-advertise threshold) is the one smoothing
 * between a measurement and a route metric.
 * @module
 */

/** A snapshot of link quality. `null` until there is a sample. */
export interface LinkQuality {
  /** Mean of the RTT samples in the window, ms. */
  rttMs: number | null;
  /** Smallest RTT in the window, ms. */
  minRttMs: number | null;
  /** Mean absolute difference between consecutive samples in the window, ms. */
  jitterMs: number | null;
  /** Fraction (0–1) of the pings in the outcome window that got no timely answer. */
  loss: number;
  /** Number of RTT samples in the window. */
  samples: number;
}

/**
 * Keeps the last `window` RTT samples and the last `window` ping outcomes.
 * @example
 * ```ts
 * const t = new LatencyTracker();
 * t.addSample(12); t.recordOutcome(true);
 * t.snapshot().rttMs; // 12
 * ```
 */
export class LatencyTracker {
  readonly #window: number;
  readonly #samples: number[] = [];
  readonly #outcomes: boolean[] = [];

  /** @param window samples and outcomes kept (default 10) */
  constructor(window = 10) {
    if (!Number.isInteger(window) || window < 1) {
      throw new RangeError(`latency window must be a positive integer, got ${window}`);
    }
    this.#window = window;
  }

  /** Adds an RTT sample in ms (negative or non-finite samples are ignored). */
  addSample(rttMs: number): void {
    if (!Number.isFinite(rttMs) || rttMs < 0) return;
    this.#samples.push(rttMs);
    if (this.#samples.length > this.#window) this.#samples.shift();
  }

  /** Records whether a ping was answered before the next one was due. */
  recordOutcome(answered: boolean): void {
    this.#outcomes.push(answered);
    if (this.#outcomes.length > this.#window) this.#outcomes.shift();
  }

  /** Current figures. */
  snapshot(): LinkQuality {
    const s = this.#samples;
    const lost = this.#outcomes.filter((a) => !a).length;
    const loss = this.#outcomes.length === 0 ? 0 : lost / this.#outcomes.length;
    if (s.length === 0) return { rttMs: null, minRttMs: null, jitterMs: null, loss, samples: 0 };
    let sum = 0;
    let min = Infinity;
    let jit = 0;
    for (let i = 0; i < s.length; i++) {
      sum += s[i];
      if (s[i] < min) min = s[i];
      if (i > 0) jit += Math.abs(s[i] - s[i - 1]);
    }
    return {
      rttMs: sum / s.length,
      minRttMs: min,
      jitterMs: s.length > 1 ? jit / (s.length - 1) : 0,
      loss,
      samples: s.length,
    };
  }
}
