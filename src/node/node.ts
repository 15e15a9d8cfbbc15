/**
 * A running vmesh node: the wiring of vifs, forwarder, routing, sessions and DC sync.
 *
 * Event flow:
 * - vif read batches → {@link Forwarder.fromVif}; the packets of a session's TLS chunk or of
 *   its UDP channel's receive batch → `fromPeer(peerId, batch)`.
 * - session up/down, RTT samples (one event per answered ping), route announce/withdraw
 *   frames → {@link Router}, which
 *   updates the FIB (shared with the forwarder, mutated in place) at once; what neighbours
 *   must hear is sent by the {@link RouteFlusher} within `FLUSH_DELAY_MS`.
 * - DC offers, DCs and DC chunks → {@link DcGossip}, which hands whole DCs to {@link DcSync};
 *   an accepted DC re-filters routes and is pushed to every other peer.
 * - the hops of announced routes → {@link NodeInfoGossip}, which asks the announcing peer for
 *   the certificates of nodes the node book lacks; node-info frames → the book.
 * - an accepted DC's revocation lists → {@link NodeRevocation} (sessions, dials, routes, book).
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { type Clock, realClock } from "../clock/mod.ts";
import type { LocalAnnouncement, NodeConfig, PeerConfig } from "../config/mod.ts";
import { Forwarder } from "../dataplane/mod.ts";
import { type VerifiedDc, verifyDc } from "../dc/mod.ts";
import { sameName } from "../net/mod.ts";
import type { NodeIdentity, TrustStore } from "../pki/mod.ts";
import { Router } from "../routing/mod.ts";
import { NodeBook } from "../names/mod.ts";
import { Feature, type Session, SessionManager } from "../session/mod.ts";
import type { Vif } from "../vif/mod.ts";
import { AnnouncementQueue } from "./announcement_queue.ts";
import { type ControlTargets, onControlFrame } from "./control_frames.ts";
import { DcGossip } from "./dc_gossip.ts";
import { DcSync } from "./dc_sync.ts";
import { NodeInfoGossip } from "./node_info_gossip.ts";
import { startPeriodic } from "./periodic.ts";
import { NodeRevocation } from "./revocation.ts";
import { PeerTrafficTotals, sessionTraffic } from "./peer_traffic.ts";
import { reloadPlan } from "./reload_plan.ts";
import { RouteFlusher } from "./route_flush.ts";
import { routerAddress } from "./router_address.ts";
import { UDP_MAINTAIN_MS, UdpLinks } from "./udp_links.ts";
import { pumpVif } from "./vif_pump.ts";

// Where these lived before node.ts was split; tests and benchmarks import them from here.
export { ANNOUNCE_SLICE } from "./announcement_queue.ts";
export { FLUSH_DELAY_MS, FLUSH_SLICE } from "./route_flush.ts";
export { routerAddress } from "./router_address.ts";

const log = getLogger(["vmesh", "node"]);

/** Periodic DC re-offer (covers anything missed). */
const DC_REOFFER_MS = 30_000;
/** How often DC transfers, the DC's expiry and `state_dir/dc.bin` are checked. */
const DC_CHECK_MS = 10_000;
/** How often the node book drops expired and unused entries. */
const NODE_BOOK_SWEEP_MS = 10_000;
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
  readonly #flusher: RouteFlusher;
  /** Local announcement changes of reloads not applied yet (in order, in slices). */
  readonly #announcements: AnnouncementQueue;
  #stopTimers: (() => void) | undefined;
  readonly #controlTargets: ControlTargets;
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
      changed: () => this.#flusher.schedule(),
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
      onControl: (s, type, payload) => onControlFrame(this.#controlTargets, s, type, payload),
      onPackets: (s, batch) => this.forwarder.fromPeer(s.peer.id, batch),
      onRtt: (s, ms) => this.#onRtt(s, ms),
      refusePeer: (peer, key) => revocation.refusePeer(peer, key),
      holdDial: (name) => revocation.holdDial(name),
    });
    revocation.attach(this.sessions);
    this.#flusher = new RouteFlusher(clock, this.router, this.sessions, this.names);
    this.#announcements = new AnnouncementQueue(clock, () => this.#flusher.schedule());
    this.#controlTargets = {
      router: this.router,
      names: this.names,
      dcGossip: this.dcGossip,
      udp: this.udp,
      routesChanged: () => this.#flusher.schedule(),
    };
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
    // One timer for all of them, half a second after the pings (periodic.ts).
    this.#stopTimers = startPeriodic(this.clock, [
      { what: "routing timers", everyMs: 1000, run: () => this.router.tick() },
      { what: "node-info requests", everyMs: 1000, run: () => this.names.tick() },
      { what: "DC re-offer", everyMs: DC_REOFFER_MS, run: () => this.dcGossip.offerToAll() },
      { what: "UDP channel maintenance", everyMs: UDP_MAINTAIN_MS, run: () => this.udp.maintain() },
      {
        what: "node book sweep",
        everyMs: NODE_BOOK_SWEEP_MS,
        run: () => this.names.sweep(this.router.nodesInPaths()),
      },
      {
        what: "DC checks",
        everyMs: DC_CHECK_MS,
        run: () => {
          this.dcGossip.tick();
          this.dc.tick().catch((e) => log.error("DC checks failed: {error}", { error: `${e}` }));
        },
      },
    ]);
    this.#flusher.schedule();
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
    this.#stopTimers?.();
    this.#flusher.stop();
    this.#announcements.stop();
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
    const plan = reloadPlan(this.#config, next);
    // Applied in slices, the first one now, in order across reloads.
    this.#announcements.add([
      ...plan.removed.map((a) => () => this.router.removeLocal(a.prefix)),
      ...plan.added.map((a) => () => this.#announce(a)),
    ]);
    this.sessions.updatePeers(next.peers.map(sessionPeer));
    this.peerTraffic.retain((name) => next.peers.some((p) => sameName(p.name, name)));
    this.#config = plan.running;
    this.#flusher.schedule();
    return plan.needsRestart;
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
    this.#flusher.now();
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
    this.#flusher.now();
  }

  #onDcAccepted(dc: VerifiedDc, from: string | undefined): void {
    for (const w of dc.warnings) log.warn("DC: {warning}", { warning: w });
    this.router.setWhitelist(dc.content.prefixWhitelist);
    this.#flusher.schedule();
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
    if (this.router.pending) this.#flusher.schedule();
  }
}

function sessionPeer(p: PeerConfig) {
  return { addr: p.addr, name: p.name };
}
