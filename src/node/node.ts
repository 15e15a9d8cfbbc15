/**
 * A running vmesh node: the wiring of vifs, forwarder, routing, sessions and DC sync.
 *
 * Event flow:
 * - vif read batches → {@link Forwarder.fromVif}; the packets of a session's TLS chunk or of
 *   its UDP channel's receive batch → `fromPeer(peerId, batch)`.
 * - session up/down, RTT samples (one event per answered ping), route announce/withdraw
 *   frames → {@link Router}, which
 *   updates the FIB (shared with the forwarder, mutated in place) at once; what neighbours
 *   must hear is sent by `flush()` within {@link FLUSH_DELAY_MS}.
 * - DC offers, DCs and DC chunks → {@link DcGossip}, which hands whole DCs to {@link DcSync};
 *   an accepted DC re-filters routes and is pushed to every other peer.
 * - the hops of announced routes → {@link NodeInfoGossip}, which asks the announcing peer for
 *   the certificates of nodes the node book lacks; node-info frames → the book.
 * - an accepted DC's revocation lists → {@link NodeRevocation} (sessions, dials, routes, book).
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { type Clock, every, realClock, type TimerHandle } from "../clock/mod.ts";
import type { LocalAnnouncement, NodeConfig, PeerConfig } from "../config/mod.ts";
import { Forwarder } from "../dataplane/mod.ts";
import { type VerifiedDc, verifyDc } from "../dc/mod.ts";
import { type Ipv6Prefix, parseIpv6, prefixKey, sameName } from "../net/mod.ts";
import type { NodeIdentity, TrustStore } from "../pki/mod.ts";
import {
  decodeAnnounce,
  decodeWithdraw,
  encodeAnnounce,
  encodeWithdraw,
  type Route,
  Router,
} from "../routing/mod.ts";
import { NodeBook } from "../names/mod.ts";
import { Feature, FrameType, type Session, SessionManager } from "../session/mod.ts";
import type { Vif } from "../vif/mod.ts";
import { DcGossip } from "./dc_gossip.ts";
import { DcSync } from "./dc_sync.ts";
import { NodeInfoGossip } from "./node_info_gossip.ts";
import { NodeRevocation } from "./revocation.ts";
import { peerDc, peerInput, peerNodeInfo, peerSyntax } from "./peer_input.ts";
import { PeerTrafficTotals, sessionTraffic } from "./peer_traffic.ts";
import { UDP_MAINTAIN_MS, UdpLinks } from "./udp_links.ts";
import { pumpVif } from "./vif_pump.ts";

const log = getLogger(["vmesh", "node"]);

/** Batching window for route announcements and withdrawals. */
export const FLUSH_DELAY_MS = 10;
/**
 * (Prefix, neighbour) pairs synced per route flush: a change of 100 000 routes goes out in
 * slices of a few milliseconds each, one per batching window, and the packet path runs between.
 */
export const FLUSH_SLICE = 4096;
/**
 * Local announcements added or removed per event-loop task: a reload that adds 100 000 of them
 * (a transit site) runs in slices, so sessions keep answering pings and packets keep flowing.
 */
export const ANNOUNCE_SLICE = 512;
/** Periodic DC re-offer (covers anything missed). */
const DC_REOFFER_MS = 30_000;
/** How often DC transfers, the DC's expiry and `state_dir/dc.bin` are checked. */
const DC_CHECK_MS = 10_000;
/** How often the node book drops expired and unused entries. */
const NODE_BOOK_SWEEP_MS = 10_000;
/** Offset of the node's periodic timers from the clock's grid of full seconds (the pings'). */
const TIMER_PHASE_MS = 500;
/** Latency assumed for a link until its first RTT sample (a few hundred ms at most). */
const INITIAL_LATENCY_MS = 100;

/** Everything a node is built from (see `prepareNode`). */
export interface NodeInputs {
  config: NodeConfig;
  trust: TrustStore;
  identity: NodeIdentity;
}

