/**
 * Ping scheduling and dead-peer detection. Every interval a ping with a new sequence number
 * and a fresh random nonce is sent (the first at once, the others by the node's
 * {@link PingWheel} on the clock's grid of the interval, so a node's sessions ping together);
 * a ping still unanswered when the next one is due counts as missed (for the loss figure). The peer is declared dead when no answer has arrived for
 * `deadAfter` intervals since the last one (or since the start): with the defaults, 3 s after
 * a peer freezes at the latest, whatever the phase of the ping timer — counting misses at ping
 * times instead would take 3–4 s.
 *
 * Ping and pong payload (12 bytes): `seq u32 (big-endian) | nonce 8 B`. The nonce comes from
 * the CSPRNG; a pong counts only when it echoes both the sequence number and the nonce of a
 * ping still in flight. A peer therefore cannot answer a ping before it has received it (to
 * look closer than it is): a pong that matches no outstanding ping is ignored and counted
 * (`unmatchedPongs`), gives no RTT sample and does not keep the session alive. Each answer
 * gives one RTT sample: to the {@link LatencyTracker} (status figures) and to `onSample`.
 *
 * The deadline is a number the wheel reads, not a timer: an answer moves it without touching any
 * timer, and the wheel wakes for it only when it falls before the next ping.
 *
 * A deadline that fires late by more than half an interval means this process was stalled
 * (a burst of handshakes, a long GC, a starved CPU), so answers may be waiting unread in the
 * socket: the peer gets one more interval (once per stall) instead of being declared dead for
 * our own delay. Without this, a hub busy with a hundred reconnecting peers dropped healthy
 * sessions and made the burst worse.
 * @module
 */
import type { Clock } from "../clock/mod.ts";
import { LatencyTracker } from "./latency.ts";
import { PingWheel, type WheelMember } from "./ping_wheel.ts";

/** Length of a ping and of a pong payload. */
export const PING_LEN = 12;
/**
 * A send backlog this large (a full route payload) that moves keeps the peer alive (see
 * `LivenessHooks.sendProgress`); pings are far smaller.
 */
export const BACKLOG_MIN = 65536;

/** Default time between pings, ms. */
export const DEFAULT_PING_INTERVAL_MS = 1000;

/** Pings kept in flight (older ones can no longer be answered). */
const MAX_IN_FLIGHT = 10;

/** Liveness settings. */
export interface LivenessOptions {
  /** Time between pings, ms (default 1000). */
  intervalMs?: number;
  /** Intervals without any answer that declare the peer dead (default 3). */
  deadAfter?: number;
  /** RTT and outcome window (default 10). */
  window?: number;
  /**
   * Send our ping with our answer to the peer's ping (one write and one TLS record instead of
   * two) while the peer's pings keep coming; the session sets it on one side of each link
   * (session.ts). Default false: ping on the wheel's grid.
   */
  follow?: boolean;
  /**
   * The timer shared by all sessions of a node (its interval is the default `intervalMs`);
   * without one the session gets a wheel of its own.
   */
  wheel?: PingWheel;
}

/** What {@link Liveness} calls. */
export interface LivenessHooks {
  /** Sends a ping frame with this payload (`PING_LEN` bytes; copy it to keep it). */
  sendPing(payload: Uint8Array): void;
  /** Called once when the peer is declared dead. */
  onDead(missed: number): void;
  /** Called with each RTT sample, ms. */
  onSample?(rttMs: number): void;
  /**
   * Bytes of ours handed to the kernel so far (`sent`) and still queued before it (`queued`);
   * read at once (the object may be reused).
   * When a backlog of at least {@link BACKLOG_MIN} bytes was queued as the countdown started and
   * it has moved since, the peer is reading our frames and our pings, queued behind them, have
   * not reached it yet: it is not declared dead then. (Our pings alone do not count.)
   */
  sendProgress?(): { readonly sent: number; readonly queued: number };
}

/** One slot of the ring of pings in flight (reused: no allocation per ping). */
interface InFlight {
  /** Sequence number, or -1 when the slot holds no ping that may still be answered. */
  seq: number;
  sentAt: number;
  readonly nonce: Uint8Array;
}

