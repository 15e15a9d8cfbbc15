/**
 * The forwarder: moves IPv6 packets between vifs and peer sessions by FIB lookup.
 *
 * Packets from a peer first pass source address validation (feasible-path uRPF, RFC 3704):
 * the control plane's {@link SourceCheck} says whether the peer is a feasible next hop for the
 * source; a source inside our own prefixes or one the peer could not have routed to us is
 * dropped and counted (`dropSourceOwn`, `dropSourceUnfeasible`), never logged per packet.
 *
 * Pipeline for every batch (from a vif read or a session's receive chunk), in order:
 *   1. check   — version 6 and a payload length that matches the buffer, else drop + count
 *   2. scope   — multicast, link-local, unspecified and loopback addresses, as source or
 *                destination, never cross the mesh (RFC 4291)
 *   3. lookup  — one FIB lookup on the destination address read straight from the buffer
 *   4. hop     — hop limit ≤ 1: drop and answer ICMPv6 Time Exceeded; else decrement in place
 *   5. out     — local target: queued for that vif and written as one batch at the end;
 *                peer: handed to the session (which copies it into its send queue)
 *   6. errors  — no route: ICMPv6 Destination Unreachable (rate-limited) routed like any packet
 *
 * Nothing here throws per packet or awaits: faults are counters. Buffers belong to the caller
 * and are only borrowed until the batch call returns; the hop limit is decremented in place.
 * When a vif or session carries a virtio_net_hdr (vnet mode) the 10 header bytes precede the
 * IPv6 packet and travel with it, so a TCP super-packet crosses the mesh whole. Only where it
 * leaves through a plain vif is it split in software (`segmentSuperPacket`) and its checksum
 * completed; a plain packet entering a vnet vif gets an all-zero header.
 * @module
 */
import { buildIcmpError, CODE_HOP_LIMIT, CODE_NO_ROUTE, ICMP6_DST_UNREACH } from "./icmpv6.ts";
import { ICMP6_TIME_EXCEEDED, ICMP_ERROR_MAX, mayAnswerWithError } from "./icmpv6.ts";
import {
  checkIpv6,
  isNeverForwarded,
  OFF_DST,
  OFF_HOP_LIMIT,
  OFF_SRC,
  PacketFault,
} from "./ipv6_packet.ts";
import { TokenBucket } from "./rate_limit.ts";
import { segmentSuperPacket } from "../vif/gso.ts";
import type { Vif } from "../vif/vif.ts";
import { VNET_HDR_LEN } from "../vif/vif.ts";

/** Where the FIB sends a destination: a local vif (by config key) or a peer (by PeerId). */
export type NextHop =
  | { readonly kind: "local"; readonly target: string }
  | { readonly kind: "peer"; readonly id: string };

/** The part of the FIB the forwarder uses: longest-prefix match on 16 bytes at `off`. */
export interface RouteLookup {
  lookup(buf: Uint8Array, off: number): NextHop | undefined;
}

/** uRPF verdict: accept, the source is one of ours, or the peer is no feasible next hop. */
export type SourceVerdict = "ok" | "own" | "unfeasible";

/**
 * Source address validation as the forwarder sees it (the control plane's source table).
 * `check` reads the 16 source bytes at `buf[off..off+16]` of a packet from peer `peerId`.
 */
export interface SourceCheck {
  check(buf: Uint8Array, off: number, peerId: string): SourceVerdict;
}

/** Until the node installs its table, nothing from a peer is accepted (fail closed). */
const NO_SOURCES: SourceCheck = { check: () => "unfeasible" };

/** A peer session as the forwarder sees it. */
export interface PeerSink {
  /**
   * Queues one packet (copied before return). `vnet` says whether a 10-byte virtio_net_hdr
   * precedes the IPv6 packet in `pkt`. Returns false when the packet was dropped.
   */
  sendPacket(pkt: Uint8Array, vnet: boolean): boolean;
}

/** Forwarding counters; monotonic. */
export interface ForwarderStats {
  fromVif: number;
  fromPeer: number;
  toVif: number;
  toPeer: number;
  dropMalformed: number;
  dropNotIpv6: number;
  dropScope: number;
  dropNoRoute: number;
  dropHopLimit: number;
  dropNoTarget: number;
  dropPeerQueue: number;
  dropVnet: number;
  /** From a peer, with a source inside this node's own prefixes. */
  dropSourceOwn: number;
  /** From a peer that is no feasible next hop for the source (uRPF). */
  dropSourceUnfeasible: number;
  icmpSent: number;
  icmpRateLimited: number;
}

/** Options of a {@link Forwarder}. */
export interface ForwarderOptions {
  /** Source address of the ICMPv6 errors this router sends (16 bytes). */
  routerAddress: Uint8Array;
  /** ICMPv6 errors per second (RFC 4443 rate limit). Default 100, burst 20. */
  icmpRate?: number;
  /** Clock in milliseconds (for the rate limiter). */
  now?: () => number;
}