/** The wiring of one node. Create with the inputs, then {@link start}. */
export class Node {
  readonly forwarder: Forwarder;
  readonly router: Router;
  readonly sessions: SessionManager;
  readonly dc: DcSync<VerifiedDc>;
  readonly dcGossip: DcGossip<VerifiedDc>;
  /** Names of the nodes in this node's routes: the node book and the protocol that fills it. */
  readonly names: NodeInfoGossip;
  /** The DC's revocation lists in force. */
  readonly revocation: NodeRevocation;
  readonly vifs: Map<string, Vif>;
  readonly udp: UdpLinks;
  /** The one clock of this node: router, forwarder, sessions, UDP endpoint and timers use it. */
  readonly clock: Clock;
  /**
   * Traffic of configured peers' ended sessions (the metrics add the open session's), so that
   * per-peer counters only grow while the process runs.
   */
  readonly peerTraffic: PeerTrafficTotals = new PeerTrafficTotals();
  /** When {@link start} ran, on {@link clock}. */
  startedAt = 0;
  #config: NodeConfig;
  readonly #inputs: NodeInputs;
  /** Sessions whose first RTT sample reached the router (it replaced the initial guess). */
  readonly #measured = new WeakSet<Session>();
  #flushTimer: TimerHandle | undefined;
  /** Local announcement changes of reloads not applied yet (in order; see ANNOUNCE_SLICE). */
  #annQueue: (() => void)[] = [];
  #annAt = 0;
  #annTimer: TimerHandle | undefined;
  #flushing = false;
  #timers: (() => void)[] = [];
  #pumps: Promise<void>[] = [];
  #stopping = false;

  /**
   * Builds the wiring; opens nothing (that is {@link start}'s job).
   * @param inputs config, trust store and identity
   * @param vifs the opened vifs by config key (the node closes them on stop)
   * @param clock the node's clock (tests inject one)
   */
  constructor(inputs: NodeInputs, vifs: Map<string, Vif>, clock: Clock = realClock) {
    const { config, identity, trust } = inputs;
    this.#inputs = inputs;
    this.#config = config;
    this.vifs = vifs;
    this.clock = clock;
    this.forwarder = new Forwarder({ routerAddress: routerAddress(config), clock });
    this.router = new Router({
      localId: identity.id,
      localName: identity.name,
      clock,
      hysteresisMs: config.hysteresisMs,
      maxRoutesPerPeer: config.maxRoutesPerPeer,
      maxRoutesPerOrigin: config.maxRoutesPerOrigin,
      externalPeersDefault: config.externalPeersDefault,
    });
    this.forwarder.setFib(this.router.fib);
    this.router.sources.loose = config.sourceValidation === "loose";
    this.forwarder.setSourceCheck(this.router.sources);
    for (const [key, vif] of vifs) this.forwarder.attachVif(key, vif);
    for (const a of config.localAnnouncements) this.#announce(a);
    this.udp = new UdpLinks(
      config.listenAddr,
      identity.id,
      (peerId, batch) => this.forwarder.fromPeer(peerId, batch),
      clock,
    );
    this.dc = new DcSync<VerifiedDc>(
      // An expired DC from a peer or state_dir is accepted: it stays the CA's latest word.
      (raw) => verifyDc(raw, trust, new Date(), { allowExpired: true }),
      `${config.stateDir}/dc.bin`,
      (dc, from) => this.#onDcAccepted(dc, from),
    );
    this.dcGossip = new DcGossip(this.dc, () => clock.now());
    this.names = new NodeInfoGossip(
      new NodeBook({ trust, identity, now: () => clock.now() }),
      clock,
    );
    this.router.nameOf = (id) => this.names.book.get(id)?.name;
    const revocation = new NodeRevocation({
      identity,
      router: this.router,
      book: this.names.book,
      now: () => clock.now(),
      changed: () => this.#scheduleFlush(),
    });
    this.revocation = revocation;
    this.sessions = new SessionManager({
      identity,
      trust,
      listen: config.listenAddr,
      peers: config.peers.map(sessionPeer),
      ping: { intervalMs: config.pingIntervalMs },
      features: Feature.VnetHdr | Feature.UdpChannel | Feature.NodeInfo,
      clock,
      onSessionUp: (s) => this.#onUp(s),
      onSessionDown: (s) => this.#onDown(s),
      onControl: (s, type, payload) => this.#onControl(s, type, payload),
      onPackets: (s, batch) => this.forwarder.fromPeer(s.peer.id, batch),
      onRtt: (s, ms) => this.#onRtt(s, ms),
      refusePeer: (peer, key) => revocation.refusePeer(peer, key),
      holdDial: (name) => revocation.holdDial(name),
    });
    revocation.attach(this.sessions);
  }

