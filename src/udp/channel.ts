/**
 * One encrypted UDP channel to one peer: seals outgoing packets, opens incoming datagrams
 * (already demultiplexed by receiver index in endpoint.ts), keeps the anti-replay window, the
 * peer's current UDP address, keepalives and the `usable` state.
 *
 * Receive pipeline for one datagram, in order (any failure drops and counts, never throws):
 *   1. counter  — below 2^52, else `dropMalformed`
 *   2. window   — `check()` refuses replays (`dropReplay`) and old counters (`dropTooOld`)
 *                 before any crypto
 *   3. open     — ChaCha20-Poly1305 over header ‖ ciphertext ‖ tag, decrypted in place in the
 *                 datagram's buffer, else `dropAuth` (forged, wrong key, bit-flipped,
 *                 truncated)
 *   4. record   — `accept()` the counter; only now may the datagram move state
 *   5. roam     — a new highest counter from another source address does not move the peer
 *                 address: it sends that address a challenge (see below)
 *   6. deliver  — data is queued (views into the datagrams' buffers, no copy) and handed to
 *                 `onPackets` once per receive batch, as one {@link PacketBatch} that the
 *                 callee borrows for the call
 *
 * Roaming: the peer's address moves only once the new address has answered a challenge
 * (roaming.ts), so an authenticated peer cannot aim our traffic at a third party.
 *
 * Usability: the channel is `usable` while (a) an authenticated datagram arrived within
 * `usableTimeoutMs` and (b) the peer's latest keepalive within that time said it hears us.
 * (b) makes a one-way path (our datagrams lost, theirs arriving) unusable on both sides.
 * Keepalives go out every `keepaliveMs` whether or not data flows, so a healed path is found
 * again. When `usable` is false `send()` returns false and the caller uses TLS.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { RateLimit } from "../clock/mod.ts";
import { type PacketBatch, pushPacket, VNET_HDR_LEN } from "../net/mod.ts";
import { formatUdpAddress, type UdpAddress, udpAddressEquals } from "./address.ts";
import { type AeadBackend, AeadKey } from "./aead.ts";
import {
  CHALLENGE_BYTES,
  COUNTER_LIMIT,
  HEADER_BYTES,
  KEEPALIVE_CHALLENGE,
  KEEPALIVE_HEARD,
  KEEPALIVE_RESPONSE,
  OVERHEAD_BYTES,
  readCounter,
  TYPE_DATA,
  TYPE_KEEPALIVE,
  TYPE_VNET_DATA,
  writeHeader,
} from "./datagram.ts";
import type { ChannelKeys } from "./keys.ts";
import { newChannelStats, type UdpChannelStats } from "./channel_stats.ts";
import { ReplayVerdict, ReplayWindow } from "./replay.ts";
import { RoamingChallenge } from "./roaming.ts";

const log = getLogger(["vmesh", "udp"]);

/** Least time between two debug log lines about drops, per channel. */
const DROP_LOG_INTERVAL_MS = 10_000;

/** Default largest datagram: a 1500-byte IPv6 underlay minus IPv6 (40) and UDP (8) headers. */
export const DEFAULT_MAX_DATAGRAM_BYTES = 1452;
/** Default keepalive interval. */
export const DEFAULT_KEEPALIVE_MS = 1000;
/** Default time without authenticated traffic (or without the peer hearing us) until unusable. */
export const DEFAULT_USABLE_TIMEOUT_MS = 3000;

/** Everything a channel needs; built by setup.ts. */
export interface UdpChannelOptions {
  /** This node's receiver index (datagrams to us carry it). */
  readonly localIndex: number;
  /** The peer's receiver index (datagrams we send carry it). */
  readonly remoteIndex: number;
  /** Key epoch (for logs and the caller). */
  readonly epoch: number;
  /** Send/receive keys. */
  readonly keys: ChannelKeys;
  /** The peer's UDP address until an authenticated datagram says otherwise. */
  readonly peerAddress: UdpAddress;
  /** Short peer name for logs. */
  readonly peerName: string;
  /** Hands one datagram to the socket (copied); false when dropped. */
  readonly transmit: (datagram: Uint8Array, to: UdpAddress) => boolean;
  /**
   * Receives decrypted packets, once per receive batch. The batch belongs to the channel and
   * is borrowed for the call (src/net/packet_batch.ts): copy what you keep.
   */
  readonly onPackets: (batch: PacketBatch) => void;
  /** Called synchronously when `usable` changes (do not call `send()` from it). */
  readonly onState?: (usable: boolean) => void;
  /** Clock in milliseconds; default `performance.now`. */
  readonly now?: () => number;
  /** Largest datagram to send; default {@link DEFAULT_MAX_DATAGRAM_BYTES}. */
  readonly maxDatagram?: number;
  /** Keepalive interval; default {@link DEFAULT_KEEPALIVE_MS}. */
  readonly keepaliveMs?: number;
  /** Silence until unusable; default {@link DEFAULT_USABLE_TIMEOUT_MS}. */
  readonly usableTimeoutMs?: number;
  /** AEAD implementation (aead.ts); default "auto": libsodium when it loads, else node:crypto. */
  readonly aead?: AeadBackend | "auto";
  /** Send counter limit (tests lower it); default and maximum 2^52. */
  readonly counterLimit?: number;
}

