/**
 * The life cycle of a {@link Session} as one pure transition function: a state and an event
 * in, the next state and the actions to run out (GoBGP's `fsm.go` keeps the same shape, and
 * logs each change in `stateChange`). The session runs the actions in order and logs every
 * change of state with its reason; nothing else changes the state.
 *
 * ```
 *  tls ──secure──▶ verifying ──checked──▶ hello ──hello──▶ open
 *   │                 │                     │                │
 *   └──── close / fail / link-down ─────────┴────────────────┴──▶ closed
 * ```
 * Leaving `open` because of a local decision or a protocol violation sends a close frame and
 * ends the link gracefully (destroyed after a grace period); leaving it because the peer
 * closed, the link went away or the peer stopped reading (control backlog) destroys the link
 * at once. Before `open` nothing is sent on failure: the link is destroyed.
 * @module
 */
import type { SessionReason } from "./errors.ts";
import type { Role } from "./hello.ts";

/** Life cycle of a session. */
export type SessionState = "tls" | "verifying" | "hello" | "open" | "closed";

/** What drives a session from one state to the next. */
export type SessionEvent =
  /** The link's TLS handshake completed. */
  | { kind: "secure" }
  /** Our checks on the peer's certificate passed and our hello is built. */
  | { kind: "checked" }
  /** The peer's hello verified. */
  | { kind: "hello" }
  /** This node closes the session (operator, manager, duplicate, expiry, dead peer). */
  | { kind: "close"; reason: SessionReason; message: string }
  /** The peer broke the protocol, or the handshake did not finish in time. */
  | { kind: "fail"; reason: SessionReason; message: string }
  /** The link closed or failed underneath us. */
  | { kind: "link-down"; reason: SessionReason; message: string };

/** What the session does on a transition, in order. */
export type SessionAction =
  /** Start our checks of the peer certificate (they end in "checked" or "fail"). */
  | "verify-peer"
  /** Queue our hello. */
  | "send-hello"
  /** Decode what the peer sent while our checks ran. */
  | "replay-early"
  /** Stop the handshake timer; start the uptime. */
  | "mark-open"
  /** Tell the manager (which may close the session again: later actions are then skipped). */
  | "notify-open"
  /** Start pings. */
  | "start-liveness"
  /** Queue a close frame carrying the message, and flush. */
  | "send-close"
  /** Stop timers and pings, drop queued data, tell the manager (`onClosed`). */
  | "finish"
  /** End the link gracefully; destroy it after the grace period. */
  | "end-link"
  /** Destroy the link now. */
  | "destroy-link"
  /** The link is gone after a graceful end: cancel the grace timer. */
  | "cancel-grace";

/** The outcome of an event in a state. */
export interface Transition {
  /** The state after the event. */
  next: SessionState;
  /** What to do, in order. */
  actions: readonly SessionAction[];
}

const GRACEFUL: readonly SessionAction[] = ["send-close", "finish", "end-link"];
const ABRUPT: readonly SessionAction[] = ["finish", "destroy-link"];

/**
 * The transition function.
 * @param state current state
 * @param event what happened
 * @returns the next state and the actions, or undefined when the event means nothing in
 *   this state (ignored)
 */
export function transition(state: SessionState, event: SessionEvent): Transition | undefined {
  switch (event.kind) {
    case "secure":
      return state === "tls" ? { next: "verifying", actions: ["verify-peer"] } : undefined;
    case "checked":
      return state === "verifying"
        ? { next: "hello", actions: ["send-hello", "replay-early"] }
        : undefined;
    case "hello":
      return state === "hello"
        ? { next: "open", actions: ["mark-open", "notify-open", "start-liveness"] }
        : undefined;
    case "close":
      if (state === "closed") return undefined;
      return { next: "closed", actions: state === "open" ? GRACEFUL : ABRUPT };
    case "fail":
      if (state === "closed") return undefined;
      return {
        next: "closed",
        actions: state === "open" && !QUIET_FAILURES.has(event.reason) ? GRACEFUL : ABRUPT,
      };
    case "link-down":
      if (state === "closed") return { next: "closed", actions: ["cancel-grace"] };
      return { next: "closed", actions: ABRUPT };
  }
}

/** Failures after which no close frame is sent: the peer closed, or it is not reading. */
const QUIET_FAILURES: ReadonlySet<SessionReason> = new Set(["peer-closed", "control-backlog"]);

/** Error codes of a dial that never reached TLS. */
const CONNECT_ERRORS =
  /^(ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EADDRNOTAVAIL|ENOTFOUND|EAI_.*)$/;

/**
 * The event for a link error: before TLS completed it is a connect failure (dialer, network
 * error code) or a TLS handshake failure; afterwards the connection was lost.
 */
export function linkErrorEvent(
  state: SessionState,
  role: Role,
  message: string,
  code: string,
): SessionEvent {
  if (state === "tls" && role === "dialer" && CONNECT_ERRORS.test(code)) {
    return { kind: "link-down", reason: "connect-failed", message: `cannot connect: ${message}` };
  }
  if (state === "tls") {
    return { kind: "link-down", reason: "tls-error", message: `TLS handshake failed: ${message}` };
  }
  return { kind: "link-down", reason: "connection-lost", message: `connection error: ${message}` };
}

/** A short reason for the transition log. */
export function describeEvent(event: SessionEvent): string {
  switch (event.kind) {
    case "secure":
      return "TLS handshake done";
    case "checked":
      return "peer certificate verified, hello sent";
    case "hello":
      return "peer hello verified";
    default:
      return `${event.reason}: ${event.message}`;
  }
}
