/**
 * Ping scheduling and dead-peer detection. Every interval a ping with a new sequence number
 * is sent; a ping still unanswered when the next one is due counts as missed (for the loss
 * figure). The peer is declared dead when no answer has arrived for `deadAfter` intervals
 * since the last one (or since the start): with the defaults, 3 s after a peer freezes at the
 * latest, whatever the phase of the ping timer — counting misses at ping times instead would
 * take 3–4 s. Answers feed a {@link LatencyTracker}.
 * @module
 */
import type { Clock, TimerHandle } from "./clock.ts";
import { LatencyTracker } from "./latency.ts";

/** Liveness settings. */
export interface LivenessOptions {
  /** Time between pings, ms (default 1000). */
  intervalMs?: number;
  /** Intervals without any answer that declare the peer dead (default 3). */
  deadAfter?: number;
  /** RTT and outcome window (default 10). */
  window?: number;
}

/** Drives pings for one session. */
export class Liveness {
  readonly tracker: LatencyTracker;
  readonly #clock: Clock;
  readonly #interval: number;
  readonly #deadAfter: number;
  readonly #sendPing: (seq: number) => void;
  readonly #onDead: (missed: number) => void;
  /** seq → send time of pings in flight (at most `window` kept). */
  readonly #inFlight = new Map<number, number>();
  #seq = 0;
  #lastAnswered = true;
  #missed = 0;
  #timer: TimerHandle | undefined;
  #deadline: TimerHandle | undefined;
  #stopped = false;

  /**
   * @param clock time source
   * @param sendPing sends a ping frame with this sequence number
   * @param onDead called once when the peer is declared dead
   * @param opts settings
   */
  constructor(
    clock: Clock,
    sendPing: (seq: number) => void,
    onDead: (missed: number) => void,
    opts: LivenessOptions = {},
  ) {
    this.#clock = clock;
    this.#sendPing = sendPing;
    this.#onDead = onDead;
    this.#interval = opts.intervalMs ?? 1000;
    this.#deadAfter = opts.deadAfter ?? 3;
    this.tracker = new LatencyTracker(opts.window ?? 10);
    if (!(this.#interval > 0) || !(this.#deadAfter >= 1)) {
      throw new RangeError("liveness interval must be > 0 and deadAfter ≥ 1");
    }
  }

  /** Consecutive missed pings so far. */
  get missed(): number {
    return this.#missed;
  }

  /** Sends the first ping now and schedules the rest. */
  start(): void {
    if (this.#stopped || this.#timer !== undefined) return;
    this.#armDeadline();
    this.#tick(true);
  }

  /** Stops pinging (idempotent). */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    if (this.#deadline !== undefined) this.#clock.clearTimer(this.#deadline);
    this.#timer = undefined;
    this.#deadline = undefined;
  }

  /** Handles a pong. Unknown or duplicate sequence numbers are ignored. */
  onPong(seq: number): void {
    const sentAt = this.#inFlight.get(seq);
    if (sentAt === undefined) return;
    this.#inFlight.delete(seq);
    this.tracker.addSample(this.#clock.now() - sentAt);
    this.#missed = 0;
    if (seq === this.#seq) this.#lastAnswered = true;
    this.#armDeadline();
  }

  /** (Re)starts the countdown to "dead": `deadAfter` intervals from now. */
  #armDeadline(): void {
    if (this.#stopped) return;
    if (this.#deadline !== undefined) this.#clock.clearTimer(this.#deadline);
    this.#deadline = this.#clock.setTimer(() => {
      this.#deadline = undefined;
      const missed = Math.max(this.#missed, this.#deadAfter);
      this.stop();
      this.#onDead(missed);
    }, this.#interval * this.#deadAfter);
  }

  #tick(first: boolean): void {
    this.#timer = undefined;
    if (this.#stopped) return;
    if (!first) {
      this.tracker.recordOutcome(this.#lastAnswered);
      if (!this.#lastAnswered) this.#missed++;
    }
    this.#seq = (this.#seq + 1) >>> 0;
    this.#inFlight.set(this.#seq, this.#clock.now());
    if (this.#inFlight.size > 10) this.#inFlight.delete(this.#inFlight.keys().next().value!);
    this.#lastAnswered = false;
    this.#sendPing(this.#seq);
    if (!this.#stopped) this.#timer = this.#clock.setTimer(() => this.#tick(false), this.#interval);
  }
}
