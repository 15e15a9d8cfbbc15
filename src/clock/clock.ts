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
  /**
   * Added to {@link now} to place periodic timers on a grid shared with other processes
   * ({@link untilGrid}): the real clock's is `performance.timeOrigin`, which makes the grid
   * wall-clock seconds, the same on every node whose clock is synchronised. Default 0.
   */
  readonly gridOffset?: number;
}

/** The real clock: `performance.now()` and `setTimeout`. */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as number),
  gridOffset: performance.timeOrigin,
};

/**
 * Milliseconds from now to the next point of the grid of period `ms` shifted by `phase`
 * (the times t with `(t + gridOffset - phase) mod ms = 0`), at least `ms / 2` away.
 *
 * Periodic work on a shared grid wakes an idle process once for all of it: the pings of every
 * session and the node's 1 s, 10 s and 30 s timers each fall on the same instants, and since
 * the grid of the real clock is wall-clock time, so do the pings of the node's peers, whose
 * pings and pongs then arrive together instead of each waking the process on its own.
 */
export function untilGrid(clock: Clock, ms: number, phase = 0): number {
  const t = clock.now() + (clock.gridOffset ?? 0) - phase;
  let wait = ms - (((t % ms) + ms) % ms);
  if (wait < ms / 2) wait += ms;
  return wait;
}

/**
 * Runs `fn` every `ms` milliseconds on `clock` until the returned function is called: at the
 * points of the grid of {@link untilGrid} (the first at least `ms / 2` from now; a tick that
 * fires late is not repeated, the next one keeps to the grid). An exception from `fn`
 * propagates to the timer (wrap `fn` if it may throw) and ends the repetition.
 */
export function every(clock: Clock, ms: number, fn: () => void, phase = 0): () => void {
  let handle: TimerHandle;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    handle = clock.setTimer(tick, untilGrid(clock, ms, phase));
    fn();
  };
  handle = clock.setTimer(tick, untilGrid(clock, ms, phase));
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
