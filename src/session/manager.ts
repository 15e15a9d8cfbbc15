/**
 * The session manager: listens for peers, dials configured peers (with backoff), keeps one
 * session per peer, and reports sessions, control frames and packets to the node.
 *
 * One session per pair: a peer is a node name of our CA, or a pinned external certificate
 * (`sessionKeyOf`), so two certificates under one name still make one peer. When two
 * authenticated connections to the same peer exist, both
 * ends keep the same one — the newer if the peer restarted (its hello instance changed) or
 * if the same side dialled both, otherwise the one dialled by the lower PeerID.
 * @module
 */
import net from "node:net";
import tls from "node:tls";
import type { KeyObject } from "node:crypto";
import { getLogger } from "@logtape/logtape";
import type { PacketBatch } from "../net/packet_batch.ts";
import { type NodeIdentity, type PeerId, sessionKeyOf, type TrustStore } from "../pki/mod.ts";
import { Backoff, type BackoffOptions } from "./backoff.ts";
import { type Clock, realClock, type TimerHandle } from "./clock.ts";
import type { SessionReason } from "./errors.ts";
import { signingKeyOf } from "./handshake.ts";
import { Feature } from "./hello.ts";
import type { LivenessOptions } from "./liveness.ts";
import { RateLimit } from "./rate_limit.ts";
import type { SendQueueOptions } from "./send_queue.ts";
import { type Endpoint, Session, type SessionContext } from "./session.ts";

const log = getLogger(["vmesh", "session"]);

/** A configured peer: where to dial and the name its certificate must carry. */
export interface PeerConfig {
  addr: Endpoint;
  name: string;
}

/** Event callbacks. Exceptions thrown by them are logged, never break a session. */
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
   * virtio_net_hdr when `batch.vnet[i]`). Borrowed for the call (src/net/packet_batch.ts).
   */
  onPackets?(session: Session, batch: PacketBatch): void;
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
  remote: Endpoint;
  /** For connections we dialled: the configured peer name. */
  dialedName?: string;
}

/** Options of {@link SessionManager}. */
export interface SessionManagerOptions extends SessionHandlers {
  /** This node's certificate and key (from `loadIdentity`). */
  identity: NodeIdentity;
  /** Our CA and pinned external certificates (from `loadTrustStore`). */
  trust: TrustStore;
  /** Where to listen; omit for a node that only dials. Port 0 picks a free port. */
  listen?: Endpoint;
  /** Peers to dial. */
  peers?: PeerConfig[];
  /** Limit for TCP + TLS + checks + hello, ms (default 10000). */
  handshakeTimeoutMs?: number;
  /** Concurrent not-yet-authenticated inbound connections, in total (default 64). */
  maxUnauthenticated?: number;
  /** … and per source address (default 8). */
  maxUnauthenticatedPerAddress?: number;
  /** Ping interval / dead-after / window (defaults 1000 ms, 3, 10). */
  ping?: LivenessOptions;
  /** Reconnect backoff (defaults 1 s doubling to 60 s, reset after 30 s up). */
  backoff?: BackoffOptions;
  /** Send backlog limits (defaults 1 MiB for packets, 16 MiB for control frames). */
  queue?: SendQueueOptions;
  /** Feature bits to announce (default VnetHdr | UdpChannel). */
  features?: number;
  /** Time source (tests). */
  clock?: Clock;
  /** Random source for backoff jitter (tests). */
  random?: () => number;
}

interface PeerSlot {
  config: PeerConfig;
  backoff: Backoff;
  timer: TimerHandle | undefined;
  dialing: Session | undefined;
  /** Last state logged, so that each change is logged once. */
  logged: string;
}

function slotKey(p: PeerConfig): string {
  return `${p.name}|${p.addr.host}|${p.addr.port}`;
}

/**
 * Runs all sessions of a node.
 * @example
 * ```ts
 * const mgr = new SessionManager({
 *   identity, trust,
 *   listen: { host: "::", port: 3000 },
 *   peers: [{ addr: { host: "192.0.2.7", port: 3000 }, name: "b.vnet.example.com" }],
 *   onSessionUp: (s) => console.log("up", s.peer.name),
 *   onPackets: (s, batch) => forwarder.fromPeer(s.peer.id, batch),
 * });
 * await mgr.start();
 * ```
 */