/** Drives pings for one session (a member of a {@link PingWheel}, which owns the timer). */
export class Liveness implements WheelMember {
  readonly tracker: LatencyTracker;
  readonly #clock: Clock;
  readonly #interval: number;
  readonly #deadAfter: number;
  readonly #hooks: LivenessHooks;
  readonly #wheel: PingWheel;
  /** Pings in flight by `seq % MAX_IN_FLIGHT`: a ping overwrites the one 10 before it. */
  readonly #inFlight: InFlight[] = Array.from(
    { length: MAX_IN_FLIGHT },
    () => ({ seq: -1, sentAt: 0, nonce: new Uint8Array(PING_LEN - 4) }),
  );
  readonly #ping = new Uint8Array(PING_LEN);
  readonly #pingView = new DataView(this.#ping.buffer);
  #seq = 0;
  #lastAnswered = true;
  #missed = 0;
  #unmatched = 0;
  #graces = 0;
  /** When the countdown to "dead" ends (clock time); read by the wheel. */
  #deadline = Infinity;
  /** Whether the current countdown may still get a stall grace (once per countdown). */
  #graceAllowed = true;
  #armedAt = -Infinity;
  #sentAtArm: number | undefined;
  readonly #follow: boolean;
  /** When we last sent a ping, and when the peer's last ping arrived (clock time). */
  #pingedAt = -Infinity;
  #peerPingAt = -Infinity;
  #started = false;
  #stopped = false;

  /**
   * @param clock time source
   * @param hooks ping output, death and RTT sample callbacks
   * @param opts settings (`wheel`: the node's shared timer; without it the session gets its own)
   * @throws {RangeError} when the interval is not > 0, deadAfter < 1, or the wheel's interval
   *   differs from `intervalMs`
   */
  constructor(clock: Clock, hooks: LivenessHooks, opts: LivenessOptions = {}) {
    this.#clock = clock;
    this.#hooks = hooks;
    this.#interval = opts.intervalMs ?? opts.wheel?.intervalMs ?? DEFAULT_PING_INTERVAL_MS;
    this.#deadAfter = opts.deadAfter ?? 3;
    this.#follow = opts.follow ?? false;
    this.tracker = new LatencyTracker(opts.window ?? 10);
    if (!(this.#interval > 0) || !(this.#deadAfter >= 1)) {
      throw new RangeError("liveness interval must be > 0 and deadAfter ≥ 1");
    }
    if (opts.wheel !== undefined && opts.wheel.intervalMs !== this.#interval) {
      throw new RangeError(
        `liveness interval ${this.#interval} ms differs from the ping wheel's ` +
          `${opts.wheel.intervalMs} ms`,
      );
    }
    this.#wheel = opts.wheel ?? new PingWheel(clock, this.#interval);
  }

  /** Consecutive missed pings so far. */
  get missed(): number {
    return this.#missed;
  }

  /** Deadlines that fired late (this process stalled) and gave the peer one more interval. */
  get stallGraces(): number {
    return this.#graces;
  }

  /** Pongs ignored because they echoed no ping in flight (wrong sequence or nonce). */
  get unmatchedPongs(): number {
    return this.#unmatched;
  }

  /** When the countdown to "dead" ends, clock time (Infinity when stopped). */
  get deadline(): number {
    return this.#deadline;
  }

  /** Sends the first ping now and joins the wheel for the rest. */
  start(): void {
    if (this.#stopped || this.#started) return;
    this.#started = true;
    this.#arm(this.#clock.now(), this.#interval * this.#deadAfter);
    this.#sendPing(this.#clock.now());
    if (!this.#stopped) this.#wheel.add(this);
  }

  /** Stops pinging (idempotent). */
  stop(): void {
    this.#stopped = true;
    this.#deadline = Infinity;
    this.#wheel.remove(this);
  }

  /**
   * Handles a pong payload (`PING_LEN` bytes, checked by the caller).
   * @returns true when it answered a ping in flight; false when ignored (counted)
   */
  onPong(payload: Uint8Array): boolean {
    const seq = pingSeq(payload);
    const ping = this.#inFlight[seq % MAX_IN_FLIGHT];
    if (ping.seq !== seq || !sameBytesAt(ping.nonce, payload, 4)) {
      this.#unmatched++;
      return false;
    }
    ping.seq = -1;
    const now = this.#clock.now();
    const rtt = now - ping.sentAt;
    this.tracker.addSample(rtt);
    this.#missed = 0;
    if (seq === this.#seq) this.#lastAnswered = true;
    if (!this.#stopped) this.#arm(now, this.#interval * this.#deadAfter);
    this.#hooks.onSample?.(rtt);
    return true;
  }

  /**
   * The peer sent a frame other than a pong (a control frame): it is alive, and its answers may
   * be queued behind what it sends (a table of 100 000 routes is 8 MB of frames, which a loaded
   * receiver takes seconds to read), so the countdown to "dead" starts again (at most once per
   * interval). Gives no RTT sample and does not count as an answer for the loss figure.
   */
  heard(): void {
    const now = this.#clock.now();
    if (this.#stopped || !this.#started || now - this.#armedAt < this.#interval) return;
    this.#arm(now, this.#interval * this.#deadAfter);
  }

  /**
   * (Re)starts the countdown to "dead": it ends `ms` from now. Only moves the deadline (later,
   * except for a grace, which the wheel is told of); no timer is touched.
   */
  #arm(now: number, ms: number, graceAllowed = true): void {
    this.#armedAt = now;
    this.#graceAllowed = graceAllowed;
    const p = this.#hooks.sendProgress?.();
    this.#sentAtArm = p !== undefined && p.queued >= BACKLOG_MIN ? p.sent : undefined;
    this.#deadline = now + ms;
  }

  /** The wheel's call: the ping on its grid, and the deadline when it has come. */
  tick(now: number, ping: boolean): void {
    if (this.#stopped) return;
    if (now >= this.#deadline && this.#expired(now)) return;
    if (!ping) return;
    // Following: the peer's next ping is due within the interval and ours rides on its answer;
    // should it not come, ours goes at the next tick (at most 1.5 intervals after the last).
    if (
      this.#follow && now - this.#peerPingAt < this.#interval &&
      now - this.#pingedAt < this.#interval * 1.5
    ) return;
    this.#sendPing(now);
  }

  /**
   * The peer's ping arrived and our answer is queued: when following, our own ping goes with it
   * (unless one went less than half an interval ago). Does not count as an answer.
   */
  peerPinged(): void {
    if (!this.#follow || !this.#started || this.#stopped) return;
    const now = this.#clock.now();
    this.#peerPingAt = now;
    if (now - this.#pingedAt >= this.#interval / 2) this.#sendPing(now);
  }

  /** The countdown ended: declares the peer dead (true) unless something explains the silence. */
  #expired(now: number): boolean {
    const sent = this.#hooks.sendProgress?.().sent;
    if (this.#sentAtArm !== undefined && sent !== undefined && sent > this.#sentAtArm) {
      this.#arm(now, this.#interval * this.#deadAfter); // still reading our (long) backlog
      return false;
    }
    // The wakeup came late: this process stalled and answers may wait unread in the socket.
    if (this.#graceAllowed && now - this.#deadline > this.#interval / 2) {
      this.#graces++;
      this.#arm(now, this.#interval, false);
      this.#wheel.wake(this.#deadline);
      return false;
    }
    const missed = Math.max(this.#missed, this.#deadAfter);
    this.stop();
    this.#hooks.onDead(missed);
    return true;
  }

  #sendPing(now: number): void {
    if (this.#pingedAt !== -Infinity) {
      // The previous ping's fate, for the loss figure and the miss count.
      this.tracker.recordOutcome(this.#lastAnswered);
      if (!this.#lastAnswered) this.#missed++;
    }
    this.#pingedAt = now;
    this.#seq = (this.#seq + 1) >>> 0;
    const slot = this.#inFlight[this.#seq % MAX_IN_FLIGHT];
    slot.seq = this.#seq;
    slot.sentAt = now;
    const nonce = crypto.getRandomValues(slot.nonce);
    this.#lastAnswered = false;
    this.#pingView.setUint32(0, this.#seq);
    this.#ping.set(nonce, 4);
    this.#hooks.sendPing(this.#ping);
  }
}

/** The sequence number of a ping or pong payload. */
export function pingSeq(payload: Uint8Array): number {
  return ((payload[0] << 24) | (payload[1] << 16) | (payload[2] << 8) | payload[3]) >>> 0;
}

/**
 * Whether `b` holds `a` at `offset`, without an early exit (the time taken does not tell which
 * byte differed).
 */
function sameBytesAt(a: Uint8Array, b: Uint8Array, offset: number): boolean {
  if (b.length - offset !== a.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[offset + i];
  return diff === 0;
}
