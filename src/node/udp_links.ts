/**
 * The UDP data channel of each session, and the peer sink the forwarder uses: depending on
 * the peer's {@link UdpMode} (peer_sink.ts) a packet goes over the encrypted UDP channel when
 * it is usable and the packet fits, else over the TLS session; at the end of a batch the
 * forwarder flushes both. One UDP endpoint per node shares
 * the TLS listener's address and port. Channel upkeep (retrying refused channels, rekeying)
 * runs on its own timer every {@link UDP_MAINTAIN_MS}; keepalives and usability expiry run
 * on the endpoint's.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { Clock } from "../clock/mod.ts";
import type { HostPort, PacketBatch } from "../net/mod.ts";
import type { PeerSink } from "../dataplane/mod.ts";
import { peerSink, type UdpMode } from "./peer_sink.ts";
import type { PeerId } from "../pki/mod.ts";
import { FrameType, type Session } from "../session/mod.ts";
import {
  refuseChannelRequest,
  UdpChannelSetup,
  type UdpChannelStats,
  UdpEndpoint,
  type UdpTraffic,
} from "../udp/mod.ts";

const log = getLogger(["vmesh", "udp"]);

/** How often {@link UdpLinks.maintain} should run: retry refused channels, rekey used-up ones. */
export const UDP_MAINTAIN_MS = 30_000;

/** UDP view of one peer for `vmesh status`. */
export interface UdpPeerStatus {
  state: string;
  usable: boolean;
  stats: UdpChannelStats | null;
}

/** The UDP channels of a node, one per open session. */
export class UdpLinks {
  #endpoint: UdpEndpoint | undefined;
  readonly #setups = new Map<Session, UdpChannelSetup>();
  readonly #want = new Set<Session>();
  readonly #refusalLogged = new WeakSet<Session>();

  /**
   * @param listen the TLS listener's host and port ("" = all addresses)
   * @param localId this node's ID
   * @param deliver receives the packets a peer sent over UDP (the batch is borrowed for the
   *   call)
   * @param clock the node's clock (channel keepalives and expiry)
   */
  constructor(
    private readonly listen: HostPort,
    private readonly localId: PeerId,
    private readonly deliver: (peerId: PeerId, batch: PacketBatch) => void,
    private readonly clock: Clock,
  ) {}

  /**
   * Binds the UDP endpoint on the TLS listener's address; when that fails, peers use TLS only
   * (logged).
   */
  start(): void {
    if (this.#endpoint !== undefined) return;
    const { host, port } = this.listen;
    try {
      this.#endpoint = UdpEndpoint.open({ hostname: host || "::", port, clock: this.clock });
      log.info("UDP data channel listening on port {port} ({backend})", {
        port: this.#endpoint.port,
        backend: this.#endpoint.backend,
      });
    } catch (e) {
      log.warn("no UDP data channel (peers use TLS only): {error}", {
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }

  /**
   * Prepares the UDP channel of a new session (requesting it when `wantUdp`) and returns the
   * sink the forwarder should use for the peer.
   */
  open(s: Session, wantUdp: boolean, mode: UdpMode): PeerSink {
    const ep = this.#endpoint;
    if (ep === undefined) return s;
    let setup: UdpChannelSetup;
    try {
      setup = new UdpChannelSetup({
        endpoint: ep,
        localId: this.localId,
        remoteId: s.peer.id,
        channelSecret: s.channelSecret,
        peerHost: s.remoteAddr.host,
        onPackets: (batch) => this.deliver(s.peer.id, batch),
        onState: (usable) =>
          log.info("UDP channel with {peer} {state}", {
            peer: s.peer.name,
            state: usable ? "usable" : "not usable: falling back to TLS",
          }),
      });
    } catch (e) {
      log.warn("no UDP channel with {peer}: {error}", { peer: s.peer.name, error: `${e}` });
      return s;
    }
    this.#setups.set(s, setup);
    if (wantUdp) {
      this.#want.add(s);
      this.#request(s, setup);
    }
    return peerSink(mode, s, {
      get usable() {
        return setup.usable;
      },
      send: (pkt, vnet) => setup.send(pkt, vnet),
      flush: () => ep.flush(),
    });
  }

  /** Answers a peer's channel request. @throws {SyntaxError} when it is malformed. */
  onRequest(s: Session, payload: Uint8Array): void {
    const setup = this.#setups.get(s);
    const reply = setup ? setup.handleRequest(payload) : refuseChannelRequest(payload);
    s.sendControl(FrameType.UdpChannelResponse, reply);
  }

  /** Takes the peer's answer to our request. @throws {SyntaxError} when it is malformed. */
  onResponse(s: Session, payload: Uint8Array): void {
    const setup = this.#setups.get(s);
    if (setup === undefined) return;
    setup.handleResponse(payload);
    if (setup.state === "refused") {
      // Every dialled peer is asked (and asked again every UDP_MAINTAIN_MS): say it once per
      // session at info, the retries at debug.
      const first = !this.#refusalLogged.has(s);
      this.#refusalLogged.add(s);
      const props = { peer: s.peer.name, why: String(setup.refusal) };
      const msg = "{peer} refused the UDP channel ({why}); using TLS";
      if (first) log.info(msg, props);
      else log.debug(msg, props);
    }
  }

  /** Retries refused channels and rekeys channels that ask for it (call periodically). */
  maintain(): void {
    for (const [s, setup] of this.#setups) {
      if (!this.#want.has(s)) continue;
      if (setup.state === "refused" || setup.channel?.needsRekey) this.#request(s, setup);
    }
  }

  /** Asks the peer for a channel; a local failure (no free channel slot) leaves TLS in use. */
  #request(s: Session, setup: UdpChannelSetup): void {
    try {
      s.sendControl(FrameType.UdpChannelRequest, setup.request());
    } catch (e) {
      log.warn("cannot request a UDP channel with {peer}, using TLS: {error}", {
        peer: s.peer.name,
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }

  /** Forgets a closed session's channel (its keys die with it). */
  close(s: Session): void {
    this.#setups.get(s)?.close();
    this.#setups.delete(s);
    this.#want.delete(s);
  }

  /** UDP state of a session, or null when it has no channel. */
  status(s: Session): UdpPeerStatus | null {
    const setup = this.#setups.get(s);
    if (setup === undefined) return null;
    const stats = setup.channel?.stats;
    return { state: setup.state, usable: setup.usable, stats: stats ? { ...stats } : null };
  }

  /**
   * A session's UDP data traffic so far (every channel of the session, rekeys included), or
   * undefined when it has none; read it before {@link close}.
   */
  traffic(s: Session): UdpTraffic | undefined {
    return this.#setups.get(s)?.traffic();
  }

  /** Closes every channel and the endpoint. */
  async stop(): Promise<void> {
    for (const s of [...this.#setups.keys()]) this.close(s);
    await this.#endpoint?.close();
  }
}