  /** The config in force (changes on reload). */
  get config(): NodeConfig {
    return this.#config;
  }

  /** This node's identity. */
  get identity(): NodeIdentity {
    return this.#inputs.identity;
  }

  /** Loads the persisted DC; call before {@link start}. */
  async loadState(): Promise<void> {
    await Deno.mkdir(this.#config.stateDir, { recursive: true, mode: 0o700 });
    await this.dc.loadPersisted();
  }

  /**
   * Opens the UDP endpoint, binds the listener and starts dialling and the timers; the vif
   * pumps start with {@link startForwarding}.
   */
  async start(): Promise<void> {
    this.startedAt = this.clock.now();
    this.udp.start();
    await this.sessions.start();
    // All on one grid, half a second after the pings (which are on the grid's full seconds):
    // an idle node wakes once a second for all of these, and the pings' RTT samples do not
    // include the time the router's tick takes on a large table.
    const c = this.clock;
    const at = (ms: number, what: string, fn: () => void) =>
      every(c, ms, guarded(what, fn), TIMER_PHASE_MS);
    this.#timers.push(
      at(1000, "routing timers", () => this.router.tick()),
      at(DC_REOFFER_MS, "DC re-offer", () => this.dcGossip.offerToAll()),
      at(UDP_MAINTAIN_MS, "UDP channel maintenance", () => this.udp.maintain()),
      at(1000, "node-info requests", () => this.names.tick()),
      at(NODE_BOOK_SWEEP_MS, "node book sweep", () => {
        this.names.sweep(this.router.nodesInPaths());
      }),
      at(DC_CHECK_MS, "DC checks", () => {
        this.dcGossip.tick();
        this.dc.tick().catch((e) => log.error("DC checks failed: {error}", { error: `${e}` }));
      }),
    );
    this.#scheduleFlush();
  }

