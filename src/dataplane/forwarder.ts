/**
 * The forwarder: moves IPv6 packets between vifs and peer sessions by FIB lookup.
 *
 * Packets arrive as {@link PacketBatch}es (src/net/packet_batch.ts) — a vif read
 * (`fromVif`), or the packets one peer's TLS chunk or UDP receive batch carried
 * (`fromPeer(peerId, batch)`) — and are borrowed only until the call returns.
 *
 * Packets from a peer first pass source address validation (feasible-path uRPF, RFC 3704):
 * the control plane's {@link SourceCheck} says whether the peer is a feasible next hop for the
 * source; a source inside our own prefixes or one the peer could not have routed to us is
 * dropped and counted (`dropSourceOwn`, `dropSourceUnfeasible`), never logged per packet.
 *
 * Pipeline for every packet of a batch, in order:
 *   1. check   — version 6 and a payload length that matches the buffer, else drop + count
 *   2. scope   — multicast, link-local, unspecified and loopback addresses, as source or
 *                destination, never cross the mesh (RFC 4291)
 *   3. lookup  — one FIB lookup on the destination address read straight from the buffer
 *   4. hop     — hop limit ≤ 1: drop and answer ICMPv6 Time Exceeded; else decrement in place
 *   5. out     — local target: queued for that vif (a peer's virtio_net_hdr is checked first,
 *                see below) and written as one batch at the end; peer: handed to its sink's
 *                `sendPacket` (which copies it)
 *   6. errors  — no route: ICMPv6 Destination Unreachable (rate-limited) routed like any packet
 * and at the end of the batch:
 *   7. flush   — each vif queued to is written once (`Vif.write`), each peer sink queued to is
 *                flushed once (`PeerSink.flush`: one socket write / one sendmmsg per batch)
 *
 * Nothing here throws per packet or awaits: faults are counters. When a vif or session
 * carries a virtio_net_hdr (vnet mode) the 10 header bytes precede the IPv6 packet and travel
 * with it, so a TCP super-packet crosses the mesh whole. Only where it leaves through a plain
 * vif is it split in software (`segmentSuperPacket`) and its checksum completed; a plain
 * packet entering a vnet vif gets an all-zero header. A header that came from a peer reaches
 * the kernel through our TUN write, so before a peer's vnet packet is queued for a vnet vif
 * `checkPeerVnetHdr` must accept it (else `dropBadVnetHdr`).
 * @module
 */
import { type Clock, RateLimit, realClock } from "../clock/mod.ts";
import {
  buildIcmpError,
  CODE_HOP_LIMIT,
  CODE_NO_ROUTE,
  ICMP6_DST_UNREACH,
  ICMP6_TIME_EXCEEDED,
  ICMP_ERROR_MAX,
  mayAnswerWithError,
} from "./icmpv6.ts";
import {
  checkIpv6,
  isNeverForwarded,
  OFF_DST,
  OFF_HOP_LIMIT,
  OFF_SRC,
  PacketFault,
} from "./ipv6_packet.ts";
import { newPacketBatch, type NextHop, type PacketBatch, VNET_HDR_LEN } from "../net/mod.ts";
import { checkPeerVnetHdr, segmentSuperPacket, type Vif, VnetFault } from "../vif/mod.ts";

export type { NextHop };

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

/** A peer (its TLS session, or its UDP channel with TLS as fallback) as the forwarder sees it. */
export interface PeerSink {
  /**
   * Queues one packet; the bytes are copied before return (the packet is borrowed, see
   * src/net/packet_batch.ts). `vnet` says whether a 10-byte virtio_net_hdr precedes the IPv6
   * packet in `pkt`. Nothing need be sent before {@link flush}. Returns false when the
   * packet was dropped.
   */
  sendPacket(pkt: Uint8Array, vnet: boolean): boolean;
  /** Sends what `sendPacket` queued. The forwarder calls it once at the end of each batch. */
  flush(): void;
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
  /** Dropped: a peer's virtio_net_hdr that the kernel must not see (see `checkPeerVnetHdr`). */
  dropBadVnetHdr: number;
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
  /** The node's clock (read by the ICMPv6 rate limiter); default the real clock. */
  clock?: Pick<Clock, "now">;
}

const BATCH_MAX = 256;
const STAGE_SIZE = 65536 + VNET_HDR_LEN;
/** Segments one super-packet may become: 64 KiB at the smallest sensible MSS (1220). */
const MAX_SEGMENTS = 56;

/** Output queue of one vif: packets collected during a batch, written once at the end. */
class VifQueue {
  /** The packets queued (views borrowed until flush, or staging buffers owned here). */
  readonly batch: PacketBatch = newPacketBatch(BATCH_MAX);
  /** Staging buffers for packets that need a header added or were converted (owned here). */
  readonly #stage: Uint8Array[] = [];
  #staged = 0;

  constructor(readonly vif: Vif) {}

  get count(): number {
    return this.batch.count;
  }

