/**
 * What the session manager reports, and the configured-peer type it dials.
 * @module
 */
import type { HostPort, PacketBatch } from "../net/mod.ts";

import type { SessionReason } from "./errors.ts";
import type { Session } from "./session.ts";

/** A configured peer: where to dial and the name its certificate must carry. */
export interface DialTarget {
  addr: HostPort;
  name: string;
}

/**
 * Event callbacks. `onSessionUp`, `onSessionDown` and `onHandshakeFailure` errors are logged
 * and change nothing. `onControl`, `onPackets` and `onRtt` may throw a `SessionError` to
 * close the session for a protocol violation by the peer (e.g. reason "malformed-frame" for
 * a control payload that does not decode); any other error they throw is logged as a bug in
 * this node ("internal error handling … from …") and the session stays up.
 */
export interface SessionHandlers {
  /** A session opened (at most one per peer ID, node name or pinned certificate at a time). */
  onSessionUp?(session: Session): void;
  /** An open session closed; `reason` is human-readable. */
  onSessionDown?(session: Session, reason: string): void;
  /**
   * A control frame arrived (RouteAnnounce, RouteWithdraw, DcOffer, Dc, UdpChannelRequest,
   * UdpChannelResponse). `payload` is valid only during the call: copy what you keep.
   */
  onControl?(session: Session, type: number, payload: Uint8Array): void;
  /**
   * IP frames of one received chunk, in order, as one batch (packet i starts with a
   * virtio_net_hdr when `batch.vnet[i]`). Borrowed for the call (src/net/packet_batch.ts):
   * copy what you keep.
   */
  onPackets?(session: Session, batch: PacketBatch): void;
  /**
   * One RTT sample (ms) of an open session's link: each ping answered with its nonce, about
   * once per ping interval. Raw, not smoothed: the consumer smooths (the router does).
   */
  onRtt?(session: Session, rttMs: number): void;
  /** A connection failed before it became a session (refused, timed out, unreachable). */
  onHandshakeFailure?(failure: HandshakeFailure): void;
}

/** A connection that did not become a session. */
export interface HandshakeFailure {
  /** Stable reason (also the key of `handshakeFailures()`). */
  reason: SessionReason;
  /** What failed, for logs. */
  message: string;
  /** The other end's address. */
  remote: HostPort;
  /** For connections we dialled: the configured peer name. */
  dialedName?: string;
}