  /** Starts reading the vifs (after privileges were dropped, if asked). */
  startForwarding(): void {
    for (const [key, vif] of this.vifs) {
      this.#pumps.push(
        pumpVif(key, vif, (batch) => this.forwarder.fromVif(batch)),
      );
    }
  }

  /**
   * Stops: closes every session with a reason (peers withdraw our routes at once), closes the
   * vifs (a TUN disappears with its kernel routes) and waits for the read loops to end.
   */
  async stop(reason = "node shutting down"): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    for (const stopTimer of this.#timers) stopTimer();
    if (this.#flushTimer !== undefined) this.clock.clearTimer(this.#flushTimer);
    if (this.#annTimer !== undefined) this.clock.clearTimer(this.#annTimer);
    await this.sessions.stop(reason);
    await this.udp.stop();
    for (const vif of this.vifs.values()) vif.close();
    await Promise.all(this.#pumps);
  }

  /**
   * Applies a changed config without dropping unaffected sessions: peers and local
   * announcements follow the new file; other changes need a restart and are reported.
   * @returns what needs a restart (empty when everything was applied)
   */
  reload(next: NodeConfig): string[] {
    const prev = this.#config;
    const needsRestart: string[] = [];
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    if (!same([...prev.vifs], [...next.vifs])) needsRestart.push("vifs");
    for (const k of RESTART_KEYS) if (!same(prev[k], next[k])) needsRestart.push(k);
    const oldAnn = new Map(prev.localAnnouncements.map((a) => [annKey(a), a]));
    const newAnn = new Map(next.localAnnouncements.map((a) => [annKey(a), a]));
    // Applied in slices of ANNOUNCE_SLICE, the first one now, in order across reloads.
    for (const [k, a] of oldAnn) {
      if (!newAnn.has(k)) this.#annQueue.push(() => this.router.removeLocal(a.prefix));
    }
    for (const [k, a] of newAnn) if (!oldAnn.has(k)) this.#annQueue.push(() => this.#announce(a));
    if (this.#annTimer === undefined) this.#applyAnnouncements();
    this.sessions.updatePeers(next.peers.map(sessionPeer));
    this.peerTraffic.retain((name) => next.peers.some((p) => sameName(p.name, name)));
    // What needs a restart keeps its running value, so that `config` (and `vmesh status`)
    // shows what is in force, not what the file says.
    const running: Record<string, unknown> = { ...next, vifs: prev.vifs };
    for (const k of RESTART_KEYS) running[k] = prev[k];
    this.#config = running as unknown as NodeConfig;
    this.#scheduleFlush();
    return needsRestart;
  }

  #applyAnnouncements(): void {
    this.#annTimer = undefined;
    const q = this.#annQueue;
    const end = Math.min(q.length, this.#annAt + ANNOUNCE_SLICE);
    // Advanced before the call: a change that throws is not tried again.
    while (this.#annAt < end) q[this.#annAt++]();
    if (this.#annAt === q.length) {
      this.#annQueue = [];
      this.#annAt = 0;
    } else if (!this.#stopping) {
      this.#annTimer = this.clock.setTimer(
        guarded("local announcements", () => this.#applyAnnouncements()),
        0,
      );
    }
    this.#scheduleFlush();
  }

  #announce(a: LocalAnnouncement): void {
    // An announcement without a vif is announced but its packets are dropped (as Go vmesh).
    this.router.addLocal(a.prefix, a.vif ?? "");
  }

  #onUp(s: Session): void {
    const { id, name, external } = s.peer;
    // Every configured peer is asked for the UDP channel unless its `udp` is false (TLS only);
    // `udp: true` sends every packet over it, else (and for a peer that dialled us without an
    // entry) `auto` sends lone packets over it (peer_sink.ts).
    const entry = this.#config.peers.find((p) => sameName(p.name, name));
    const mode = entry?.udpMode ?? "auto";
    this.forwarder.attachPeer(
      id,
      mode === "off" ? s : this.udp.open(s, entry !== undefined, mode),
    );
    this.router.peerUp({ id, name, external }, INITIAL_LATENCY_MS);
    this.names.peerUp(s);
    this.revocation.sessionUp(s);
    this.#flushNow();
    this.dcGossip.peerUp(s);
  }

  #onDown(s: Session): void {
    if (!s.peer) return;
    // The manager keeps at most one open session per peer: this one was it.
    this.forwarder.detachPeer(s.peer.id);
    if (this.#config.peers.some((p) => sameName(p.name, s.peer.name))) {
      this.peerTraffic.add(s.peer.name, sessionTraffic(s, this.udp.traffic(s)));
    }
    this.udp.close(s);
    this.dcGossip.peerDown(s);
    this.names.peerDown(s);
    this.router.peerDown(s.peer.id);
    this.#flushNow();
  }

  /**
   * A control frame. A payload that does not decode is the peer's fault: a `SessionError`
   * closes its session ("malformed-frame"). Anything else thrown here is a bug of ours: the
   * session logs it as such and stays up.
   */
  #onControl(s: Session, type: number, payload: Uint8Array): void {
    switch (type) {
      case FrameType.RouteAnnounce: {
        // Applied in slices (the router's receive queue; it logs refusals at debug level).
        const routes = peerInput("route announce", () => decodeAnnounce(payload));
        this.router.queueAnnounce(s.peer.id, routes);
        this.names.noteRoutes(s.peer.id, routes);
        this.#scheduleFlush();
        return;
      }
      case FrameType.RouteWithdraw:
        this.router.queueWithdraw(
          s.peer.id,
          peerInput("route withdraw", () => decodeWithdraw(payload)),
        );
        this.#scheduleFlush();
        return;
      case FrameType.DcOffer:
        peerDc("DC offer", () => this.dcGossip.onOffer(s, payload));
        return;
      case FrameType.Dc:
        this.dcGossip.onDc(s, payload);
        return;
      case FrameType.DcChunk:
        peerDc("DC chunk", () => this.dcGossip.onChunk(s, payload));
        return;
      case FrameType.NodeInfoRequest:
        peerNodeInfo("node-info request", () => this.names.onRequest(s, payload));
        return;
      case FrameType.NodeInfo:
        void peerNodeInfo("node info", () => this.names.onInfo(s, payload));
        return;
      case FrameType.UdpChannelRequest:
        peerSyntax("UDP channel request", () => this.udp.onRequest(s, payload));
        return;
      case FrameType.UdpChannelResponse:
        peerSyntax("UDP channel response", () => this.udp.onResponse(s, payload));
        return;
      default:
        log.debug("{peer}: control frame type {type} not used by this node", {
          peer: s.peer.name,
          type,
        });
    }
  }

  #onDcAccepted(dc: VerifiedDc, from: string | undefined): void {
    for (const w of dc.warnings) log.warn("DC: {warning}", { warning: w });
    this.router.setWhitelist(dc.content.prefixWhitelist);
    this.#scheduleFlush();
    // Pushed before the revocation closes sessions: a revoked peer learns why from the DC too.
    this.dcGossip.push(dc, from);
    this.revocation.apply(dc.content.revocation, dc.notBefore);
  }

  /**
   * One raw RTT sample of a session's link. The router's `LinkLatency` is the one smoothing
   * (EWMA with a re-advertise threshold); the first sample replaces the guess given at
   * `peerUp`.
   */
  #onRtt(s: Session, ms: number): void {
    if (this.sessions.session(s.peer.id) !== s) return;
    if (this.#measured.has(s)) this.router.updateLatency(s.peer.id, ms);
    else {
      this.#measured.add(s);
      this.router.resetLatency(s.peer.id, ms);
    }
    if (this.router.pending) this.#scheduleFlush();
  }

  #scheduleFlush(delayMs = FLUSH_DELAY_MS): void {
    if (this.#flushTimer !== undefined || this.#stopping) return;
    this.#flushTimer = this.clock.setTimer(
      guarded("route flush", () => this.#flushNow()),
      delayMs,
    );
  }

  #flushNow(): void {
    if (this.#flushing) {
      // A session closed while we were sending (e.g. its control backlog overflowed): what the
      // outer flush computed is stale for the others, so go round again once it is done.
      this.#scheduleFlush();
      return;
    }
    if (this.#flushTimer !== undefined) {
      this.clock.clearTimer(this.#flushTimer);
      this.#flushTimer = undefined;
    }
    this.#flushing = true;
    try {
      this.#send(this.router.flush(FLUSH_SLICE).messages);
      this.names.pump();
    } finally {
      this.#flushing = false;
    }
    // Announcements held back after a lost route (worseRouteHoldMs), and the rest of a change
    // larger than FLUSH_SLICE, go out in a later flush; received payloads still queued in the
    // router are applied by the next flush as soon as the event loop has had its turn.
    if (this.router.pending) this.#scheduleFlush(this.router.receiveBacklog > 0 ? 0 : undefined);
  }

  #send(messages: Map<string, { announce: Route[]; withdraw: Ipv6Prefix[] }>): void {
    for (const [id, m] of messages) {
      const s = this.sessions.session(id);
      if (s === undefined) continue;
      for (const p of encodeWithdraw(m.withdraw)) s.sendControl(FrameType.RouteWithdraw, p);
      for (const p of encodeAnnounce(m.announce)) s.sendControl(FrameType.RouteAnnounce, p);
    }
  }
}

