/**
 * Setting up a UDP channel inside an authenticated TLS session: one small state machine per
 * session, {@link UdpChannelSetup}, that turns the two control frames ("UDP channel request",
 * "UDP channel response"; payloads in setup_codec.ts) into a {@link UdpChannel}.
 *
 * Who initiates: the side whose config has `udp: true` for the peer calls `request()` and
 * sends the payload over TLS. The other side answers with `handleRequest()` if it has a UDP
 * endpoint (it accepts whether or not its own config asks for UDP), or with
 * {@link refuseChannelRequest} if it has none. The requester passes the answer to
 * `handleResponse()`. Both sides then hold a channel with fresh keys and send a keepalive at
 * once; the channel turns usable when each side has heard the other.
 *
 * States: idle → requested → established (or refused); `request()` again from established
 * (a rekey) or refused (a retry) starts over, and the new channel replaces the old one.
 * Simultaneous requests: when a request arrives while our own is pending, the request from
 * the higher PeerId wins — the lower side drops its own and accepts; the higher side answers
 * `Collision` and keeps waiting for its response.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { PacketBatch } from "../net/mod.ts";
import { type PeerId, shortId } from "../pki/mod.ts";
import { udpAddress } from "./address.ts";
import type { UdpChannel } from "./channel.ts";
import type { UdpEndpoint } from "./endpoint.ts";
import { deriveChannelKeys, SETUP_RANDOM_BYTES } from "./keys.ts";
import {
  decodeChannelRequest,
  decodeChannelResponse,
  encodeChannelRefusal,
  encodeChannelRequest,
  encodeChannelResponse,
  SetupStatus,
} from "./setup_codec.ts";

const log = getLogger(["vmesh", "udp"]);

/** Parameters of one session's channel setup. */
export interface UdpSetupParams {
  /** The shared UDP endpoint. */
  readonly endpoint: UdpEndpoint;
  /** This node's PeerId. */
  readonly localId: PeerId;
  /** The peer's PeerId (authenticated by the TLS session). */
  readonly remoteId: PeerId;
  /** The session's 32-byte channel secret. */
  readonly channelSecret: Uint8Array;
  /** The peer's IP as seen by the TLS session (its UDP port comes from the setup message). */
  readonly peerHost: string;
  /** Receives decrypted packets in batches (see {@link UdpChannel}). */
  readonly onPackets: (batch: PacketBatch) => void;
  /** Called when the current channel's `usable` changes. */
  readonly onState?: (usable: boolean) => void;
}

/** Setup states. */
export type UdpSetupState = "idle" | "requested" | "established" | "refused" | "closed";

/**
 * Answers a UDP channel request on a node (or for a peer) without UDP.
 * @throws {SyntaxError} when the request is malformed.
 */
export function refuseChannelRequest(payload: Uint8Array): Uint8Array {
  return encodeChannelRefusal(decodeChannelRequest(payload).epoch, SetupStatus.NoUdp);
}

/** Data packets and bytes of a session's UDP channels (monotonic across rekeys). */
export interface UdpTraffic {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
}

/** One session's UDP channel setup and current channel. */
export class UdpChannelSetup {
  readonly #p: UdpSetupParams;
  #state: UdpSetupState = "idle";
  #channel: UdpChannel | undefined;
  #epoch = 0;
  #pending: { epoch: number; index: number; random: Uint8Array } | undefined;
  #lastRefusal: SetupStatus | undefined;
  /** Data traffic of the channels this setup replaced or closed (a rekey starts from zero). */
  readonly #retired: UdpTraffic = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0 };

  /**
   * @throws {SyntaxError} when `peerHost` is not an IP literal.
   */
  constructor(params: UdpSetupParams) {
    udpAddress(params.peerHost, 1); // validate early
    this.#p = params;
  }

  /** Current state. */
  get state(): UdpSetupState {
    return this.#state;
  }

  /** The current channel, if one is established. */
  get channel(): UdpChannel | undefined {
    return this.#channel;
  }

  /**
   * Data packets and bytes over every channel of this setup so far (replaced channels
   * included), so that the session's UDP traffic only grows across rekeys.
   */
  traffic(): UdpTraffic {
    const r = this.#retired;
    const c = this.#channel?.stats;
    if (c === undefined) return { ...r };
    return {
      rxPackets: r.rxPackets + c.rxPackets,
      rxBytes: r.rxBytes + c.rxBytes,
      txPackets: r.txPackets + c.txPackets,
      txBytes: r.txBytes + c.txBytes,
    };
  }

