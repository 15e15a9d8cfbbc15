/**
 * The session manager: listens for peers ({@link Acceptor}), dials configured peers with
 * backoff ({@link Dialer}), keeps one session per peer ({@link SessionRegistry}, with the
 * duplicate rule `preferSession`), and reports sessions, control frames, packets and RTT
 * samples to the node. A peer is a node name of our CA, or a pinned external certificate
 * (`sessionKeyOf`), so two certificates under one name still make one peer.
 * @module
 */
import { type HostPort, type PacketBatch, sameName } from "../net/mod.ts";
import type { KeyObject } from "node:crypto";
import { getLogger } from "@logtape/logtape";
import {
  type NodeIdentity,
  type PeerId,
  sessionKeyOf,
  type TrustStore,
  type VerifiedPeer,
} from "../pki/mod.ts";
import { Acceptor } from "./accept.ts";
import type { BackoffOptions } from "./backoff.ts";
import { type Clock, RateLimit, realClock } from "../clock/mod.ts";
import type { SessionContext } from "./context.ts";
import { Dialer } from "./dial.ts";
import type { SessionReason } from "./errors.ts";
import { signingKeyOf } from "./handshake.ts";
import type { DialTarget, HandshakeFailure, SessionHandlers } from "./handlers.ts";
import { Feature } from "./hello.ts";
import { DEFAULT_PING_INTERVAL_MS, type LivenessOptions } from "./liveness.ts";
import { PingWheel } from "./ping_wheel.ts";
import { SessionRegistry } from "./registry.ts";
import type { SendQueueOptions } from "./send_queue.ts";
import { Session } from "./session.ts";
import { dialTls, serverContext } from "./tls_link.ts";

export type { DialTarget, HandshakeFailure, SessionHandlers } from "./handlers.ts";

const log = getLogger(["vmesh", "session"]);

