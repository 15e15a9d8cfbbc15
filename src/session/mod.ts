/**
 * Peer sessions: mutually authenticated TLS 1.3 (node:tls) with our own certificate checks,
 * an in-band signed hello, framing, liveness and latency.
 * @module
 */
export {
  type HandshakeFailure,
  type PeerConfig,
  type SessionHandlers,
  SessionManager,
  type SessionManagerOptions,
} from "./manager.ts";
export { type Endpoint, Session, type SessionState } from "./session.ts";
export type { SessionCounters, SessionStats } from "./stats.ts";
export { SessionError, type SessionReason } from "./errors.ts";
export {
  CONTROL_TYPES,
  encodeFrame,
  FRAME_HEADER_LEN,
  FrameDecoder,
  FrameError,
  FrameType,
  type FrameTypeValue,
  MAX_FRAME_PAYLOAD,
} from "./frame.ts";
export { Feature, PROTOCOL_VERSION } from "./hello.ts";
export { type Clock, ManualClock, realClock } from "./clock.ts";
export type { LivenessOptions } from "./liveness.ts";
export type { BackoffOptions } from "./backoff.ts";
export type { SendQueueOptions } from "./send_queue.ts";
export type { LinkQuality } from "./latency.ts";