const BATCH_MAX = 256;
const STAGE_SIZE = 65536 + VNET_HDR_LEN;
/** Segments one super-packet may become: 64 KiB at the smallest sensible MSS (1220). */
const MAX_SEGMENTS = 56;

/** Output queue of one vif: packets collected during a batch, written once at the end. */
class VifQueue {
  readonly bufs: Uint8Array[] = [];
  readonly sizes: number[] = [];
  count = 0;
  /** Staging buffers for packets that need a header added or were converted (owned here). */
  readonly #stage: Uint8Array[] = [];
  #staged = 0;

  constructor(readonly vif: Vif) {}

  /** Queues a view (borrowed until flush). */
  push(view: Uint8Array): void {
    if (this.count === BATCH_MAX) this.flush();
    this.bufs[this.count] = view;
    this.sizes[this.count] = view.length;
    this.count++;
  }

  /**
   * The next `n` staging buffers (allocated once, reused), for the caller to fill; claim the
   * ones used with {@link commit}. Valid until flush.
   */
  peekStage(n: number): Uint8Array[] {
    if (this.#staged + n > BATCH_MAX || this.count + n > BATCH_MAX) this.flush();
    for (let i = this.#staged; i < this.#staged + n; i++) {
      this.#stage[i] ??= new Uint8Array(STAGE_SIZE);
    }
    return this.#stage.slice(this.#staged, this.#staged + n);
  }

  /** Queues the first `n` buffers from {@link peekStage}, with their sizes. */
  commit(bufs: Uint8Array[], sizes: number[], n: number): void {
    this.#staged += n;
    for (let i = 0; i < n; i++) this.push(bufs[i].subarray(0, sizes[i]));
  }

  /** Writes everything queued; returns the number written. */
  flush(): number {
    if (this.count === 0) return 0;
    const n = this.vif.write(this.bufs, this.sizes, this.count, 0);
    this.count = 0;
    this.#staged = 0;
    return n;
  }
}

/** Moves packets between vifs and peers. See the module doc for the pipeline. */
export class Forwarder {
  /** Counters. */
  readonly stats: ForwarderStats = {
    fromVif: 0,
    fromPeer: 0,
    toVif: 0,
    toPeer: 0,
    dropMalformed: 0,
    dropNotIpv6: 0,
    dropScope: 0,
    dropNoRoute: 0,
    dropHopLimit: 0,
    dropNoTarget: 0,
    dropPeerQueue: 0,
    dropVnet: 0,
    dropSourceOwn: 0,
    dropSourceUnfeasible: 0,
    icmpSent: 0,
    icmpRateLimited: 0,
  };
  #fib: RouteLookup = { lookup: () => undefined };
  #sources: SourceCheck = NO_SOURCES;
  readonly #vifs = new Map<string, VifQueue>();
  readonly #peers = new Map<string, PeerSink>();
  readonly #dirty: VifQueue[] = [];
  readonly #routerAddress: Uint8Array;
  readonly #icmpLimit: TokenBucket;
  readonly #icmpBuf = new Uint8Array(ICMP_ERROR_MAX + VNET_HDR_LEN);
  readonly #segSizes = new Array<number>(MAX_SEGMENTS).fill(0);

  constructor(opts: ForwarderOptions) {
    if (opts.routerAddress.length !== 16) throw new RangeError("routerAddress must be 16 bytes");
    this.#routerAddress = opts.routerAddress.slice();
    const rate = opts.icmpRate ?? 100;
    this.#icmpLimit = new TokenBucket(rate, Math.max(1, Math.ceil(rate / 5)), opts.now);
  }

  /** Installs a new FIB (one reference swap; the control plane builds it). */
  setFib(fib: RouteLookup): void {
    this.#fib = fib;
  }

  /** Installs the source table for packets from peers (set once; the control plane updates it). */
  setSourceCheck(sources: SourceCheck): void {
    this.#sources = sources;
  }

  /** Makes a vif reachable as local target `key`. */
  attachVif(key: string, vif: Vif): void {
    this.#vifs.set(key, new VifQueue(vif));
  }

  /** Forgets local target `key`. */
  detachVif(key: string): void {
    this.#vifs.delete(key);
  }

  /** Makes a peer reachable as next hop `id`. */
  attachPeer(id: string, sink: PeerSink): void {
    this.#peers.set(id, sink);
  }

  /** Forgets next hop `id` (packets routed to it are counted as dropNoTarget). */
  detachPeer(id: string): void {
    this.#peers.delete(id);
  }

  /**
   * Forwards a batch read from a vif: packet i is `bufs[i].subarray(offset, offset+sizes[i])`,
   * starting with a virtio_net_hdr when `vnet`.
   */
  fromVif(bufs: Uint8Array[], sizes: number[], count: number, offset: number, vnet: boolean): void {
    this.stats.fromVif += count;
    for (let i = 0; i < count; i++) this.#route(bufs[i], offset, sizes[i], vnet);
    this.#flush();
  }

