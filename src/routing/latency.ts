/**
 * Link latency smoothing. The node feeds RTT samples (raw or already smoothed); the router
 * keeps an exponentially weighted moving average and only changes the latency it *advertises*
 * for the link when the average has moved by more than a threshold, so a jittery link neither
 * flaps routes nor floods the mesh with re-announcements.
 * @module
 */

/** Smoothing settings. */
export interface LatencyOptions {
  /** EWMA weight of a new sample, 0 < alpha ≤ 1 (default 0.25). */
  readonly alpha?: number;
  /** Re-advertise when the average moves by more than this many ms ... (default 2). */
  readonly minChangeMs?: number;
  /** ... and by more than this fraction of the advertised value (default 0.1). */
  readonly minChangeRatio?: number;
}

/** Smoothed latency of one link. */
export class LinkLatency {
  #smoothed: number;
  #advertised: number;
  readonly #alpha: number;
  readonly #minChangeMs: number;
  readonly #minChangeRatio: number;

  /**
   * Starts from a first sample, which is advertised as is.
   * @throws {RangeError} when the sample is not a finite number ≥ 0
   */
  constructor(firstSampleMs: number, options: LatencyOptions = {}) {
    checkSample(firstSampleMs);
    this.#smoothed = this.#advertised = firstSampleMs;
    this.#alpha = options.alpha ?? 0.25;
    this.#minChangeMs = options.minChangeMs ?? 2;
    this.#minChangeRatio = options.minChangeRatio ?? 0.1;
  }

  /** The moving average, ms. */
  get smoothedMs(): number {
    return this.#smoothed;
  }

  /** The value used in announcements, ms. */
  get advertisedMs(): number {
    return this.#advertised;
  }

  /**
   * Replaces the history with one sample, advertised as is: for the first real measurement of
   * a link whose latency was only guessed so far.
   * @returns true when the advertised value changed
   * @throws {RangeError} when the sample is not a finite number ≥ 0
   */
  reset(ms: number): boolean {
    checkSample(ms);
    const changed = ms !== this.#advertised;
    this.#smoothed = this.#advertised = ms;
    return changed;
  }

  /**
   * Adds a sample.
   * @returns true when the advertised value changed (the link's routes must be re-announced)
   * @throws {RangeError} when the sample is not a finite number ≥ 0
   */
  sample(ms: number): boolean {
    checkSample(ms);
    this.#smoothed += this.#alpha * (ms - this.#smoothed);
    const delta = Math.abs(this.#smoothed - this.#advertised);
    if (delta > this.#minChangeMs && delta > this.#minChangeRatio * this.#advertised) {
      this.#advertised = Math.round(this.#smoothed * 1000) / 1000;
      return true;
    }
    return false;
  }
}

function checkSample(ms: number): void {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`latency sample ${ms} ms is not a finite number ≥ 0`);
  }
}
