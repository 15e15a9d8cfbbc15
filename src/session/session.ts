/**
 * One peer session over a {@link Link}, from the end of the TLS handshake to close:
 *
 * 1. TLS 1.3 is established (by the listener or dialer; no library certificate checks).
 * 2. Our checks: the peer's certificate DER from the TLS facts goes through the PKI's
 *    `verifyPeerCertificate`; a dialer also checks the name it dialled; a node refuses itself.
 * 3. Hellos: each side sends its hello (signed proof, X25519 key) once its checks passed and
 *    checks the peer's; both derive the UDP channel secret. A hello that arrives while our
 *    checks still run is held (at most one hello's worth of bytes).
 * 4. Open: frames flow; pings run; the manager is told (`onOpen`) and may still close it.
 *
 * Everything from TCP accept (or dial) to the peer's valid hello must finish within the
 * handshake timeout. Any violation closes the connection with a {@link SessionReason}. The
 * life cycle is the pure transition function of `session_fsm.ts`; this class runs its
 * actions and handles frames.
 * @module
 */
import type { HostPort } from "../net/mod.ts";
import { getLogger } from "@logtape/logtape";
import { shortId, type VerifiedPeer } from "../pki/mod.ts";
import type { TimerHandle } from "../clock/mod.ts";
import type { SessionContext } from "./context.ts";
import { SessionError, type SessionReason } from "./errors.ts";
import {
  CONTROL_TYPES,
  FRAME_HEADER_LEN,
  FrameType,
  frameTypeName,
  MAX_FRAME_PAYLOAD,
} from "./frame.ts";
import type { Role } from "./hello.ts";
import type { Link } from "./link.ts";
import { Liveness } from "./liveness.ts";
import { HelloExchange } from "./peer_check.ts";
import { FrameReceiver, MAX_CLOSE_REASON } from "./receive.ts";
import { SendQueue } from "./send_queue.ts";
import {
  describeEvent,
  linkErrorEvent,
  type SessionAction,
  type SessionEvent,
  type SessionState,
  transition,
} from "./session_fsm.ts";
import { newSessionCounters, type SessionCounters, type SessionStats } from "./stats.ts";

export type { SessionContext } from "./context.ts";
export type { SessionState } from "./session_fsm.ts";

const log = getLogger(["vmesh", "session"]);

/** How long a closing session waits for its close frame to drain before destroying. */
export const CLOSE_GRACE_MS = 1000;

/**
 * A connection to a peer. Appears in the public API only once open; its `peer`,
 * `channelSecret` and `peerFeatures` are set from then on.
 */
export class Session {
  /** The authenticated peer (set once our checks passed). */
  peer!: VerifiedPeer;
  /** The peer's transport address. */
  readonly remoteAddr: HostPort;
  /** True when this node dialled the connection. */
  readonly dialedByUs: boolean;
  /**
   * 32 secret bytes agreed inside this authenticated session (X25519 + HKDF, bound to the TLS
   * session and both hellos): input keying material for the UDP data channel. Kept in memory
   * only; never logged. Set when open.
   */
  channelSecret: Uint8Array = new Uint8Array(0);
  /** Feature bits the peer announced (see `Feature`). */
  peerFeatures = 0;
  /** The peer's per-process instance number, hex (changes when the peer restarts). */
  peerInstance = "";
  /**
   * The key fingerprint of the peer's certificate (SHA-256 of its SubjectPublicKeyInfo DER,
   * hex, as the DC's `revoked_keys` lists it). Set with `peer`.
   */
  peerKeySha256 = "";

