/**
 * The receive side of a session: bytes from the link become frames for the state the
 * session is in. Before our checks finish, what arrives is held (at most one hello's worth:
 * {@link MAX_EARLY_BYTES}); in `hello` only a hello is valid; in `open` IP frames are
 * gathered into one {@link PacketBatch} of views into the chunk and delivered once per
 * received chunk (or before a control frame, to keep order); the batch is borrowed for the
 * call and reused (its delivered slots are emptied so it does not keep the chunk alive),
 * pings are answered, pongs go to liveness, a close frame ends the session, unknown types are
 * skipped and counted. Violations throw `SessionError`, which the session turns into a close.
 * @module
 */
import { newPacketBatch, type PacketBatch, pushPacket } from "../net/mod.ts";
import { SessionError } from "./errors.ts";
import {
  CONTROL_TYPES,
  FRAME_HEADER_LEN,
  FrameDecoder,
  FrameError,
  type FrameSink,
  FrameType,
  frameTypeName,
} from "./frame.ts";
import { MAX_HELLO_LEN } from "./hello.ts";
import { PING_LEN } from "./liveness.ts";
import type { SessionEvent, SessionState } from "./session_fsm.ts";
import type { SessionCounters } from "./stats.ts";

/** Bytes a peer may send before our checks let us read its hello: one hello frame. */
export const MAX_EARLY_BYTES = FRAME_HEADER_LEN + MAX_HELLO_LEN;
/** Longest close reason sent or accepted, bytes. */
export const MAX_CLOSE_REASON = 256;
/** Fills delivered batch slots so a batch does not keep its chunk alive. */
const NO_PACKET = new Uint8Array(0);

/** What the receive side needs from its session. */
export interface ReceiveHost {
  /** The session's current state. */
  state(): SessionState;
  /** The session's counters (updated in place). */
  readonly counters: SessionCounters;
  /** The peer's hello (state "hello"): check it and open, or throw. */
  hello(payload: Uint8Array): void;
  /** Answer a ping with this payload. */
  ping(payload: Uint8Array): void;
  /** A pong payload for liveness. */
  pong(payload: Uint8Array): void;
  /** A control frame for the manager. */
  control(type: number, payload: Uint8Array): void;
  /** The IP frames gathered from one chunk, as views into it: borrowed for the call. */
  packets(batch: PacketBatch): void;
  /** Feeds an event to the session's state machine. */
  dispatch(event: SessionEvent): void;
  /** Ends the session for an error thrown while handling input. */
  failWith(e: unknown): void;
}

/** Frames in, by session state. */
export class FrameReceiver {
  readonly #host: ReceiveHost;
  readonly #decoder = new FrameDecoder();
  #early: Uint8Array[] = [];
  #earlyBytes = 0;
  readonly #packets: PacketBatch = newPacketBatch(0);

  /** @param host the session */
  constructor(host: ReceiveHost) {
    this.#host = host;
  }

  /** Bytes from the link (borrowed: copied when held). */
  onData(chunk: Uint8Array): void {
    const host = this.#host;
    host.counters.bytesIn += chunk.length;
    switch (host.state()) {
      case "tls":
      case "verifying":
        // The peer's hello may arrive while our checks run: hold it, bounded.
        this.#earlyBytes += chunk.length;
        if (this.#earlyBytes > MAX_EARLY_BYTES) {
          host.dispatch({
            kind: "fail",
            reason: "malformed-hello",
            message: `too much data before the hello (over ${MAX_EARLY_BYTES} bytes)`,
          });
          return;
        }
        this.#early.push(chunk.slice());
        return;
      case "hello":
      case "open":
        this.#decode(chunk);
        return;
      case "closed":
        return;
    }
  }

  /** Decodes what arrived while our checks ran (now that a hello may be read). */
  replayEarly(): void {
    const early = this.#early;
    this.#early = [];
    for (const chunk of early) {
      this.#decode(chunk);
      if (this.#host.state() === "closed") return;
    }
  }

  /** Drops everything held (the session closed). */
  clear(): void {
    this.#early = [];
    this.#packets.count = 0;
    this.#packets.bufs.length = 0;
  }

  #decode(chunk: Uint8Array): void {
    try {
      this.#decoder.push(chunk, this.#sink);
    } catch (e) {
      if (e instanceof FrameError) {
        this.#host.dispatch({ kind: "fail", reason: "oversize-frame", message: e.message });
      } else this.#host.failWith(e);
    }
  }

  readonly #sink: FrameSink = {
    onFrame: (type, payload) => this.#onFrame(type, payload),
    onChunkEnd: () => this.#deliverPackets(),
  };

  /** One frame; returns false to stop decoding (the session left its state). */
  #onFrame(type: number, payload: Uint8Array): boolean {
    const host = this.#host;
    const c = host.counters;
    c.framesIn++;
    const state = host.state();
    if (state === "hello") {
      if (type !== FrameType.Hello) {
        throw new SessionError(
          "malformed-hello",
          `expected a hello, got a frame of type ${frameTypeName(type)}`,
        );
      }
      host.hello(payload);
      return host.state() === "open";
    }
    if (state !== "open") return false;
    switch (type) {
      case FrameType.IpPacket:
      case FrameType.IpPacketVnet:
        c.packetsIn++;
        pushPacket(this.#packets, payload, type === FrameType.IpPacketVnet);
        return true;
      case FrameType.Ping:
        if (payload.length !== PING_LEN) throw malformedPing("ping", payload.length);
        host.ping(payload);
        return host.state() === "open";
      case FrameType.Pong:
        if (payload.length !== PING_LEN) throw malformedPing("pong", payload.length);
        host.pong(payload);
        return host.state() === "open";
      case FrameType.Close: {
        // The peer's words go into our logs: no control characters (no forged log lines).
        const text = new TextDecoder().decode(payload.subarray(0, MAX_CLOSE_REASON))
          .replace(/[\p{Cc}\u2028\u2029]/gu, "?");
        this.#deliverPackets();
        host.dispatch({
          kind: "fail",
          reason: "peer-closed",
          message: `peer closed the session: ${text}`,
        });
        return false;
      }
      case FrameType.Hello:
        throw new SessionError("malformed-frame", "unexpected second hello");
      default:
        if (CONTROL_TYPES.has(type)) {
          this.#deliverPackets();
          c.controlIn++;
          host.control(type, payload);
          return host.state() === "open";
        }
        c.unknownIn++;
        return true;
    }
  }

  #deliverPackets(): void {
    const batch = this.#packets;
    if (batch.count === 0) return;
    try {
      if (this.#host.state() === "open") this.#host.packets(batch);
    } finally {
      batch.bufs.fill(NO_PACKET, 0, batch.count); // views into the chunk: do not pin it
      batch.count = 0;
    }
  }
}

function malformedPing(what: string, len: number): SessionError {
  return new SessionError("malformed-frame", `${what} frame of ${len} bytes (need ${PING_LEN})`);
}
