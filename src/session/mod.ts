/**
 * Peer sessions: mutually authenticated TLS 1.3 (node:tls) with our own certificate checks,
 * an in-band signed hello, framing, liveness and latency.
 *
 * Rooms: `link.ts` (the carrier seam; `tls_link.ts`, `memory_link.ts`), `session.ts` with its
 * pure life cycle `session_fsm.ts` and its receive side `receive.ts`, and the manager
 * (`manager.ts`) built from `accept.ts`, `dial.ts` and `registry.ts`.
 * @module
 */
export {
  type DialTarget,
  type HandshakeFailure,
  type SessionHandlers,
  SessionManager,
  type SessionManagerOptions,
} from "./manager.ts";
export { CLOSE_GRACE_MS, Session, type SessionContext } from "./session.ts";
export {
  type SessionAction,
  type SessionEvent,
  type SessionState,
  type Transition,
  transition,
} from "./session_fsm.ts";
export type { Link, LinkHandlers, TlsFacts } from "./link.ts";
export { acceptTls, dialTls, TlsLink } from "./tls_link.ts";
export { MemoryLink, type MemoryLinkOptions, memoryLinkPair } from "./memory_link.ts";
export {
  type Admission,
  type DuplicateFacts,
  preferSession,
  type RegisteredSession,
  SessionRegistry,
} from "./registry.ts";
export type { SessionCounters, SessionStats } from "./stats.ts";
export { SESSION_REASONS, SessionError, type SessionReason } from "./errors.ts";
export {
  CONTROL_TYPES,
  encodeFrame,
  FRAME_HEADER_LEN,
  FrameDecoder,
  FrameError,
  FrameType,
  frameTypeName,
  type FrameTypeValue,
  MAX_FRAME_PAYLOAD,
} from "./frame.ts";
export { Feature, PROTOCOL_VERSION } from "./hello.ts";
export { type LivenessOptions, PING_LEN } from "./liveness.ts";
export type { BackoffOptions } from "./backoff.ts";
export type { SendQueueOptions } from "./send_queue.ts";
export type { LinkQuality } from "./latency.ts";