  #retire(ch: UdpChannel): void {
    const r = this.#retired;
    const c = ch.stats;
    r.rxPackets += c.rxPackets;
    r.rxBytes += c.rxBytes;
    r.txPackets += c.txPackets;
    r.txBytes += c.txBytes;
  }

  /** Why the last request was refused, if it was. */
  get refusal(): SetupStatus | undefined {
    return this.#lastRefusal;
  }

  /** True when the current channel is usable (the caller may use {@link send}). */
  get usable(): boolean {
    return this.#channel?.usable ?? false;
  }

  /**
   * Sends a packet over the current channel; false (use TLS) when there is none, it is not
   * usable, or the packet is too large. Never throws.
   */
  send(packet: Uint8Array, vnet: boolean): boolean {
    return this.#channel?.send(packet, vnet) ?? false;
  }

  /**
   * Starts (or restarts, for a rekey or a retry) a setup; returns the request payload to send
   * over TLS.
   * @throws {RangeError} when closed, or the endpoint has no free index.
   */
  request(): Uint8Array {
    if (this.#state === "closed") throw new RangeError("UDP channel setup is closed");
    this.#dropPending();
    const index = this.#p.endpoint.reserveIndex();
    const random = crypto.getRandomValues(new Uint8Array(SETUP_RANDOM_BYTES));
    this.#epoch = (this.#epoch + 1) >>> 0;
    this.#pending = { epoch: this.#epoch, index, random };
    this.#state = "requested";
    return encodeChannelRequest({
      epoch: this.#epoch,
      receiverIndex: index,
      udpPort: this.#p.endpoint.port,
      random,
    });
  }

  /**
   * Handles a request from the peer; returns the response payload to send over TLS. On
   * acceptance the new channel replaces any current one.
   * @throws {SyntaxError} when the request is malformed (answer nothing; log it).
   */
  handleRequest(payload: Uint8Array): Uint8Array {
    const req = decodeChannelRequest(payload);
    if (this.#state === "closed" || this.#p.endpoint.closed) {
      return encodeChannelRefusal(req.epoch, SetupStatus.Unavailable);
    }
    if (req.udpPort === 0) throw new SyntaxError("UDP channel request: UDP port 0");
    if (this.#state === "requested") {
      if (this.#p.localId > this.#p.remoteId) {
        return encodeChannelRefusal(req.epoch, SetupStatus.Collision);
      }
      this.#dropPending(); // the peer's request wins
    }
    let index: number;
    try {
      index = this.#p.endpoint.reserveIndex();
    } catch {
      return encodeChannelRefusal(req.epoch, SetupStatus.Unavailable);
    }
    const random = crypto.getRandomValues(new Uint8Array(SETUP_RANDOM_BYTES));
    this.#epoch = Math.max(this.#epoch, req.epoch);
    this.#establish(index, req.receiverIndex, req.epoch, req.udpPort, req.random, random);
    return encodeChannelResponse({
      status: SetupStatus.Accepted,
      epoch: req.epoch,
      receiverIndex: index,
      udpPort: this.#p.endpoint.port,
      random,
    });
  }

  /**
   * Handles the peer's response to our request. Returns the new channel, or undefined when
   * the response was a refusal or does not answer the pending request (stale epoch).
   * @throws {SyntaxError} when the response is malformed.
   */
  handleResponse(payload: Uint8Array): UdpChannel | undefined {
    const res = decodeChannelResponse(payload);
    const pending = this.#pending;
    if (this.#state !== "requested" || pending === undefined || res.epoch !== pending.epoch) {
      return undefined;
    }
    if (res.status !== SetupStatus.Accepted) {
      if (res.status === SetupStatus.Collision) return undefined; // the peer accepts ours... or
      // sends its own request, which we accept (see the module doc)
      this.#dropPending();
      this.#lastRefusal = res.status;
      this.#state = "refused";
      log.info("UDP channel to {peer} refused (status {status}); staying on TLS", {
        peer: shortId(this.#p.remoteId),
        status: res.status,
      });
      return undefined;
    }
    this.#pending = undefined;
    this.#establish(
      pending.index,
      res.receiverIndex,
      res.epoch,
      res.udpPort,
      pending.random,
      res.random,
    );
    return this.#channel;
  }

  #establish(
    localIndex: number,
    remoteIndex: number,
    epoch: number,
    peerPort: number,
    dialerRandom: Uint8Array,
    listenerRandom: Uint8Array,
  ): void {
    const p = this.#p;
    let keys;
    try {
      keys = deriveChannelKeys({
        channelSecret: p.channelSecret,
        localId: p.localId,
        remoteId: p.remoteId,
        epoch,
        dialerRandom,
        listenerRandom,
      });
    } catch (e) {
      p.endpoint.releaseIndex(localIndex);
      throw e;
    }
    const old = this.#channel;
    const wasUsable = old?.usable ?? false;
    this.#channel = undefined;
    if (old !== undefined) {
      this.#retire(old);
      p.endpoint.removeChannel(old);
    }
    if (wasUsable) p.onState?.(false);
    const ch = p.endpoint.createChannel({
      localIndex,
      remoteIndex,
      epoch,
      keys,
      peerAddress: udpAddress(p.peerHost, peerPort),
      peerName: shortId(p.remoteId),
      onPackets: p.onPackets,
      onState: (usable) => {
        if (this.#channel === ch) p.onState?.(usable);
      },
    });
    this.#channel = ch;
    this.#state = "established";
    this.#lastRefusal = undefined;
    log.info("UDP channel to {peer} set up (epoch {epoch}, peer at {addr})", {
      peer: shortId(p.remoteId),
      epoch,
      addr: ch.peerAddressText,
    });
  }

  #dropPending(): void {
    if (this.#pending !== undefined) this.#p.endpoint.releaseIndex(this.#pending.index);
    this.#pending = undefined;
  }

  /** Ends the setup and closes the channel (call when the TLS session ends). Idempotent. */
  close(): void {
    if (this.#state === "closed") return;
    this.#dropPending();
    const ch = this.#channel;
    this.#channel = undefined;
    this.#state = "closed";
    if (ch !== undefined) {
      this.#retire(ch);
      const wasUsable = ch.usable;
      this.#p.endpoint.removeChannel(ch);
      if (wasUsable) this.#p.onState?.(false);
    }
  }
}
