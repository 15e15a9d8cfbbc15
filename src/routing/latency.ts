/**
 * Link latency smoothing. The node feeds raw RTT samples; the router keeps an exponentially
 * weighted moving average of the *floor* of the recent samples (the minimum of the last
 * `floorWindow`) and only changes the latency it *advertises* for the link when the average
 * has moved by more than a threshold, so a jittery link neither flaps routes nor floods the
 * mesh with re-announcements.
 *
 * Why the floor: what a ping measures on top of the path's delay is waiting — in a busy
 * process's event loop, in the scheduler of a loaded host, behind bulk data in the session —
 * and waiting only ever adds. A one-off spike of a few ms is therefore no news about the link,
 * but with a plain average it moved the advertised value on a loaded machine every second
 * (a 24-node mesh on 2 cores re-announced its tables ~4 times a second per node, each change
 * rippling through the whole mesh). The floor follows a lasting increase after `floorWindow`
 * samples (then averaged in with weight `alpha`) and a decrease at once.
 * @module
 */

/** Default of {@link LatencyOptions.minChangeMs}. */
export const DEFAULT_MIN_CHANGE_MS = 2;
/** Default of {@link LatencyOptions.minChangeRatio}. */
export const DEFAULT_MIN_CHANGE_RATIO = 0.1;

/** Smoothing settings. */
export interface LatencyOptions {
  /** EWMA weight of a new sample, 0 < alpha ≤ 1 (default 0.25). */
  readonly alpha?: number;
  /** Re-advertise when the average moves by more than this many ms ... (default 2). */
  readonly minChangeMs?: number;
  /** ... and by more than this fraction of the advertised value (default 0.1). */
  readonly minChangeRatio?: number;
  /**
   * The average is fed the minimum of this many latest samples (default 6, 1 = every sample
   * as is): a rise shows after this many samples, a spike shorter than that never.
   */
  readonly floorWindow?: number;
}

/** Smoothed latency of one link. */
export class LinkLatency {
  #smoothed: number;
  #advertised: number;
  readonly #alpha: number;
  readonly #minChangeMs: number;
  readonly #minChangeRatio: number;
  /** The latest samples (ring buffer, `#count` of them valid). */
  readonly #recent: Float64Array;
  #next = 0;
  #count = 0;

  /**
   * Starts from a first sample, which is advertised as is.
   * @throws {RangeError} when the sample is not a finite number ≥ 0
   */
  constructor(firstSampleMs: number, options: LatencyOptions = {}) {
    checkSample(firstSampleMs);
    this.#smoothed = this.#advertised = firstSampleMs;
    this.#alpha = options.alpha ?? 0.25;
    this.#minChangeMs = options.minChangeMs ?? DEFAULT_MIN_CHANGE_MS;
    this.#minChangeRatio = options.minChangeRatio ?? DEFAULT_MIN_CHANGE_RATIO;
    const w = options.floorWindow ?? 6;
    if (!Number.isInteger(w) || w < 1 || w > 64) {
      throw new RangeError(`latency floorWindow ${w}: an integer from 1 to 64`);
    }
    this.#recent = new Float64Array(w);
    this.#remember(firstSampleMs);
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
    this.#count = 0;
    this.#remember(ms);
    return changed;
  }

  /**
   * Adds a sample.
   * @returns true when the advertised value changed (the link's routes must be re-announced)
   * @throws {RangeError} when the sample is not a finite number ≥ 0
   */
  sample(ms: number): boolean {
    checkSample(ms);
    this.#remember(ms);
    let floor = ms;
    for (let i = 0; i < this.#count; i++) if (this.#recent[i] < floor) floor = this.#recent[i];
    // A lower floor is proof the link can do better: taken at once (a first sample taken while
    // the node was busy starting would otherwise take a dozen announcements to decay). A
    // higher one is averaged in.
    if (floor < this.#smoothed) this.#smoothed = floor;
    else this.#smoothed += this.#alpha * (floor - this.#smoothed);
    const delta = Math.abs(this.#smoothed - this.#advertised);
    if (delta > this.#minChangeMs && delta > this.#minChangeRatio * this.#advertised) {
      this.#advertised = Math.round(this.#smoothed * 1000) / 1000;
      return true;
    }
    return false;
  }

  /** Puts `ms` into the ring of latest samples. */
  #remember(ms: number): void {
    this.#recent[this.#next] = ms;
    this.#next = (this.#next + 1) % this.#recent.length;
    if (this.#count < this.#recent.length) this.#count++;
  }
}

function checkSample(ms: number): void {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`latency sample ${ms} ms is not a finite number ≥ 0`);
  }
}