/** An encrypted UDP channel to one peer. */
export class UdpChannel {
  /** This node's receiver index. */
  readonly localIndex: number;
  /** The peer's receiver index. */
  readonly remoteIndex: number;
  /** Key epoch. */
  readonly epoch: number;
  /** Counters. */
  readonly stats: UdpChannelStats = newChannelStats();

  /** Largest packet (vnet header included) that `send()` takes. */
  readonly maxPacket: number;

  readonly #sendKey: AeadKey;
  readonly #recvKey: AeadKey;
  readonly #transmit: (datagram: Uint8Array, to: UdpAddress) => boolean;
  readonly #onPackets: (batch: PacketBatch) => void;
  readonly #onState?: (usable: boolean) => void;
  readonly #now: () => number;
  readonly #keepaliveMs: number;
  readonly #timeoutMs: number;
  readonly #counterLimit: number;
  readonly #peerName: string;
  readonly #window = new ReplayWindow();
  readonly #out: Uint8Array;
  readonly #keepaliveBody = new Uint8Array(1 + CHALLENGE_BYTES);
  readonly #roaming: RoamingChallenge;
  #peer: Uint8Array;
  #sendCounter = 0;
  #lastRx = -Infinity;
  #lastHeard = -Infinity;
  #lastKeepalive = -Infinity;
  #usable = false;
  #closed = false;
  readonly #dropLog: RateLimit;
  readonly #pending: PacketBatch = { bufs: [], sizes: [], vnet: [], count: 0 };

  /**
   * Builds a channel (normally through {@link UdpEndpoint} and setup.ts).
   * @throws {RangeError} when `maxDatagram` leaves no room for a packet.
   */
  constructor(opts: UdpChannelOptions) {
    this.localIndex = opts.localIndex;
    this.remoteIndex = opts.remoteIndex;
    this.epoch = opts.epoch;
    this.#sendKey = new AeadKey(opts.keys.send, opts.aead);
    this.#recvKey = new AeadKey(opts.keys.recv, opts.aead);
    this.#peer = opts.peerAddress.slice();
    this.#peerName = opts.peerName;
    this.#transmit = opts.transmit;
    this.#onPackets = opts.onPackets;
    this.#onState = opts.onState;
    this.#now = opts.now ?? (() => performance.now());
    this.#dropLog = new RateLimit({ now: this.#now }, 1000 / DROP_LOG_INTERVAL_MS, 1);
    this.#keepaliveMs = opts.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
    this.#timeoutMs = opts.usableTimeoutMs ?? DEFAULT_USABLE_TIMEOUT_MS;
    this.#roaming = new RoamingChallenge(this.#keepaliveMs);
    this.#counterLimit = Math.min(opts.counterLimit ?? COUNTER_LIMIT, COUNTER_LIMIT);
    const maxDatagram = opts.maxDatagram ?? DEFAULT_MAX_DATAGRAM_BYTES;
    if (!Number.isInteger(maxDatagram) || maxDatagram < OVERHEAD_BYTES + 64) {
      throw new RangeError(`UDP channel: maxDatagram ${maxDatagram} leaves no room for packets`);
    }
    this.maxPacket = maxDatagram - OVERHEAD_BYTES;
    this.#out = new Uint8Array(maxDatagram);
  }

  /** True while UDP works both ways (see the module doc); `send()` refuses otherwise. */
  get usable(): boolean {
    return this.#refresh(this.#now());
  }

  /** True once the send counter reached its limit: set up a new channel (new keys). */
  get needsRekey(): boolean {
    return this.#sendCounter >= this.#counterLimit;
  }

  /** True after {@link close}. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The peer's current UDP address. */
  get peerAddress(): UdpAddress {
    return this.#peer.slice();
  }

