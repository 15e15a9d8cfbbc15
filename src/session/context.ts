/**
 * What a {@link Session} is given by its manager: identity, limits, clock, and the handlers
 * that receive its events.
 * @module
 */
import type { KeyObject } from "node:crypto";
import type { PacketBatch } from "../net/mod.ts";
import type { NodeIdentity, TrustStore, VerifiedPeer } from "../pki/mod.ts";
import type { Clock } from "../clock/mod.ts";
import type { SessionReason } from "./errors.ts";
import type { LivenessOptions } from "./liveness.ts";
import type { SendQueueOptions } from "./send_queue.ts";
import type { Session } from "./session.ts";

/**
 * What a session needs from its manager.
 *
 * Handler errors: `onOpen`, `onControl`, `onPackets` and `onRtt` may throw a `SessionError`
 * to close the session for a protocol violation by the peer (a malformed control payload:
 * use reason "malformed-frame"). Anything else they throw is a bug in this node: it is
 * logged as ours ("internal error handling … from …"), counted in `internalErrors`, and the
 * session stays up.
 */
export interface SessionContext {
  /** This node's certificate, key, name and ID. */
  identity: NodeIdentity;
  /** Our private key, read once, for signing hellos. */
  signingKey: KeyObject;
  /** Our CA and pinned external certificates. */
  trust: TrustStore;
  /** Monotonic time and timers (handshake timeout, pings, close grace). */
  clock: Clock;
  /** Wall-clock time in ms since the epoch, for certificate expiry (default `Date.now`). */
  wallClock?: () => number;
  /** This process's random instance number (8 bytes), sent in every hello. */
  instance: Uint8Array;
  /**
   * Asked once our checks on a peer's certificate passed (before the hellos) and again when the
   * session is about to open: a message refuses the peer with reason "revoked" (the DC revokes
   * its key or name). `keySha256` is its certificate's key fingerprint.
   */
  refusePeer?(peer: VerifiedPeer, keySha256: string): string | undefined;
  /** Feature bits we announce. */
  features: number;
  /** Limit from accept or dial to the peer's valid hello, ms. */
  handshakeTimeoutMs: number;
  /** Ping settings. */
  liveness: LivenessOptions;
  /** Send backlog limits. */
  queue: SendQueueOptions;
  /** Called when the session opens (after both hellos); may close it again. */
  onOpen(s: Session): void;
  /** Called once when the session ends, whatever its state. */
  onClosed(s: Session, reason: SessionReason, message: string): void;
  /**
   * Control frames (announce, withdraw, DC offer, DC, UDP channel request/response).
   * `payload` is valid only during the call.
   */
  onControl(s: Session, type: number, payload: Uint8Array): void;
  /**
   * The IP frames of one received chunk, as one batch of views into the chunk: borrowed for
   * the call (src/net/packet_batch.ts).
   */
  onPackets(s: Session, batch: PacketBatch): void;
  /** One RTT sample of the link, ms (each answered ping). */
  onRtt?(s: Session, rttMs: number): void;
}
