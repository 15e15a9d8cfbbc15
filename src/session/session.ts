/**
 * One peer session over a TLS socket, from the end of the TLS handshake to close:
 *
 * 1. TLS 1.3 is established (by the listener or dialer; no library certificate checks).
 * 2. Our checks: the peer's certificate DER from the TLS session goes through the PKI's
 *    `verifyPeerCertificate`; a dialer also checks the name it dialled; a node refuses itself.
 * 3. Hellos: each side sends its hello (signed proof, X25519 key) once its checks passed and
 *    checks the peer's; both derive the UDP channel secret.
 * 4. Open: frames flow; pings run; the manager is told (`onOpen`) and may still close it.
 *
 * Everything from TCP accept (or dial) to the peer's valid hello must finish within the
 * handshake timeout. Any violation closes the connection with a {@link SessionReason}.
 * @module
 */
import type { TLSSocket } from "node:tls";
import { getLogger } from "@logtape/logtape";
import { newPacketBatch, type PacketBatch, pushPacket } from "../net/packet_batch.ts";
import { type NodeIdentity, shortId, type TrustStore, type VerifiedPeer } from "../pki/mod.ts";
import type { Clock, TimerHandle } from "./clock.ts";
import { SessionError, type SessionReason } from "./errors.ts";
import {
  CONTROL_TYPES,
  FRAME_HEADER_LEN,
  FrameDecoder,
  FrameError,
  type FrameSink,
  FrameType,
  frameTypeName,
  MAX_FRAME_PAYLOAD,
} from "./frame.ts";
import { type Hello, MAX_HELLO_LEN, type Role } from "./hello.ts";
import {
  acceptHello,
  buildHello,
  type CheckedPeer,
  checkTlsPeer,
  type OurHello,
} from "./peer_check.ts";
import { Liveness, type LivenessOptions } from "./liveness.ts";
import { SendQueue, type SendQueueOptions } from "./send_queue.ts";
import { newSessionCounters, type SessionCounters, type SessionStats } from "./stats.ts";
import type { KeyObject } from "node:crypto";

const log = getLogger(["vmesh", "session"]);
/** Fills delivered batch slots so a batch does not keep its chunk alive. */
const NO_PACKET = new Uint8Array(0);

/** Longest close reason sent or accepted, bytes. */
const MAX_CLOSE_REASON = 256;
/** How long a closing session waits for its close frame to drain before destroying. */
const CLOSE_GRACE_MS = 1000;

/** Error codes of a dial that never reached TLS. */
const CONNECT_ERRORS =
  /^(ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EADDRNOTAVAIL|ENOTFOUND|EAI_.*)$/;

/** Life cycle of a {@link Session}. */
export type SessionState = "tls" | "verifying" | "hello" | "open" | "closed";

/** Host and port. */
export interface Endpoint {
  host: string;
  port: number;
}

/** What a session needs from its manager. */
export interface SessionContext {
  identity: NodeIdentity;
  signingKey: KeyObject;
  trust: TrustStore;
  clock: Clock;
  instance: Uint8Array;
  features: number;
  handshakeTimeoutMs: number;
  liveness: LivenessOptions;
  queue: SendQueueOptions;
  /** Called when the session opens (after both hellos). */
  onOpen(s: Session): void;
  /** Called once when the session ends, whatever its state. */
  onClosed(s: Session, reason: SessionReason, message: string): void;
  /** Control frames (announce, withdraw, DC offer, DC, UDP channel request/response). */
  onControl(s: Session, type: number, payload: Uint8Array): void;
  /**
   * The IP frames of one received chunk, as one batch of views into the chunk: borrowed for
   * the call (src/net/packet_batch.ts).
   */
  onPackets(s: Session, batch: PacketBatch): void;
}

/**
 * A connection to a peer. Appears in the public API only once open; its `peer`,
 * `channelSecret` and `peerFeatures` are set from then on.
 */
