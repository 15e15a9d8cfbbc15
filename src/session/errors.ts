/**
 * Errors and refusal reasons of the session layer.
 * @module
 */

/**
 * Every {@link SessionReason}, in a fixed order: the bounded label set of the handshake-failure
 * metric (`vmesh_handshake_failures_total{reason}`).
 */
export const SESSION_REASONS = [
  "connect-failed",
  "tls-error",
  "tls-version",
  "no-certificate",
  "certificate",
  "name-mismatch",
  "self",
  "revoked",
  "handshake-timeout",
  "malformed-hello",
  "hello-mismatch",
  "proof-invalid",
  "unauthenticated-limit",
  "duplicate",
  "malformed-frame",
  "oversize-frame",
  "control-backlog",
  "dead",
  "peer-closed",
  "connection-lost",
  "local-close",
  "internal-error",
] as const;

/**
 * Why a connection was refused or a session ended. Stable identifiers: they key the
 * handshake-failure counters of the manager and appear in logs.
 */
export type SessionReason = typeof SESSION_REASONS[number];

/**
 * A refused handshake or a protocol violation, with a stable {@link SessionReason}.
 * Thrown inside the session layer and turned into a logged close; callers of the public API
 * see it only as the `reason` of `onSessionDown` or in the manager's failure counters.
 */
export class SessionError extends Error {
  /** Stable reason identifier. */
  readonly reason: SessionReason;

  /**
   * @param reason stable reason identifier
   * @param message what failed, for logs
   * @param options standard error options (`cause`)
   */
  constructor(reason: SessionReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SessionError";
    this.reason = reason;
  }
}