  /** The peer's current UDP address as text ("1.2.3.4:5", "[::1]:5"). */
  get peerAddressText(): string {
    return formatUdpAddress(this.#peer);
  }

  /**
   * Seals and queues one packet. `vnet` says `packet` starts with a 10-byte virtio_net_hdr;
   * an all-zero header is elided on the wire (the receiver then gets a plain packet).
   * Returns false — and the caller sends the packet over TLS — when the channel is not
   * usable or the packet is larger than {@link maxPacket}. Never throws; the packet is not
   * retained.
   */
  send(packet: Uint8Array, vnet: boolean): boolean {
    const now = this.#now();
    if (!this.#refresh(now)) {
      this.stats.refusedNotUsable++;
      return false;
    }
    let type = TYPE_DATA;
    let body = packet;
    if (vnet) {
      if (packet.length < VNET_HDR_LEN) {
        this.stats.txErrors++; // shorter than its own vnet header: a caller bug, never sent
        return false;
      }
      if (isZero(packet, VNET_HDR_LEN)) body = packet.subarray(VNET_HDR_LEN);
      else type = TYPE_VNET_DATA;
    }
    if (body.length > this.maxPacket) {
      this.stats.refusedTooLarge++;
      return false;
    }
    if (!this.#seal(type, body)) return false;
    this.stats.txPackets++;
    this.stats.txBytes += packet.length;
    return true;
  }

  #seal(type: number, body: Uint8Array, to: Uint8Array = this.#peer): boolean {
    const counter = this.#sendCounter++;
    const out = this.#out;
    writeHeader(out, type, this.remoteIndex, counter);
    const len = this.#sendKey.sealInto(counter, out, HEADER_BYTES, body);
    if (!this.#transmit(out.subarray(0, len), to)) {
      this.stats.txErrors++;
      return false;
    }
    return true;
  }

  /**
   * Sends a keepalive to the peer's address; with `flag` KEEPALIVE_CHALLENGE or
   * KEEPALIVE_RESPONSE it carries `nonce` and goes to `to`.
   */
  #sendKeepalive(now: number, flag = 0, nonce?: Uint8Array, to: Uint8Array = this.#peer): void {
    if (this.#closed || this.needsRekey) return;
    if (flag === 0) this.#lastKeepalive = now;
    const body = this.#keepaliveBody;
    body[0] = (now - this.#lastRx <= this.#timeoutMs ? KEEPALIVE_HEARD : 0) | flag;
    if (nonce !== undefined) body.set(nonce, 1);
    if (this.#seal(TYPE_KEEPALIVE, nonce === undefined ? body.subarray(0, 1) : body, to)) {
      this.stats.keepalivesOut++;
    }
  }

  /** A new source address spoke: challenge it (rate-limited; see roaming.ts). */
  #challengeAddress(from: UdpAddress, now: number): void {
    const to = this.#roaming.challenge(from, now);
    if (to === undefined) return;
    this.stats.addressChallenges++;
    this.#sendKeepalive(now, KEEPALIVE_CHALLENGE, this.#roaming.bytes, to);
  }

  /** The peer answered a challenge: move to the candidate when it answered from there. */
  #checkResponse(plain: Uint8Array, from: UdpAddress): void {
    const to = this.#roaming.answered(plain.subarray(1, 1 + CHALLENGE_BYTES), from);
    if (to === undefined) return;
    const old = formatUdpAddress(this.#peer);
    this.#peer.set(to);
    this.stats.addressChanges++;
    log.info("UDP peer {peer} moved from {old} to {addr} (the new address answered)", {
      peer: this.#peerName,
      old,
      addr: formatUdpAddress(this.#peer),
    });
  }

  /**
   * Periodic work (the endpoint calls it every ~250 ms): keepalive when due, and usability
   * expiry. Safe to call at any rate.
   */
  tick(): void {
    if (this.#closed) return;
    const now = this.#now();
    if (now - this.#lastKeepalive >= this.#keepaliveMs) this.#sendKeepalive(now);
    this.#refresh(now);
  }

  /**
   * Handles one datagram addressed to this channel (header already checked by the endpoint).
   * `from` is only read during the call. The payload is decrypted in place, and the packet
   * waits for {@link flush} as a view into `datagram`: its buffer must stay untouched until
   * then (the endpoint flushes after each socket batch, before the next receive).
   */
  receive(datagram: Uint8Array, type: number, from: UdpAddress): void {
    if (this.#closed) return;
    const counter = readCounter(datagram);
    if (counter < 0) return this.#drop("dropMalformed");
    const verdict = this.#window.check(counter);
    if (verdict === ReplayVerdict.Replayed) return this.#drop("dropReplay");
    if (verdict === ReplayVerdict.TooOld) return this.#drop("dropTooOld");
    const plainLen = this.#recvKey.openInPlace(counter, datagram, HEADER_BYTES);
    if (plainLen < 0) return this.#drop("dropAuth");
    const plain = datagram.subarray(HEADER_BYTES, HEADER_BYTES + plainLen);
    if (
      type === TYPE_KEEPALIVE
        ? plain.length < 1 ||
          ((plain[0] & (KEEPALIVE_CHALLENGE | KEEPALIVE_RESPONSE)) !== 0 &&
            plain.length < 1 + CHALLENGE_BYTES)
        : type === TYPE_VNET_DATA && plain.length < VNET_HDR_LEN
    ) {
      // Authenticated, so the peer built it: still refuse it, and do not move state.
      return this.#drop("dropMalformed");
    }
    const newest = counter > this.#window.highest;
    this.#window.accept(counter);
    const now = this.#now();
    const wasHearing = now - this.#lastRx <= this.#timeoutMs;
    this.#lastRx = now;
    if (type === TYPE_KEEPALIVE && (plain[0] & KEEPALIVE_RESPONSE) !== 0) {
      this.#checkResponse(plain, from);
    }
    if (newest && !udpAddressEquals(from, this.#peer)) this.#challengeAddress(from, now);
    if (type === TYPE_KEEPALIVE) {
      this.stats.keepalivesIn++;
      if ((plain[0] & KEEPALIVE_CHALLENGE) !== 0) {
        // Answer from our socket, to the peer's proven address: the answer's source proves
        // to the peer where we are.
        this.#sendKeepalive(now, KEEPALIVE_RESPONSE, plain.subarray(1, 1 + CHALLENGE_BYTES));
      }
      const peerHears = (plain[0] & KEEPALIVE_HEARD) !== 0;
      // The peer's word is current: "I do not hear you" ends usability at once, rather than
      // after our own timeout on top of the peer's.
      this.#lastHeard = peerHears ? now : -Infinity;
      // Tell the peer at once that we hear it, so both sides turn usable within a round trip.
      // At most one reply per authenticated keepalive, and never to one that says it hears
      // us while we already heard it, so two peers cannot ping-pong.
      if (!wasHearing || !peerHears) this.#sendKeepalive(now);
    } else {
      if (!wasHearing) this.#sendKeepalive(now);
      this.stats.rxPackets++;
      this.stats.rxBytes += plain.length;
      pushPacket(this.#pending, plain, type === TYPE_VNET_DATA);
    }
    this.#refresh(now);
  }

  /** Delivers packets decrypted since the last call to `onPackets` (one call per batch). */
  flush(): void {
    const batch = this.#pending;
    if (batch.count === 0) return;
    try {
      if (!this.#closed) this.#onPackets(batch);
    } catch (e) {
      log.error("UDP onPackets callback threw: {error}", { error: String(e) });
    } finally {
      batch.count = 0;
      batch.bufs.fill(EMPTY); // the plaintexts are garbage now; do not pin them
    }
  }

  /** Stops the channel: `send()` refuses, received datagrams are ignored. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending.count = 0;
    this.#pending.bufs.length = 0;
    this.#refresh(this.#now());
  }

  #refresh(now: number): boolean {
    const usable = !this.#closed && !this.needsRekey &&
      now - this.#lastRx <= this.#timeoutMs && now - this.#lastHeard <= this.#timeoutMs;
    if (usable !== this.#usable) {
      this.#usable = usable;
      if (!usable) this.stats.fallbacks++;
      log.debug("UDP channel to {peer} is now {state}", {
        peer: this.#peerName,
        state: usable ? "usable" : "not usable",
      });
      if (this.#onState) {
        try {
          this.#onState(usable);
        } catch (e) {
          log.error("UDP onState callback threw: {error}", { error: String(e) });
        }
      }
    }
    return usable;
  }

  #drop(reason: "dropMalformed" | "dropReplay" | "dropTooOld" | "dropAuth"): void {
    this.stats[reason]++;
    if (this.#dropLog.take()) {
      log.debug("UDP channel to {peer}: dropped a datagram ({reason}; {n} more not logged)", {
        peer: this.#peerName,
        reason,
        n: this.#dropLog.suppressed,
      });
    }
  }
}

const EMPTY = new Uint8Array(0);

function isZero(b: Uint8Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (b[i] !== 0) return false;
  return true;
}