/** Options of {@link SessionManager}. */
export interface SessionManagerOptions extends SessionHandlers {
  /** This node's certificate and key (from `loadIdentity`). */
  identity: NodeIdentity;
  /** Our CA and pinned external certificates (from `loadTrustStore`). */
  trust: TrustStore;
  /** Where to listen; omit for a node that only dials. Port 0 picks a free port. */
  listen?: HostPort;
  /** Peers to dial. */
  peers?: DialTarget[];
  /** Limit for TCP + TLS + checks + hello, ms (default 10000). */
  handshakeTimeoutMs?: number;
  /** Concurrent not-yet-authenticated inbound connections, in total (default 64). */
  maxUnauthenticated?: number;
  /** … and per source address (default 8). */
  maxUnauthenticatedPerAddress?: number;
  /** Ping interval / dead-after / window (defaults 1000 ms, 3, 10). */
  ping?: LivenessOptions;
  /**
   * Reconnect backoff (defaults 100 ms doubling to 60 s, reset after 30 s up; after the
   * start and after a lost session, 30 retries at most 1 s apart).
   */
  backoff?: BackoffOptions;
  /** Send backlog limits (defaults 1 MiB for packets, 16 MiB for control frames). */
  queue?: SendQueueOptions;
  /** Feature bits to announce (default VnetHdr | UdpChannel). */
  features?: number;
  /** Time source (tests). */
  clock?: Clock;
  /** Random source for backoff jitter (tests). */
  random?: () => number;
  /**
   * Refuses a peer whose certificate passed our checks (reason "revoked"): asked after the TLS
   * handshake and again as the session opens. Returns why, or undefined to accept.
   */
  refusePeer?: (peer: VerifiedPeer, keySha256: string) => string | undefined;
  /** Why not to dial a configured peer now (revoked), or undefined to dial it. */
  holdDial?: (name: string) => string | undefined;
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
 *   onRtt: (s, ms) => router.updateLatency(s.peer.id, ms),
 * });
 * await mgr.start();
 * ```
 */
export class SessionManager implements SessionHandlers {
  onSessionUp?: (session: Session) => void;
  onSessionDown?: (session: Session, reason: string) => void;
  onControl?: (session: Session, type: number, payload: Uint8Array) => void;
  onPackets?: (session: Session, batch: PacketBatch) => void;
  onRtt?: (session: Session, rttMs: number) => void;
  onHandshakeFailure?: (failure: HandshakeFailure) => void;

  readonly #opts: SessionManagerOptions;
  readonly #clock: Clock;
  readonly #ctx: SessionContext;
  readonly #registry: SessionRegistry<Session>;
  readonly #dialer: Dialer;
  readonly #all = new Set<Session>();
  readonly #failures = new Map<SessionReason, number>();
  readonly #refusalLog: RateLimit;
  #acceptor: Acceptor | undefined;
  #listenAddr: HostPort | undefined;
  #started = false;
  #stopped = false;

  /**
   * @param opts identity, trust, listen address, peers, limits and handlers
   */
  constructor(opts: SessionManagerOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
    this.#refusalLog = new RateLimit(this.#clock, 2, 20);
    // One session per node name (ours) or per pinned certificate (external), whatever the
    // encoding of the certificate: see sessionKeyOf.
    this.#registry = new SessionRegistry(opts.identity.id, (s) => sessionKeyOf(s.peer));
    this.onSessionUp = opts.onSessionUp;
    this.onSessionDown = opts.onSessionDown;
    this.onControl = opts.onControl;
    this.onPackets = opts.onPackets;
    this.onRtt = opts.onRtt;
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
      // One timer for the pings and deadlines of all sessions (ping_wheel.ts).
      liveness: {
        ...opts.ping,
        wheel: new PingWheel(this.#clock, opts.ping?.intervalMs ?? DEFAULT_PING_INTERVAL_MS),
      },
      queue: opts.queue ?? {},
      refusePeer: opts.refusePeer,
      onOpen: (s) => this.#onOpen(s),
      onClosed: (s, reason, message) => this.#onClosed(s, reason, message),
      // Errors pass through: the session tells a peer's fault (SessionError) from our bug.
      onControl: (s, type, payload) => this.onControl?.(s, type, payload),
      onPackets: (s, batch) => this.onPackets?.(s, batch),
      onRtt: (s, ms) => this.onRtt?.(s, ms),
    };
    this.#dialer = new Dialer({
      clock: this.#clock,
      backoff: opts.backoff,
      random: opts.random,
      connect: (p) =>
        this.#track(
          new Session(dialTls(p.addr.host, p.addr.port, opts.identity), this.#ctx, "dialer", {
            ...p.addr,
          }, p.name),
        ),
      connected: (name) => this.#registry.hasName(name),
      hold: opts.holdDial,
    }, opts.peers ?? []);
  }

  /**
   * Starts listening (when configured) and dialling the configured peers.
   * @throws when the listen address cannot be bound
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    if (this.#opts.listen) {
      const acceptor = new Acceptor({
        maxUnauthenticated: this.#opts.maxUnauthenticated,
        maxUnauthenticatedPerAddress: this.#opts.maxUnauthenticatedPerAddress,
        secureContext: serverContext(this.#opts.identity),
        session: (link, remote) => this.#track(new Session(link, this.#ctx, "listener", remote)),
        onRefused: (remote, message) => this.#refused(remote, message),
      });
      this.#listenAddr = await acceptor.listen(this.#opts.listen);
      this.#acceptor = acceptor;
      if (this.#stopped) await acceptor.close(); // stop() ran while we were binding
    }
    if (!this.#stopped) this.#dialer.start();
  }

  /** The bound listen address (with the real port), or undefined when not listening. */
  listenAddr(): HostPort | undefined {
    return this.#listenAddr;
  }

  /** Open sessions, one per peer. */
  sessions(): Session[] {
    return this.#registry.sessions();
  }

  /** The open session with a peer, if any. */
  session(id: PeerId): Session | undefined {
    return this.#registry.get(id);
  }

  /** Configured peers not dialled (held back by `holdDial`) and why, by name. */
  heldPeers(): Map<string, string> {
    return this.#dialer.heldPeers();
  }

  /**
   * Applies a change of what `refusePeer` and `holdDial` say: every open session `refusePeer`
   * now refuses closes at once with reason "revoked" (a close frame, so the peer learns why),
   * held-back peers are looked at again.
   * @returns the sessions closed
   */
  recheckPeers(): Session[] {
    const closed: Session[] = [];
    const refuse = this.#opts.refusePeer;
    if (refuse !== undefined) {
      for (const s of this.#registry.sessions()) {
        const why = refuse(s.peer, s.peerKeySha256);
        if (why === undefined) continue;
        log.warn("closing the session with {peer}: {why}", { peer: s.label, why });
        s.close(why, "revoked");
        closed.push(s);
      }
    }
    if (!this.#stopped) this.#dialer.recheckHeld();
    return closed;
  }

  /** Handshake failures (and refused connections) by reason since start. */
  handshakeFailures(): Record<string, number> {
    return Object.fromEntries(this.#failures);
  }

  /** Connections accepted but not yet authenticated. */
  get unauthenticated(): number {
    return this.#acceptor?.unauthenticated ?? 0;
  }

  /**
   * Replaces the configured peer list (SIGHUP): new peers are dialled, removed peers stop
   * being dialled and sessions we dialled to them are closed; everything else is untouched.
   */
  updatePeers(peers: DialTarget[]): void {
    if (this.#stopped) return;
    for (const name of this.#dialer.update(peers)) {
      for (const s of this.#registry.sessions()) {
        if (s.dialedByUs && sameName(s.peer.name, name)) s.close("peer removed from configuration");
      }
    }
  }

  /**
   * Closes every session with a close frame carrying `reason`, stops listening and dialling.
   * Resolves once the listener has closed; net.Server waits for the connections it accepted
   * to end, and each closing session destroys its connection at the latest
   * `CLOSE_GRACE_MS` (1 s) after its close frame, so this takes at most about 1 s.
   * Sessions we dialled are closed the same way but not awaited: their connections may
   * still be draining their close frame (for up to 1 s) when this resolves.
   */
  async stop(reason = "node shutting down"): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#dialer.stop();
    for (const s of [...this.#all]) s.close(reason);
    await this.#acceptor?.close();
  }

  #track(s: Session): Session {
    if (s.state !== "closed") this.#all.add(s);
    return s;
  }

  #onOpen(s: Session): void {
    this.#acceptor?.release(s);
    this.#dialer.opened(s);
    if (this.#stopped) {
      s.close("node shutting down");
      return;
    }
    // The lists may have changed while the hellos were exchanged.
    const revoked = this.#opts.refusePeer?.(s.peer, s.peerKeySha256);
    if (revoked !== undefined) {
      s.close(revoked, "revoked");
      // Its dial slot was freed above: schedule the next attempt (which the hold may skip).
      if (s.dialedByUs) this.#dialer.sessionEnded(s.peer.name, 0);
      return;
    }
    const { admitted, loser } = this.#registry.admit(s);
    if (!admitted) {
      log.debug("dropping duplicate session with {peer}", { peer: s.label });
      s.close("duplicate session (keeping the one dialled by the lower ID)", "duplicate");
      return;
    }
    loser?.close("duplicate session (replaced)", "duplicate");
    log.info("session up with {peer} ({dir})", {
      peer: s.label,
      dir: s.dialedByUs ? "dialled" : "accepted",
    });
    this.#call("onSessionUp", () => this.onSessionUp?.(s));
  }

  #onClosed(s: Session, reason: SessionReason, message: string): void {
    this.#all.delete(s);
    this.#acceptor?.release(s);
    if (this.#registry.release(s)) {
      log.info("session down with {peer}: {message}", { peer: s.label, message });
      this.#call("onSessionDown", () => this.onSessionDown?.(s, message));
      if (!this.#stopped) this.#dialer.sessionEnded(s.peer.name, s.stats().uptimeMs);
      return;
    }
    const dialedName = this.#dialer.failed(s, reason, message);
    if (reason === "duplicate" || this.#stopped) return;
    this.#countFailure(reason);
    const failure: HandshakeFailure = { reason, message, remote: s.remoteAddr };
    if (dialedName !== undefined) failure.dialedName = dialedName;
    this.#call("onHandshakeFailure", () => this.onHandshakeFailure?.(failure));
    if (dialedName === undefined) {
      this.#logRefusal(`refused connection from ${s.label}: ${message}`);
    }
  }

  #refused(remote: HostPort, message: string): void {
    this.#countFailure("unauthenticated-limit");
    const failure: HandshakeFailure = { reason: "unauthenticated-limit", message, remote };
    this.#call("onHandshakeFailure", () => this.onHandshakeFailure?.(failure));
    this.#logRefusal(`refused connection from ${remote.host}: ${message}`);
  }

  #countFailure(reason: SessionReason): void {
    this.#failures.set(reason, (this.#failures.get(reason) ?? 0) + 1);
  }

  #logRefusal(message: string): void {
    if (!this.#refusalLog.take()) return;
    const suppressed = this.#refusalLog.suppressed;
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
