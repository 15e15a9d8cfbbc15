/**
 * A small budget for log lines driven by the network (refused connections), so that a flood
 * of junk connections cannot flood the log.
 * @module
 */
import type { Clock } from "./clock.ts";

/** Allows `burst` events per `windowMs`; counts what it suppressed. */
export class RateLimit {
  readonly #clock: Clock;
  readonly #burst: number;
  readonly #windowMs: number;
  #windowStart = -Infinity;
  #used = 0;
  #suppressed = 0;

  /**
   * @param clock time source
   * @param burst events allowed per window
   * @param windowMs window length
   */
  constructor(clock: Clock, burst = 20, windowMs = 10_000) {
    this.#clock = clock;
    this.#burst = burst;
    this.#windowMs = windowMs;
  }

  /**
   * Asks to log one event.
   * @returns -1 when suppressed, else the number suppressed since the last allowed event
   */
  take(): number {
    const now = this.#clock.now();
    if (now - this.#windowStart >= this.#windowMs) {
      this.#windowStart = now;
      this.#used = 0;
    }
    if (this.#used >= this.#burst) {
      this.#suppressed++;
      return -1;
    }
    this.#used++;
    const s = this.#suppressed;
    this.#suppressed = 0;
    return s;
  }
}
