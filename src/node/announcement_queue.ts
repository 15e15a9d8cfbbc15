/**
 * Local announcement changes of config reloads, applied in slices of {@link ANNOUNCE_SLICE}
 * per event-loop task, in order across reloads: a reload that adds 100 000 of them (a transit
 * site) runs in slices, so sessions keep answering pings and packets keep flowing.
 * @module
 */
import type { Clock, TimerHandle } from "../clock/mod.ts";
import { guarded } from "./periodic.ts";

/**
 * Local announcements added or removed per event-loop task: a reload that adds 100 000 of them
 * (a transit site) runs in slices, so sessions keep answering pings and packets keep flowing.
 */
export const ANNOUNCE_SLICE = 512;

/** The queue of changes not applied yet. */
export class AnnouncementQueue {
  #queue: (() => void)[] = [];
  #at = 0;
  #timer: TimerHandle | undefined;
  #stopped = false;

  /**
   * @param clock the node's clock
   * @param changed called after each slice (the routes changed: flush them)
   */
  constructor(private readonly clock: Clock, private readonly changed: () => void) {}

  /** Queues changes and applies the first slice now unless slices are already under way. */
  add(changes: readonly (() => void)[]): void {
    this.#queue.push(...changes);
    if (this.#timer === undefined) this.#apply();
  }

  /** Applies nothing more. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  #apply(): void {
    this.#timer = undefined;
    const q = this.#queue;
    const end = Math.min(q.length, this.#at + ANNOUNCE_SLICE);
    // Advanced before the call: a change that throws is not tried again.
    while (this.#at < end) q[this.#at++]();
    if (this.#at === q.length) {
      this.#queue = [];
      this.#at = 0;
    } else if (!this.#stopped) {
      this.#timer = this.clock.setTimer(
        guarded("local announcements", () => this.#apply()),
        0,
      );
    }
    this.changed();
  }
}