/** Config keys that {@link Node.reload} cannot apply to a running node (besides `vifs`). */
const RESTART_KEYS = [
  "listenAddr",
  "ca",
  "cert",
  "privateKey",
  "externalPeerCerts",
  "stateDir",
  "controlSocket",
  "hysteresisMs",
  "pingIntervalMs",
  "maxRoutesPerPeer",
  "maxRoutesPerOrigin",
  "externalPeersDefault",
  "sourceValidation",
  "httpListen",
  "httpToken",
] as const;

/** Wraps a timer callback so that a bug in it is logged instead of ending the process. */
function guarded(what: string, fn: () => void): () => void {
  return () => {
    try {
      fn();
    } catch (e) {
      log.error("{what} failed: {error}", { what, error: e instanceof Error ? e.stack : `${e}` });
    }
  };
}

function sessionPeer(p: PeerConfig) {
  return { addr: p.addr, name: p.name };
}

function annKey(a: LocalAnnouncement): string {
  return `${prefixKey(a.prefix)} ${a.vif ?? ""}`;
}

/**
 * The source address of this router's ICMPv6 errors: the first address on a TUN vif, else
 * the first address (::1) inside the first local announcement, else ::1.
 */
export function routerAddress(config: NodeConfig): Uint8Array {
  for (const v of config.vifs.values()) {
    if (v.type === "tun" && v.addresses.length > 0) return v.addresses[0].addr;
  }
  const a = config.localAnnouncements[0];
  if (a) {
    const addr = a.prefix.addr.slice();
    if (a.prefix.len < 128) addr[15] |= 1;
    return addr;
  }
  return parseIpv6("::1");
}
