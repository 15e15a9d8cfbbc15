/**
 * One timer for the pings and dead-peer deadlines of every session of a node.
 *
 * The wheel wakes at the points of the clock's grid of the ping interval (see `untilGrid`: the
 * full seconds by default, which the node's peers share through wall-clock time) and sends every
 * member's ping there; between two such points it wakes only when a member's deadline falls due
 * before the next one. Answers do not touch the timer: a pong moves its session's deadline later,
 * and the wheel reads the deadlines when it plans its next wakeup. An idle node with any number
 * of healthy sessions therefore wakes once per interval for all of them, with no timer set or
 * cancelled per ping, pong or session.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { type Clock, type TimerHandle, untilGrid } from "../clock/mod.ts";

const log = getLogger(["vmesh", "session"]);

/** A session's side of the wheel (implemented by `Liveness`). */
export interface WheelMember {
  /** Clock time by which the member must be looked at again (its dead-peer deadline). */
  readonly deadline: number;
  /** Called at each wakeup; `ping`: this is a point of the ping grid (send the ping). */
  tick(now: number, ping: boolean): void;
}

/** The shared timer; create one per node (per clock and interval). */
export class PingWheel {
  readonly intervalMs: number;
  readonly #clock: Clock;
  readonly #members = new Set<WheelMember>();
  #timer: TimerHandle | undefined;
  /** When the planned wakeup is due, and when the next point of the ping grid is. */
  #due = Infinity;
  #gridDue = Infinity;
  readonly #fire = () => this.#tick();

  /**
   * @param clock time source and timers
   * @param intervalMs ping interval (the grid), ms
   * @throws {RangeError} when the interval is not > 0
   */
  constructor(clock: Clock, intervalMs: number) {
    if (!(intervalMs > 0)) throw new RangeError("ping interval must be > 0");
    this.#clock = clock;
    this.intervalMs = intervalMs;
  }

  /** Members (sessions being pinged). */
  get size(): number {
    return this.#members.size;
  }

  /** Adds a member (its first ping is its own business) and makes sure its deadline is seen. */
  add(m: WheelMember): void {
    this.#members.add(m);
    if (this.#timer === undefined) {
      this.#gridDue = this.#clock.now() + untilGrid(this.#clock, this.intervalMs);
      this.#schedule(Math.min(this.#gridDue, m.deadline));
    } else this.wake(m.deadline);
  }

  /** Removes a member; the timer stops with the last one. */
  remove(m: WheelMember): void {
    this.#members.delete(m);
    if (this.#members.size === 0 && this.#timer !== undefined) {
      this.#clock.clearTimer(this.#timer);
      this.#timer = undefined;
      this.#due = Infinity;
    }
  }

  /** Makes sure the wheel wakes by `at` (a member's deadline moved earlier). */
  wake(at: number): void {
    if (this.#timer !== undefined && at < this.#due) this.#schedule(at);
  }

  #schedule(at: number): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#due = at;
    this.#timer = this.#clock.setTimer(this.#fire, Math.max(0, at - this.#clock.now()));
  }

  #tick(): void {
    this.#timer = undefined;
    const now = this.#clock.now();
    // A wakeup planned for the grid point (not for an earlier deadline) is a ping tick.
    const ping = this.#due >= this.#gridDue;
    if (ping) this.#gridDue = now + untilGrid(this.#clock, this.intervalMs);
    // Members may leave during the loop (a dead peer's session closes): Set iteration allows it.
    for (const m of this.#members) {
      try {
        m.tick(now, ping);
      } catch (e) {
        // A bug of ours in one session must not stop the pings of all the others.
        log.error("ping tick failed: {error}", { error: e instanceof Error ? e.stack : `${e}` });
      }
    }
    if (this.#members.size === 0) {
      this.#due = Infinity;
      return;
    }
    let next = this.#gridDue;
    for (const m of this.#members) if (m.deadline < next) next = m.deadline;
    // A deadline left in the past (a member that threw) is looked at again soon, not in a loop.
    this.#schedule(Math.max(next, now + 1));
  }
}
