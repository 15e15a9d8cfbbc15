/**
 * The node's periodic tasks on one timer: a tick every second, half a second after the pings
 * (which are on the clock grid's full seconds, see `PingWheel`), runs the 1 s tasks and, every
 * n-th tick, those with a period of n seconds. An idle node thus wakes once a second for all of
 * them (and, with its pings, twice), and the pings' RTT samples do not include the time the
 * router's tick takes on a large table.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { type Clock, every } from "../clock/mod.ts";

const log = getLogger(["vmesh", "node"]);

/** The tick of the node's periodic tasks, ms (their periods are multiples of it). */
export const TICK_MS = 1000;
/** Offset of the tick from the clock's grid of full seconds (the pings'). */
export const TICK_PHASE_MS = 500;

/** One periodic task. */
export interface PeriodicTask {
  /** For the log line when it throws. */
  readonly what: string;
  /** Its period, a multiple of {@link TICK_MS}. */
  readonly everyMs: number;
  readonly run: () => void;
}

/**
 * Starts the tasks on one timer; a task that throws is logged and runs again at its next turn.
 * @returns stops the timer
 * @throws {RangeError} for a period that is not a positive multiple of {@link TICK_MS}
 */
export function startPeriodic(clock: Clock, tasks: readonly PeriodicTask[]): () => void {
  const plan = tasks.map((t) => {
    const n = t.everyMs / TICK_MS;
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`${t.what}: period ${t.everyMs} ms is not a multiple of ${TICK_MS} ms`);
    }
    return { n, run: guarded(t.what, t.run) };
  });
  let ticks = 0;
  return every(clock, TICK_MS, () => {
    ticks++;
    for (const t of plan) if (ticks % t.n === 0) t.run();
  }, TICK_PHASE_MS);
}

/** Wraps a timer callback so that a bug in it is logged instead of ending the process. */
export function guarded(what: string, fn: () => void): () => void {
  return () => {
    try {
      fn();
    } catch (e) {
      log.error("{what} failed: {error}", { what, error: e instanceof Error ? e.stack : `${e}` });
    }
  };
}