  /** Queues a view (borrowed until flush), already in the vif's framing. */
  push(view: Uint8Array): void {
    const b = this.batch;
    if (b.count === BATCH_MAX) this.flush();
    const i = b.count++;
    b.bufs[i] = view;
    b.sizes[i] = view.length;
    b.vnet[i] = this.vif.vnetHdr;
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
    if (this.batch.count === 0) return 0;
    const n = this.vif.write(this.batch);
    this.batch.count = 0;
    this.#staged = 0;
    return n;
  }
}

/** A peer's sink and whether it was queued to in the current batch. */
interface PeerQueue {
  readonly sink: PeerSink;
  dirty: boolean;
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
    dropBadVnetHdr: 0,
    dropSourceOwn: 0,
    dropSourceUnfeasible: 0,
    icmpSent: 0,
    icmpRateLimited: 0,
  };
  #fib: RouteLookup = { lookup: () => undefined };
  #sources: SourceCheck = NO_SOURCES;
  readonly #vifs = new Map<string, VifQueue>();
  readonly #peers = new Map<string, PeerQueue>();
  readonly #dirty: VifQueue[] = [];
  readonly #dirtyPeers: PeerQueue[] = [];
  readonly #routerAddress: Uint8Array;
  readonly #icmpLimit: RateLimit;
  readonly #icmpBuf = new Uint8Array(ICMP_ERROR_MAX + VNET_HDR_LEN);
  readonly #segSizes = new Array<number>(MAX_SEGMENTS).fill(0);

  constructor(opts: ForwarderOptions) {
    if (opts.routerAddress.length !== 16) throw new RangeError("routerAddress must be 16 bytes");
    this.#routerAddress = opts.routerAddress.slice();
    const rate = opts.icmpRate ?? 100;
    this.#icmpLimit = new RateLimit(
      opts.clock ?? realClock,
      rate,
      Math.max(1, Math.ceil(rate / 5)),
    );
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
    this.#peers.set(id, { sink, dirty: false });
  }

  /** Forgets next hop `id` (packets routed to it are counted as dropNoTarget). */
  detachPeer(id: string): void {
    this.#peers.delete(id);
  }

  /** Forwards a batch read from a vif (its packets carry a vnet header when the vif does). */
  fromVif(batch: PacketBatch): void {
    const { bufs, sizes, vnet, count } = batch;
    this.stats.fromVif += count;
    for (let i = 0; i < count; i++) this.#route(bufs[i], sizes[i], vnet[i], "");
    this.#flush();
  }

  /**
   * Forwards a batch of packets that peer `peerId` sent (over TLS or UDP), after source
   * address validation. Its virtio_net_hdrs are checked before any reaches a vif (see the
   * module doc).
   */
  fromPeer(peerId: string, batch: PacketBatch): void {
    const { bufs, sizes, vnet, count } = batch;
    this.stats.fromPeer += count;
    for (let i = 0; i < count; i++) {
      if (this.#sourceRefused(peerId, bufs[i], sizes[i], vnet[i])) continue;
      this.#route(bufs[i], sizes[i], vnet[i], peerId);
    }
    this.#flush();
  }

  /** uRPF: true (and counted) when `peerId` may not send packets with this source. */
  #sourceRefused(peerId: string, pkt: Uint8Array, len: number, vnet: boolean): boolean {
    const ip = vnet ? VNET_HDR_LEN : 0;
    if (len < ip + 40) return false; // too short: #route counts it as malformed
    const v = this.#sources.check(pkt, ip + OFF_SRC, peerId);
    if (v === "ok") return false;
    if (v === "own") this.stats.dropSourceOwn++;
    else this.stats.dropSourceUnfeasible++;
    return true;
  }

  /** One packet through stages 1–6; `peer` is the PeerId it came from, "" from a vif. */
  #route(buf: Uint8Array, len: number, vnet: boolean, peer: string): void {
    const ip = vnet ? VNET_HDR_LEN : 0;
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
    this.#deliver(hop, len === buf.length ? buf : buf.subarray(0, len), vnet, peer !== "");
  }

  #deliver(hop: NextHop, pkt: Uint8Array, vnet: boolean, fromPeer: boolean): void {
    if (hop.kind === "peer") {
      const p = this.#peers.get(hop.id);
      if (p === undefined) {
        this.stats.dropNoTarget++;
        return;
      }
      if (!p.dirty) {
        p.dirty = true;
        this.#dirtyPeers.push(p);
      }
      if (p.sink.sendPacket(pkt, vnet)) this.stats.toPeer++;
      else this.stats.dropPeerQueue++;
      return;
    }
    const q = this.#vifs.get(hop.target);
    if (q === undefined) {
      this.stats.dropNoTarget++;
      return;
    }
    if (
      vnet && fromPeer && q.vif.vnetHdr && checkPeerVnetHdr(pkt, 0, pkt.length) !== VnetFault.None
    ) {
      this.stats.dropBadVnetHdr++;
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
    this.#deliver(hop, hop.kind === "local" ? out.slice(0, n) : out.subarray(0, n), false, false);
  }

  #flush(): void {
    for (const q of this.#dirty) q.flush();
    this.#dirty.length = 0;
    for (const p of this.#dirtyPeers) {
      p.dirty = false;
      p.sink.flush();
    }
    this.#dirtyPeers.length = 0;
  }
}