export class Session {
  /** The authenticated peer (set when open). */
  peer!: VerifiedPeer;
  /** The peer's transport address. */
  readonly remoteAddr: Endpoint;
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

  readonly #ctx: SessionContext;
  readonly #socket: TLSSocket;
  readonly #role: Role;
  readonly #expectedName: string | undefined;
  readonly #decoder = new FrameDecoder();
  readonly #queue: SendQueue;
  readonly #counters: SessionCounters = newSessionCounters();
  #state: SessionState = "tls";
  #liveness: Liveness | undefined;
  #handshakeTimer: TimerHandle | undefined;
  #closeTimer: TimerHandle | undefined;
  #early: Uint8Array[] = [];
  #earlyBytes = 0;
  #checked: CheckedPeer | undefined;
  #ours: OurHello | undefined;
  #openedAt = 0;
  readonly #packets: PacketBatch = newPacketBatch(0);
  #closeReason: string | undefined;

  /**
   * Takes over a TLS socket whose handshake is under way; call {@link tlsReady} when it is
   * secure.
   * @param socket the TLS socket
   * @param ctx manager context
   * @param role "dialer" or "listener"
   * @param remoteAddr peer address
   * @param expectedName for a dialer: the configured peer name the certificate must carry
   */
  constructor(
    socket: TLSSocket,
    ctx: SessionContext,
    role: Role,
    remoteAddr: Endpoint,
    expectedName?: string,
  ) {
    this.#socket = socket;
    this.#ctx = ctx;
    this.#role = role;
    this.dialedByUs = role === "dialer";
    this.remoteAddr = remoteAddr;
    this.#expectedName = expectedName;
    this.#queue = new SendQueue({
      write: (b) => {
        this.#socket.write(b);
      },
      backlog: () => this.#socket.writableLength,
    }, ctx.queue);
    this.#handshakeTimer = ctx.clock.setTimer(() => {
      this.#handshakeTimer = undefined;
      this.#fail(
        "handshake-timeout",
        `handshake not finished within ${ctx.handshakeTimeoutMs} ms (stage: ${this.#state})`,
      );
    }, ctx.handshakeTimeoutMs);
    // Plain Uint8Array views: Buffer.slice() would share memory where callers expect a copy.
    socket.on(
      "data",
      (chunk: Uint8Array) =>
        this.#onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)),
    );
    socket.on("error", (e: Error) => this.#onSocketError(e));
    socket.on("end", () => this.#terminate("connection-lost", "peer ended the connection"));
    socket.on("close", () => this.#terminate("connection-lost", "connection closed"));
  }

  /** State test that TypeScript does not narrow across calls. */
  #is(state: SessionState): boolean {
    return this.#state === state;
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
    const who = this.#state === "open" || this.peer
      ? `${this.peer.name} (${shortId(this.peer.id)})`
      : (this.#expectedName ?? "unauthenticated peer");
    return `${who} at ${this.remoteAddr.host}:${this.remoteAddr.port}`;
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
   * Closes the session: sends a close frame with `reason` (when open), lets it drain briefly,
   * then destroys the connection. Idempotent.
   */
  close(reason: string, code: SessionReason = "local-close"): void {
    if (this.#state === "closed") return;
    const wasOpen = this.#state === "open";
    if (wasOpen) {
      const text = new TextEncoder().encode(reason).subarray(0, MAX_CLOSE_REASON);
      this.#queue.enqueueControl(FrameType.Close, text);
      this.#queue.flush();
    }
    this.#finish(code, reason);
    if (wasOpen) {
      this.#socket.end();
      this.#closeTimer = this.#ctx.clock.setTimer(() => this.#socket.destroy(), CLOSE_GRACE_MS);
    } else {
      this.#socket.destroy();
    }
  }

  /** Called once the TLS handshake completed: runs our checks and sends our hello. */
  async tlsReady(): Promise<void> {
    if (this.#state !== "tls") return;
    this.#state = "verifying";
    try {
      const ctx = this.#ctx;
      const checked = await checkTlsPeer(
        this.#socket,
        this.#role,
        ctx.identity,
        ctx.trust,
        this.#expectedName,
      );
      if (this.#state !== "verifying") return; // closed meanwhile
      this.peer = checked.peer;
      this.#checked = checked;
      this.#ours = buildHello(
        ctx.identity,
        ctx.signingKey,
        this.#role,
        checked,
        ctx.features,
        ctx.instance,
      );
      this.#sendInternal(FrameType.Hello, this.#ours.payload);
      this.#state = "hello";
      const early = this.#early;
      this.#early = [];
      for (const chunk of early) {
        this.#decode(chunk);
        if (this.#is("closed")) return;
      }
    } catch (e) {
      this.#failWith(e);
    }
  }

  #onHello(payload: Uint8Array): void {
    const { hello, channelSecret } = acceptHello(payload, this.#role, this.#checked!, this.#ours!);
    this.channelSecret = channelSecret;
    this.#ours = undefined;
    this.#open(hello);
  }

  #open(hello: Hello): void {
    const ctx = this.#ctx;
    this.peerFeatures = hello.features;
    this.peerInstance = hello.instance.toHex();
    if (this.#handshakeTimer !== undefined) ctx.clock.clearTimer(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    this.#state = "open";
    this.#openedAt = ctx.clock.now();
    const ping = new Uint8Array(4);
    this.#liveness = new Liveness(
      ctx.clock,
      (seq) => {
        if (Date.now() > this.peer.notAfter.getTime()) {
          this.close("peer certificate expired", "certificate");
          return;
        }
        new DataView(ping.buffer).setUint32(0, seq);
        this.#sendInternal(FrameType.Ping, ping);
      },
      (missed) => this.close(`peer missed ${missed} pings in a row`, "dead"),
      ctx.liveness,
    );
    ctx.onOpen(this);
    if (this.#state === "open") this.#liveness.start();
  }

  /** Queues any frame type; on control backlog overflow closes the session. */
  #sendInternal(type: number, payload: Uint8Array): boolean {
    if (!this.#queue.enqueueControl(type, payload)) {
      if (this.#state !== "closed") {
        this.#fail("control-backlog", "peer does not read: control backlog limit exceeded");
      }
      return false;
    }
    this.#counters.framesOut++;
    this.#counters.bytesOut += FRAME_HEADER_LEN + payload.length;
    return true;
  }

  #onData(chunk: Uint8Array): void {
    this.#counters.bytesIn += chunk.length;
    switch (this.#state) {
      case "tls":
      case "verifying":
        // The peer's hello may arrive while our checks run: hold it, bounded.
        this.#earlyBytes += chunk.length;
        if (this.#earlyBytes > FRAME_HEADER_LEN + MAX_HELLO_LEN) {
          this.#fail("malformed-hello", "too much data before the hello");
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

  #decode(chunk: Uint8Array): void {
    try {
      this.#decoder.push(chunk, this.#sink);
    } catch (e) {
      if (e instanceof FrameError) this.#fail("oversize-frame", e.message);
      else this.#failWith(e);
    }
  }

  readonly #sink: FrameSink = {
    onFrame: (type, payload) => this.#onFrame(type, payload),
    onChunkEnd: () => this.#deliverPackets(),
  };

  #onFrame(type: number, payload: Uint8Array): boolean {
    this.#counters.framesIn++;
    if (this.#state === "hello") {
      if (type !== FrameType.Hello) {
        throw new SessionError(
          "malformed-hello",
          `expected a hello, got a frame of type ${frameTypeName(type)}`,
        );
      }
      this.#onHello(payload);
      return this.#is("open");
    }
    if (this.#state !== "open") return false;
    const c = this.#counters;
    switch (type) {
      case FrameType.IpPacket:
      case FrameType.IpPacketVnet:
        c.packetsIn++;
        pushPacket(this.#packets, payload, type === FrameType.IpPacketVnet);
        return true;
      case FrameType.Ping:
        if (payload.length !== 4) throw this.#malformed("ping", payload.length);
        this.#sendInternal(FrameType.Pong, payload);
        return this.#state === "open";
      case FrameType.Pong:
        if (payload.length !== 4) throw this.#malformed("pong", payload.length);
        this.#liveness?.onPong(new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0));
        return true;
      case FrameType.Close: {
        // The peer's words go into our logs: no control characters (no forged log lines).
        const text = new TextDecoder().decode(payload.subarray(0, MAX_CLOSE_REASON))
          .replace(/[\p{Cc}\u2028\u2029]/gu, "?");
        this.#deliverPackets();
        this.#fail("peer-closed", `peer closed the session: ${text}`);
        return false;
      }
      case FrameType.Hello:
        throw new SessionError("malformed-frame", "unexpected second hello");
      default:
        if (CONTROL_TYPES.has(type)) {
          this.#deliverPackets();
          c.controlIn++;
          this.#ctx.onControl(this, type, payload);
          return this.#state === "open";
        }
        c.unknownIn++;
        return true;
    }
  }

  #malformed(what: string, len: number): SessionError {
    return new SessionError("malformed-frame", `${what} frame of ${len} bytes (need 4)`);
  }

  #deliverPackets(): void {
    const batch = this.#packets;
    if (batch.count === 0) return;
    try {
      if (this.#state === "open") this.#ctx.onPackets(this, batch);
    } finally {
      batch.bufs.fill(NO_PACKET, 0, batch.count); // views into the chunk: do not pin it
      batch.count = 0;
    }
  }

  #onSocketError(e: Error): void {
    const code = (e as { code?: string }).code ?? "";
    const early = this.#state === "tls";
    if (early && this.#role === "dialer" && CONNECT_ERRORS.test(code)) {
      this.#fail("connect-failed", `cannot connect: ${e.message}`);
    } else if (early) {
      this.#fail("tls-error", `TLS handshake failed: ${e.message}`);
    } else {
      this.#fail("connection-lost", `connection error: ${e.message}`);
    }
  }

  #failWith(e: unknown): void {
    if (e instanceof SessionError) this.#fail(e.reason, e.message);
    else this.#fail("malformed-frame", `unexpected error: ${e instanceof Error ? e.message : e}`);
  }

  /** Ends the session because of a problem: open sessions still get a close frame. */
  #fail(reason: SessionReason, message: string): void {
    if (this.#state === "closed") return;
    if (this.#state === "open" && reason !== "peer-closed" && reason !== "control-backlog") {
      this.close(message, reason);
      return;
    }
    this.#finish(reason, message);
    this.#socket.destroy();
  }

  /** The socket went away underneath us. */
  #terminate(reason: SessionReason, message: string): void {
    if (this.#state === "closed") {
      if (this.#closeTimer !== undefined) this.#ctx.clock.clearTimer(this.#closeTimer);
      this.#closeTimer = undefined;
      return;
    }
    this.#finish(reason, message);
    this.#socket.destroy();
  }

  #finish(reason: SessionReason, message: string): void {
    this.#state = "closed";
    this.#closeReason = message;
    this.#liveness?.stop();
    this.#queue.close();
    this.#early = [];
    this.#ours = undefined;
    this.#packets.count = 0;
    this.#packets.bufs.length = 0;
    if (this.#handshakeTimer !== undefined) this.#ctx.clock.clearTimer(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    try {
      this.#ctx.onClosed(this, reason, message);
    } catch (e) {
      log.error("onClosed handler threw: {error}", { error: e });
    }
  }

  /** Why the session closed (undefined while it is not closed). */
  get closeReason(): string | undefined {
    return this.#closeReason;
  }
}
