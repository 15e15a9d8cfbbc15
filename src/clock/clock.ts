/**
 * An injectable clock and timer source: the node creates one {@link Clock} and hands it to
 * everything that reads time or sets timers (router, forwarder, sessions, UDP endpoint, service
 * vif), so their timing is tested without sleeps ({@link ManualClock}).
 * @module
 */

/** Opaque timer handle. */
export type TimerHandle = number | object;

/** Time and one-shot timers. */
export interface Clock {
  /** Milliseconds on a monotonic scale (only differences matter). */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  setTimer(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; unknown or fired handles are ignored. */
  clearTimer(handle: TimerHandle): void;
}

/** The real clock: `performance.now()` and `setTimeout`. */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as number),
};

/**
 * Runs `fn` every `ms` milliseconds on `clock` (the first time after `ms`) until the returned
 * function is called. An exception from `fn` propagates to the timer (wrap `fn` if it may throw)
 * and ends the repetition.
 */
export function every(clock: Clock, ms: number, fn: () => void): () => void {
  let handle: TimerHandle;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    handle = clock.setTimer(tick, ms);
    fn();
  };
  handle = clock.setTimer(tick, ms);
  return () => {
    stopped = true;
    clock.clearTimer(handle);
  };
}

/**
 * A clock that moves only when told to ({@link ManualClock.advance}), firing due timers in
 * time order. For tests.
 * @example
 * ```ts
 * const clock = new ManualClock();
 * clock.setTimer(() => console.log("fired"), 1000);
 * clock.advance(1000); // logs "fired"
 * ```
 */
export class ManualClock implements Clock {
  #now = 0;
  #next = 1;
  #timers = new Map<TimerHandle, { at: number; fn: () => void }>();

  /** Current time. */
  now(): number {
    return this.#now;
  }

  /** Schedules `fn` at now + ms. */
  setTimer(fn: () => void, ms: number): TimerHandle {
    const h = this.#next++;
    this.#timers.set(h, { at: this.#now + Math.max(0, ms), fn });
    return h;
  }

  /** Cancels a timer. */
  clearTimer(handle: TimerHandle): void {
    this.#timers.delete(handle);
  }

  /** Number of pending timers. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, running every timer that falls due, earliest first. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let best: [TimerHandle, { at: number; fn: () => void }] | undefined;
      for (const e of this.#timers) {
        if (e[1].at <= end && (best === undefined || e[1].at < best[1].at)) best = e;
      }
      if (best === undefined) break;
      this.#timers.delete(best[0]);
      this.#now = best[1].at;
      best[1].fn();
    }
    this.#now = end;
  }
}