export class SessionManager implements SessionHandlers {
  onSessionUp?: (session: Session) => void;
  onSessionDown?: (session: Session, reason: string) => void;
  onControl?: (session: Session, type: number, payload: Uint8Array) => void;
  onPackets?: (session: Session, batch: PacketBatch) => void;
  onHandshakeFailure?: (failure: HandshakeFailure) => void;

  readonly #opts: SessionManagerOptions;
  readonly #clock: Clock;
  readonly #ctx: SessionContext;
  readonly #byId = new Map<PeerId, Session>();
  readonly #up = new Set<Session>();
  readonly #all = new Set<Session>();
  readonly #slots = new Map<string, PeerSlot>();
  readonly #unauth = new Map<Session, string>();
  readonly #unauthPerAddr = new Map<string, number>();
  readonly #failures = new Map<string, number>();
  readonly #refusalLog: RateLimit;
  #server: net.Server | undefined;
  #secureContext: tls.SecureContext | undefined;
  #listenAddr: Endpoint | undefined;
  #started = false;
  #stopped = false;

  /**
   * @param opts identity, trust, listen address, peers, limits and handlers
   */
  constructor(opts: SessionManagerOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
    this.#refusalLog = new RateLimit(this.#clock);
    this.onSessionUp = opts.onSessionUp;
    this.onSessionDown = opts.onSessionDown;
    this.onControl = opts.onControl;
    this.onPackets = opts.onPackets;
    this.onHandshakeFailure = opts.onHandshakeFailure;
    const signingKey: KeyObject = signingKeyOf(opts.identity.keyPem);
    this.#ctx = {
      identity: opts.identity,
      signingKey,
      trust: opts.trust,
      clock: this.#clock,
      instance: crypto.getRandomValues(new Uint8Array(8)),
      features: opts.features ?? (Feature.VnetHdr | Feature.UdpChannel),
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 10_000,
      liveness: opts.ping ?? {},
      queue: opts.queue ?? {},
      onOpen: (s) => this.#onOpen(s),
      onClosed: (s, reason, message) => this.#onClosed(s, reason, message),
      onControl: (s, type, payload) =>
        this.#call("onControl", () => this.onControl?.(s, type, payload)),
      onPackets: (s, b) => this.#call("onPackets", () => this.onPackets?.(s, b)),
    };
    for (const p of opts.peers ?? []) this.#addSlot(p);
  }

  /**
   * Starts listening (when configured) and dialling the configured peers.
   * @throws when the listen address cannot be bound
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#secureContext = tls.createSecureContext({
      cert: this.#opts.identity.certPem,
      key: this.#opts.identity.keyPem,
      minVersion: "TLSv1.3",
    });
    if (this.#opts.listen) await this.#listen(this.#opts.listen);
    for (const slot of this.#slots.values()) this.#dial(slot);
  }

  /** The bound listen address (with the real port), or undefined when not listening. */
  listenAddr(): Endpoint | undefined {
    return this.#listenAddr;
  }

  /** Open sessions, one per peer. */
  sessions(): Session[] {
    return [...this.#byId.values()];
  }

  /** The open session with a peer, if any. */
  session(id: PeerId): Session | undefined {
    return this.#byId.get(id);
  }

  /** Handshake failures (and refused connections) by reason since start. */
  handshakeFailures(): Record<string, number> {
    return Object.fromEntries(this.#failures);
  }

  /** Connections accepted but not yet authenticated. */
  get unauthenticated(): number {
    return this.#unauth.size;
  }

  /**
   * Replaces the configured peer list (SIGHUP): new peers are dialled, removed peers stop
   * being dialled and sessions we dialled to them are closed; everything else is untouched.
   */
  updatePeers(peers: PeerConfig[]): void {
    const wanted = new Map(peers.map((p) => [slotKey(p), p]));
    for (const [key, slot] of this.#slots) {
      if (wanted.has(key)) continue;
      this.#slots.delete(key);
      if (slot.timer !== undefined) this.#clock.clearTimer(slot.timer);
      slot.dialing?.close("peer removed from configuration");
      for (const s of this.#byId.values()) {
        if (s.dialedByUs && s.peer.name === slot.config.name && !this.#hasSlotFor(s.peer.name)) {
          s.close("peer removed from configuration");
        }
      }
      log.info("peer {name} at {addr} removed from configuration", {
        name: slot.config.name,
        addr: `${slot.config.addr.host}:${slot.config.addr.port}`,
      });
    }
    for (const [key, p] of wanted) {
      if (this.#slots.has(key)) continue;
      const slot = this.#addSlot(p);
      if (this.#started && !this.#stopped) this.#dial(slot);
    }
  }

  /**
   * Closes every session with a close frame carrying `reason`, stops listening and dialling.
   * Resolves when the listener is closed and all sockets are gone (or after 2 s).
   */
  async stop(reason = "node shutting down"): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const slot of this.#slots.values()) {
      if (slot.timer !== undefined) this.#clock.clearTimer(slot.timer);
      slot.timer = undefined;
    }
    const closing = [...this.#all];
    for (const s of closing) s.close(reason);
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #addSlot(p: PeerConfig): PeerSlot {
    const slot: PeerSlot = {
      config: { name: p.name, addr: { host: p.addr.host, port: p.addr.port } },
      backoff: new Backoff(this.#opts.backoff, this.#opts.random),
      timer: undefined,
      dialing: undefined,
      logged: "",
    };
    this.#slots.set(slotKey(p), slot);
    return slot;
  }

  #hasSlotFor(name: string): boolean {
    for (const s of this.#slots.values()) if (s.config.name === name) return true;
    return false;
  }

  #hasSessionNamed(name: string): boolean {
    for (const s of this.#byId.values()) if (s.peer.name === name) return true;
    return false;
  }

  async #listen(at: Endpoint): Promise<void> {
    const server = net.createServer((raw) => this.#accept(raw));
    server.on("error", (e) => log.error("listener error: {error}", { error: e }));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: at.host, port: at.port }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const a = server.address() as net.AddressInfo;
    this.#server = server;
    this.#listenAddr = { host: a.address, port: a.port };
    log.info("listening on {host} port {port}", { host: a.address, port: a.port });
  }

  #accept(raw: net.Socket): void {
    const host = raw.remoteAddress ?? "unknown";
    const remote = { host, port: raw.remotePort ?? 0 };
    if (this.#stopped) {
      raw.destroy();
      return;
    }
    const perAddr = this.#unauthPerAddr.get(host) ?? 0;
    const maxTotal = this.#opts.maxUnauthenticated ?? 64;
    const maxPer = this.#opts.maxUnauthenticatedPerAddress ?? 8;
    if (this.#unauth.size >= maxTotal || perAddr >= maxPer) {
      raw.destroy();
      this.#countFailure("unauthenticated-limit");
      const failure: HandshakeFailure = {
        reason: "unauthenticated-limit",
        message: "too many unauthenticated connections",
        remote,
      };
      this.#call("onHandshakeFailure", () => this.onHandshakeFailure?.(failure));
      this.#logRefusal(
        `refused connection from ${host}: too many unauthenticated connections ` +
          `(${this.#unauth.size}/${maxTotal} in total, ${perAddr}/${maxPer} from this address)`,
      );
      return;
    }
    raw.on("error", () => {}); // reported through the TLS socket
    const socket = new tls.TLSSocket(raw, {
      isServer: true,
      secureContext: this.#secureContext,
      requestCert: true,
      rejectUnauthorized: false,
    });
    const session = new Session(socket, this.#ctx, "listener", remote);
    this.#all.add(session);
    this.#unauth.set(session, host);
    this.#unauthPerAddr.set(host, perAddr + 1);
    socket.once("secure", () => void session.tlsReady());
  }

  #dial(slot: PeerSlot): void {
    slot.timer = undefined;
    if (this.#stopped || !this.#started || slot.dialing) return;
    if (this.#slots.get(slotKey(slot.config)) !== slot) return; // removed
    if (this.#hasSessionNamed(slot.config.name)) return;
    const { host, port } = slot.config.addr;
    const socket = tls.connect({
      host,
      port,
      cert: this.#opts.identity.certPem,
      key: this.#opts.identity.keyPem,
      rejectUnauthorized: false,
      minVersion: "TLSv1.3",
    });
    const session = new Session(socket, this.#ctx, "dialer", { host, port }, slot.config.name);
    slot.dialing = session;
    this.#all.add(session);
    socket.once("secureConnect", () => void session.tlsReady());
  }

  #scheduleDial(slot: PeerSlot): void {
    if (this.#stopped || slot.timer !== undefined || slot.dialing) return;
    if (this.#slots.get(slotKey(slot.config)) !== slot) return;
    const delay = slot.backoff.next();
    slot.timer = this.#clock.setTimer(() => this.#dial(slot), delay);
  }

  #slotOf(s: Session): PeerSlot | undefined {
    for (const slot of this.#slots.values()) if (slot.dialing === s) return slot;
    return undefined;
  }

  #releaseUnauth(s: Session): void {
    const host = this.#unauth.get(s);
    if (host === undefined) return;
    this.#unauth.delete(s);
    const n = (this.#unauthPerAddr.get(host) ?? 1) - 1;
    if (n <= 0) this.#unauthPerAddr.delete(host);
    else this.#unauthPerAddr.set(host, n);
  }

  /** Both ends pick the same survivor of two sessions with one peer. */
  #prefer(existing: Session, fresh: Session): Session {
    if (existing.peerInstance !== fresh.peerInstance) return fresh; // the peer restarted
    if (existing.dialedByUs === fresh.dialedByUs) return fresh; // the older one is stale
    const ownId = this.#opts.identity.id;
    const lowerDials = ownId < fresh.peer.id ? "us" : "them";
    return (fresh.dialedByUs ? "us" : "them") === lowerDials ? fresh : existing;
  }

  #onOpen(s: Session): void {
    this.#releaseUnauth(s);
    const slot = this.#slotOf(s);
    if (slot) {
      slot.dialing = undefined;
      slot.logged = "";
    }
    if (this.#stopped) {
      s.close("node shutting down");
      return;
    }
    // One session per node name (ours) or per pinned certificate (external), whatever the
    // encoding of the certificate: see sessionKeyOf.
    const key = sessionKeyOf(s.peer);
    const existing = this.#byId.get(s.peer.id) ??
      [...this.#byId.values()].find((o) => sessionKeyOf(o.peer) === key);
    if (existing) {
      const keep = this.#prefer(existing, s);
      if (keep === existing) {
        log.debug("dropping duplicate session with {peer}", { peer: s.label });
        s.close("duplicate session (keeping the one dialled by the lower ID)", "duplicate");
        return;
      }
      this.#byId.delete(existing.peer.id);
      this.#byId.set(s.peer.id, s);
      existing.close("duplicate session (replaced)", "duplicate");
    }
    this.#byId.set(s.peer.id, s);
    this.#up.add(s);
    log.info("session up with {peer} ({dir})", {
      peer: s.label,
      dir: s.dialedByUs ? "dialled" : "accepted",
    });
    this.#call("onSessionUp", () => this.onSessionUp?.(s));
  }

  #onClosed(s: Session, reason: SessionReason, message: string): void {
    this.#all.delete(s);
    this.#releaseUnauth(s);
    const slot = this.#slotOf(s);
    if (slot) slot.dialing = undefined;
    if (this.#up.delete(s)) {
      if (this.#byId.get(s.peer.id) === s) this.#byId.delete(s.peer.id);
      const uptime = s.stats().uptimeMs;
      log.info("session down with {peer}: {message}", { peer: s.label, message });
      this.#call("onSessionDown", () => this.onSessionDown?.(s, message));
      for (const other of this.#slots.values()) {
        if (other.config.name !== s.peer.name) continue;
        other.backoff.sessionEnded(uptime);
        this.#scheduleDial(other);
      }
      return;
    }
    if (reason === "duplicate" || this.#stopped) return;
    this.#countFailure(reason);
    const failure: HandshakeFailure = { reason, message, remote: s.remoteAddr };
    if (slot) failure.dialedName = slot.config.name;
    this.#call("onHandshakeFailure", () => this.onHandshakeFailure?.(failure));
    if (slot) {
      const state = `failing:${reason}`;
      if (slot.logged !== state && !this.#stopped) {
        slot.logged = state;
        log.warn("cannot establish a session with {name} at {addr}: {message}; retrying", {
          name: slot.config.name,
          addr: `${slot.config.addr.host}:${slot.config.addr.port}`,
          message,
        });
      }
      this.#scheduleDial(slot);
    } else if (!this.#stopped) {
      this.#logRefusal(`refused connection from ${s.label}: ${message}`);
    }
  }

  #countFailure(reason: string): void {
    this.#failures.set(reason, (this.#failures.get(reason) ?? 0) + 1);
  }

  #logRefusal(message: string): void {
    const suppressed = this.#refusalLog.take();
    if (suppressed < 0) return;
    log.warn(suppressed > 0 ? `${message} (${suppressed} similar messages suppressed)` : message);
  }

  #call(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      log.error("{what} handler threw: {error}", { what, error: e });
    }
  }
}
