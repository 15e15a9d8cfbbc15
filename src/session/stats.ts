/**
 * Per-session counters and the stats snapshot.
 * @module
 */
import type { LinkQuality } from "./latency.ts";

/** Monotonic per-session counters. */
export interface SessionCounters {
  /** Frames received (all types, hello included). */
  framesIn: number;
  /** Frames queued for sending (all types). */
  framesOut: number;
  /** Bytes received from TLS (frame headers included). */
  bytesIn: number;
  /** Frame bytes queued for sending (headers included). */
  bytesOut: number;
  /** IP frames received. */
  packetsIn: number;
  /** IP frames queued. */
  packetsOut: number;
  /** Control frames (announce, withdraw, DC, UDP channel) received. */
  controlIn: number;
  /** Control frames queued. */
  controlOut: number;
  /** Frames of unknown type skipped. */
  unknownIn: number;
  /** IP packets dropped because the send backlog was full. */
  dropQueueFull: number;
  /** IP packets dropped because they exceed the frame limit. */
  dropOversize: number;
  /** IP packets dropped because the session was not open. */
  dropClosed: number;
  /** Pongs ignored because they echoed no ping in flight (wrong sequence or nonce). */
  pongsUnmatched: number;
  /** Frames whose handling threw in this node's own code (a bug; logged, session kept). */
  internalErrors: number;
}

/** Fresh zeroed counters. */
export function newSessionCounters(): SessionCounters {
  return {
    framesIn: 0,
    framesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    packetsIn: 0,
    packetsOut: 0,
    controlIn: 0,
    controlOut: 0,
    unknownIn: 0,
    dropQueueFull: 0,
    dropOversize: 0,
    dropClosed: 0,
    pongsUnmatched: 0,
    internalErrors: 0,
  };
}

/** A snapshot of one session. */
export interface SessionStats extends LinkQuality {
  /** Milliseconds since the session opened (0 before). */
  uptimeMs: number;
  /** Bytes written to TLS but not yet sent, plus bytes queued in the session. */
  backlogBytes: number;
  /** Consecutive unanswered pings. */
  missedPings: number;
  /** Counters (a copy). */
  counters: SessionCounters;
}