  readonly #ctx: SessionContext;
  readonly #link: Link;
  readonly #role: Role;
  readonly #expectedName: string | undefined;
  readonly #queue: SendQueue;
  readonly #counters: SessionCounters = newSessionCounters();
  #state: SessionState = "tls";
  #liveness: Liveness | undefined;
  /** What `sendProgress` returns to the liveness (one object, refilled at each call). */
  readonly #progress = { sent: 0, queued: 0 };
  #handshakeTimer: TimerHandle | undefined;
  #closeTimer: TimerHandle | undefined;
  readonly #hellos: HelloExchange;
  #openedAt = 0;
  #closeReason: string | undefined;
  readonly #receiver = new FrameReceiver({
    state: () => this.#state,
    counters: this.#counters,
    hello: (payload) => this.#onHello(payload),
    ping: (payload) => {
      if (this.#sendInternal(FrameType.Pong, payload)) this.#liveness?.peerPinged();
    },
    pong: (payload) => {
      if (!this.#liveness!.onPong(payload)) this.#counters.pongsUnmatched++;
    },
    control: (type, payload) => {
      // The peer is alive; its pongs may be queued behind its control frames (liveness.ts).
      this.#liveness?.heard();
      this.#handle(
        `a ${frameTypeName(type)} frame`,
        () => this.#ctx.onControl(this, type, payload),
      );
    },
    packets: (batch) => this.#handle("IP frames", () => this.#ctx.onPackets(this, batch)),
    dispatch: (event) => this.#dispatch(event),
    failWith: (e) => this.#failWith(e),
  });

  /**
   * Takes over a link whose TLS handshake is under way and starts the handshake timer.
   * @param link the carrier (its handlers are set here)
   * @param ctx manager context
   * @param role "dialer" or "listener"
   * @param remoteAddr peer address
   * @param expectedName for a dialer: the configured peer name the certificate must carry
   */
  constructor(
    link: Link,
    ctx: SessionContext,
    role: Role,
    remoteAddr: HostPort,
    expectedName?: string,
  ) {
    this.#link = link;
    this.#ctx = ctx;
    this.#role = role;
    this.dialedByUs = role === "dialer";
    this.remoteAddr = remoteAddr;
    this.#expectedName = expectedName;
    this.#hellos = new HelloExchange(ctx, role, expectedName);
    this.#queue = new SendQueue(link, ctx.queue);
    this.#handshakeTimer = ctx.clock.setTimer(() => {
      this.#handshakeTimer = undefined;
      this.#dispatch({
        kind: "fail",
        reason: "handshake-timeout",
        message:
          `handshake not finished within ${ctx.handshakeTimeoutMs} ms (stage: ${this.#state})`,
      });
    }, ctx.handshakeTimeoutMs);
    link.attach({
      onSecure: () => this.#dispatch({ kind: "secure" }),
      onData: (chunk) => this.#receiver.onData(chunk),
      onError: (message, code) => this.#dispatch(linkErrorEvent(this.#state, role, message, code)),
      onClose: (message) =>
        this.#dispatch({ kind: "link-down", reason: "connection-lost", message }),
    });
  }

  /** Current state. */
  get state(): SessionState {
    return this.#state;
  }

  /** The TLS role of this end. */
  get role(): Role {
    return this.#role;
  }

  /** A short label for logs: name (id prefix) and address. */
  get label(): string {
    const who = this.peer
      ? `${this.peer.name} (${shortId(this.peer.id)})`
      : (this.#expectedName ?? "unauthenticated peer");
    return `${who} at ${this.remoteAddr.host}:${this.remoteAddr.port}`;
  }

  /** Why the session closed (undefined while it is not closed). */
  get closeReason(): string | undefined {
    return this.#closeReason;
  }

  /**
   * Queues an IP packet (copied before returning); it is written at the next {@link flush}.
   * @param bytes the packet, starting with the vnet header when `vnetHdr`
   * @param vnetHdr true when `bytes` starts with a 10-byte virtio_net_hdr
   * @returns false when dropped (backlog full, too large, session not open); counted
   */
  sendPacket(bytes: Uint8Array, vnetHdr = false): boolean {
    const c = this.#counters;
    if (this.#state !== "open") {
      c.dropClosed++;
      return false;
    }
    if (bytes.length > MAX_FRAME_PAYLOAD) {
      c.dropOversize++;
      return false;
    }
    if (!this.#queue.enqueuePacket(vnetHdr ? FrameType.IpPacketVnet : FrameType.IpPacket, bytes)) {
      c.dropQueueFull++;
      return false;
    }
    c.packetsOut++;
    c.framesOut++;
    c.bytesOut += FRAME_HEADER_LEN + bytes.length;
    return true;
  }

  /** Writes the packets queued by {@link sendPacket} (the caller's end of batch). */
  flush(): void {
    this.#queue.flush();
  }

  /** Bytes queued for the socket and not yet handed to the kernel (0 when closed). */
  sendBacklog(): number {
    return this.#state === "closed" ? 0 : this.#queue.backlog();
  }

  /**
   * Queues a control frame (copied before returning). Never dropped: a peer whose backlog
   * passed the control limit is disconnected instead.
   * @param type one of the control frame types (RouteAnnounce … UdpChannelResponse)
   * @param payload at most `MAX_FRAME_PAYLOAD` bytes
   * @returns false when the session is not open (or just closed for backlog)
   * @throws {RangeError} for a non-control type or an oversize payload (caller bugs)
   */
  sendControl(type: number, payload: Uint8Array): boolean {
    if (!CONTROL_TYPES.has(type)) {
      throw new RangeError(`frame type ${frameTypeName(type)} is not a control frame type`);
    }
    if (payload.length > MAX_FRAME_PAYLOAD) {
      throw new RangeError(
        `control payload of ${payload.length} bytes exceeds the limit of ${MAX_FRAME_PAYLOAD}`,
      );
    }
    if (this.#state !== "open") return false;
    if (!this.#sendInternal(type, payload)) return false;
    this.#counters.controlOut++;
    return true;
  }

  /** Counters, link quality and uptime. */
  stats(): SessionStats {
    const q = this.#liveness?.tracker.snapshot() ??
      { rttMs: null, minRttMs: null, jitterMs: null, loss: 0, samples: 0 };
    return {
      ...q,
      uptimeMs: this.#openedAt > 0 ? this.#ctx.clock.now() - this.#openedAt : 0,
      backlogBytes: this.#state === "closed" ? 0 : this.#queue.backlog(),
      missedPings: this.#liveness?.missed ?? 0,
      counters: { ...this.#counters },
    };
  }

  /**
   * Closes the session: sends a close frame with `reason` (when open), lets it drain for up
   * to {@link CLOSE_GRACE_MS}, then destroys the link. Idempotent.
   */
  close(reason: string, code: SessionReason = "local-close"): void {
    this.#dispatch({ kind: "close", reason: code, message: reason });
  }

  /** The one place the state changes: runs the transition's actions, logs the change. */
  #dispatch(event: SessionEvent): void {
    const from = this.#state;
    const t = transition(from, event);
    if (t === undefined) return;
    this.#state = t.next;
    if (t.next !== from) {
      log.debug("session {peer}: {from} → {to} ({reason})", {
        peer: this.label,
        from,
        to: t.next,
        reason: describeEvent(event),
      });
    }
    for (const action of t.actions) {
      // An action may have moved the session on (onOpen closing a duplicate): stop here.
      if (this.#state !== t.next) return;
      try {
        this.#run(action, event);
      } catch (e) {
        this.#failWith(e);
      }
    }
  }

  #run(action: SessionAction, event: SessionEvent): void {
    const ctx = this.#ctx;
    switch (action) {
      case "verify-peer":
        void this.#verifyPeer();
        return;
      case "send-hello":
        this.#sendInternal(FrameType.Hello, this.#hellos.ourHello);
        return;
      case "replay-early":
        this.#receiver.replayEarly();
        return;
      case "mark-open":
        this.#stopHandshakeTimer();
        this.#openedAt = ctx.clock.now();
        this.#liveness = new Liveness(ctx.clock, {
          sendPing: (payload) => this.#ping(payload),
          onDead: (missed) => this.close(`peer missed ${missed} pings in a row`, "dead"),
          onSample: (rtt) => this.#handle("an RTT sample", () => ctx.onRtt?.(this, rtt)),
          sendProgress: () => {
            const p = this.#progress;
            p.queued = this.#queue.backlog();
            p.sent = this.#counters.bytesOut - p.queued;
            return p;
          },
        }, {
          ...ctx.liveness,
          // One side of each link sends its ping with its answer to the other's (liveness.ts):
          // the one with the larger node ID, which both ends agree on (an external peer's ID
          // is its pinned certificate's, not the one it knows itself by: it is not followed).
          follow: !this.peer.external && ctx.identity.id > this.peer.id,
        });
        return;
      case "notify-open":
        this.#handle("the session opening", () => ctx.onOpen(this));
        return;
      case "start-liveness":
        this.#liveness!.start();
        return;
      case "send-close": {
        const message = (event as { message: string }).message;
        const text = new TextEncoder().encode(message).subarray(0, MAX_CLOSE_REASON);
        this.#queue.enqueueControl(FrameType.Close, text);
        this.#queue.flush();
        return;
      }
      case "finish": {
        const { reason, message } = event as { reason: SessionReason; message: string };
        this.#finish(reason, message);
        return;
      }
      case "end-link":
        this.#link.end();
        this.#closeTimer = ctx.clock.setTimer(() => {
          this.#closeTimer = undefined;
          this.#link.destroy();
        }, CLOSE_GRACE_MS);
        return;
      case "destroy-link":
        this.#link.destroy();
        return;
      case "cancel-grace":
        if (this.#closeTimer !== undefined) ctx.clock.clearTimer(this.#closeTimer);
        this.#closeTimer = undefined;
        return;
    }
  }

  /** Our checks on the peer (asynchronous); ends in "checked" or "fail". */
  async #verifyPeer(): Promise<void> {
    try {
      const peer = await this.#hellos.check(this.#link.tls());
      if (this.#state !== "verifying") return; // closed meanwhile
      this.peer = peer;
      this.peerKeySha256 = this.#hellos.keySha256;
    } catch (e) {
      this.#failWith(e);
      return;
    }
    this.#dispatch({ kind: "checked" });
  }

  /** Sends a ping unless the peer's certificate expired meanwhile (then closes). */
  #ping(payload: Uint8Array): void {
    if ((this.#ctx.wallClock ?? Date.now)() > this.peer.notAfter.getTime()) {
      this.close("peer certificate expired", "certificate");
      return;
    }
    this.#sendInternal(FrameType.Ping, payload);
  }

  /** Queues any frame type; on control backlog overflow closes the session. */
  #sendInternal(type: number, payload: Uint8Array): boolean {
    if (!this.#queue.enqueueControl(type, payload)) {
      this.#dispatch({
        kind: "fail",
        reason: "control-backlog",
        message: "peer does not read: control backlog limit exceeded",
      });
      return false;
    }
    this.#counters.framesOut++;
    this.#counters.bytesOut += FRAME_HEADER_LEN + payload.length;
    return true;
  }

  /** The peer's hello: checked against our TLS session and its certificate, then open. */
  #onHello(payload: Uint8Array): void {
    const { hello, channelSecret } = this.#hellos.accept(payload);
    this.channelSecret = channelSecret;
    this.peerFeatures = hello.features;
    this.peerInstance = hello.instance.toHex();
    this.#dispatch({ kind: "hello" });
  }

  /**
   * Runs one of the manager's handlers. A `SessionError` it throws is the peer's fault and
   * passes on (the session closes); anything else is a bug in this node: logged as ours,
   * counted, and the session stays up.
   */
  #handle(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (e instanceof SessionError) throw e;
      this.#counters.internalErrors++;
      log.error("internal error handling {what} from {peer} (a bug in this node): {error}", {
        what,
        peer: this.label,
        error: e instanceof Error ? (e.stack ?? e.message) : String(e),
      });
    }
  }

  #failWith(e: unknown): void {
    if (e instanceof SessionError) {
      this.#dispatch({ kind: "fail", reason: e.reason, message: e.message });
    } else {
      const what = e instanceof Error ? e.message : String(e);
      log.error("internal error in the session with {peer}: {error}", {
        peer: this.label,
        error: e instanceof Error ? (e.stack ?? what) : what,
      });
      this.#dispatch({
        kind: "fail",
        reason: "internal-error",
        message: `internal error: ${what}`,
      });
    }
  }

  #stopHandshakeTimer(): void {
    if (this.#handshakeTimer !== undefined) this.#ctx.clock.clearTimer(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
  }

  #finish(reason: SessionReason, message: string): void {
    this.#closeReason = message;
    this.#liveness?.stop();
    this.#queue.close();
    this.#receiver.clear();
    this.#hellos.clear();
    this.#stopHandshakeTimer();
    try {
      this.#ctx.onClosed(this, reason, message);
    } catch (e) {
      log.error("onClosed handler threw: {error}", { error: e });
    }
  }
}