  /**
   * Forwards packets received from peer `peerId` (each view is one packet, vnet when flagged),
   * after source address validation.
   */
  fromPeer(peerId: string, pkts: readonly Uint8Array[], vnet: readonly boolean[]): void {
    this.stats.fromPeer += pkts.length;
    for (let i = 0; i < pkts.length; i++) {
      const p = pkts[i];
      if (this.#sourceRefused(peerId, p, vnet[i])) continue;
      this.#route(p, 0, p.length, vnet[i]);
    }
    this.#flush();
  }

  /** uRPF: true (and counted) when `peerId` may not send packets with this source. */
  #sourceRefused(peerId: string, pkt: Uint8Array, vnet: boolean): boolean {
    const ip = vnet ? VNET_HDR_LEN : 0;
    if (pkt.length < ip + 40) return false; // too short: #route counts it as malformed
    const v = this.#sources.check(pkt, ip + OFF_SRC, peerId);
    if (v === "ok") return false;
    if (v === "own") this.stats.dropSourceOwn++;
    else this.stats.dropSourceUnfeasible++;
    return true;
  }

  #route(buf: Uint8Array, off: number, len: number, vnet: boolean): void {
    const ip = vnet ? off + VNET_HDR_LEN : off;
    const ipLen = vnet ? len - VNET_HDR_LEN : len;
    const fault = ipLen < 0 ? PacketFault.TooShort : checkIpv6(buf, ip, ipLen);
    if (fault !== PacketFault.None) {
      if (fault === PacketFault.NotIpv6) this.stats.dropNotIpv6++;
      else this.stats.dropMalformed++;
      return;
    }
    const dst = ip + OFF_DST;
    if (isNeverForwarded(buf, dst) || isNeverForwarded(buf, ip + OFF_SRC)) {
      this.stats.dropScope++;
      return;
    }
    const hop = this.#fib.lookup(buf, dst);
    if (hop === undefined) {
      this.stats.dropNoRoute++;
      this.#icmpError(ICMP6_DST_UNREACH, CODE_NO_ROUTE, buf, ip, ipLen);
      return;
    }
    if (buf[ip + OFF_HOP_LIMIT] <= 1) {
      this.stats.dropHopLimit++;
      this.#icmpError(ICMP6_TIME_EXCEEDED, CODE_HOP_LIMIT, buf, ip, ipLen);
      return;
    }
    buf[ip + OFF_HOP_LIMIT]--;
    this.#deliver(hop, buf.subarray(off, off + len), vnet);
  }

  #deliver(hop: NextHop, pkt: Uint8Array, vnet: boolean): void {
    if (hop.kind === "peer") {
      const sink = this.#peers.get(hop.id);
      if (sink === undefined) this.stats.dropNoTarget++;
      else if (sink.sendPacket(pkt, vnet)) this.stats.toPeer++;
      else this.stats.dropPeerQueue++;
      return;
    }
    const q = this.#vifs.get(hop.target);
    if (q === undefined) {
      this.stats.dropNoTarget++;
      return;
    }
    if (q.count === 0) this.#dirty.push(q);
    if (vnet === q.vif.vnetHdr) {
      q.push(pkt);
    } else if (q.vif.vnetHdr) {
      // Plain packet to a vnet vif: an all-zero header means "no offload".
      const [s] = q.peekStage(1);
      s.fill(0, 0, VNET_HDR_LEN);
      s.set(pkt, VNET_HDR_LEN);
      this.#segSizes[0] = VNET_HDR_LEN + pkt.length;
      q.commit([s], this.#segSizes, 1);
    } else {
      // vnet packet to a plain vif: complete the checksum, split a super-packet.
      const bufs = q.peekStage(MAX_SEGMENTS);
      const n = segmentSuperPacket(pkt, 0, pkt.length, bufs, this.#segSizes, 0);
      if (n < 1) {
        this.stats.dropVnet++;
        return;
      }
      q.commit(bufs, this.#segSizes, n);
    }
    this.stats.toVif++;
  }

  #icmpError(type: number, code: number, buf: Uint8Array, ip: number, len: number): void {
    if (!mayAnswerWithError(buf, ip, len, type)) return;
    if (!this.#icmpLimit.take()) {
      this.stats.icmpRateLimited++;
      return;
    }
    const out = this.#icmpBuf;
    const n = buildIcmpError(out, this.#routerAddress, type, code, 0, buf, ip, len);
    const hop = this.#fib.lookup(out, OFF_DST);
    if (hop === undefined) return;
    this.stats.icmpSent++;
    // The error is a fresh packet: deliver it without another hop-limit step. Local targets
    // keep a view of the shared buffer until flush, so give them their own copy (errors are
    // rare and rate-limited).
    this.#deliver(hop, hop.kind === "local" ? out.slice(0, n) : out.subarray(0, n), false);
  }

  #flush(): void {
    for (const q of this.#dirty) q.flush();
    this.#dirty.length = 0;
  }
}
