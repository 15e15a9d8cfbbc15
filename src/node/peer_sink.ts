/**
 * How a peer's packets choose between its UDP channel and its TLS session
 * (docs/udp-channel.md#which-packets-take-udp):
 *
 * - `always` (`peers[].udp: true`): every packet that fits goes over a usable channel.
 * - (`peers[].udp: false` opens no channel at all: the node gives the forwarder the session.)
 * - `auto` (the default: no `udp` key, and peers that dialled us without an entry): a batch that
 *   holds a single packet for the peer goes over a usable channel when the TLS session has
 *   nothing queued; larger batches go over TLS. A lone packet is what latency-sensitive
 *   traffic looks like (a ping, a DNS query, a keystroke, an ACK on an idle path), and on a
 *   lossy path a lost TCP segment holds everything behind it until TCP repairs it, while a
 *   lost datagram costs only itself. Bursts stay on TLS, where one record and one socket write
 *   carry the whole batch (about twice the small-packet rate of one datagram per packet).
 *   Requiring an empty TLS queue keeps a lone packet from overtaking packets of the same flow
 *   that still wait in user space; the whole of a batch always takes one path, in order.
 * @module
 */
import type { PeerSink } from "../dataplane/mod.ts";
import { VNET_HDR_LEN } from "../net/mod.ts";

/** Which packets of a peer may take its UDP channel. */
export type UdpMode = "always" | "auto";

/** The TLS side as the sink sees it (a session). */
export interface TlsSide extends PeerSink {
  /** Bytes queued for the TLS socket and not yet sent to the kernel. */
  sendBacklog(): number;
}

/** The UDP side: a channel (through its setup) and the endpoint that sends its datagrams. */
export interface UdpSide {
  /** True when the channel is usable now. */
  readonly usable: boolean;
  /** Seals and queues one packet; false when it cannot go (not usable, too large). */
  send(pkt: Uint8Array, vnet: boolean): boolean;
  /** Sends the queued datagrams. */
  flush(): void;
}

/** Largest packet `auto` holds back for UDP: a 1452-byte datagram's payload, vnet header on top. */
export const AUTO_HOLD_BYTES = 1452 + VNET_HDR_LEN;

/** The forwarder's sink for one peer in `mode` (`tls` alone when `udp` is undefined). */
export function peerSink(mode: UdpMode, tls: TlsSide, udp: UdpSide | undefined): PeerSink {
  if (udp === undefined) return tls;
  if (mode === "always") {
    return {
      sendPacket: (pkt, vnet) => udp.send(pkt, vnet) || tls.sendPacket(pkt, vnet),
      flush: () => {
        udp.flush();
        tls.flush();
      },
    };
  }
  return new AutoSink(tls, udp);
}

/**
 * `auto`: the first packet of a batch is held (copied) until the batch ends or a second
 * packet arrives; alone, it goes over UDP when the channel is usable and TLS is idle.
 */
class AutoSink implements PeerSink {
  readonly #held = new Uint8Array(AUTO_HOLD_BYTES);
  #heldLen = 0;
  #heldVnet = false;
  #count = 0;

  constructor(private readonly tls: TlsSide, private readonly udp: UdpSide) {}

  sendPacket(pkt: Uint8Array, vnet: boolean): boolean {
    const n = this.#count++;
    if (n === 0) {
      if (pkt.length <= AUTO_HOLD_BYTES && this.udp.usable && this.tls.sendBacklog() === 0) {
        this.#held.set(pkt);
        this.#heldLen = pkt.length;
        this.#heldVnet = vnet;
        return true;
      }
      return this.tls.sendPacket(pkt, vnet);
    }
    if (this.#heldLen > 0) this.#release(false);
    return this.tls.sendPacket(pkt, vnet);
  }

  flush(): void {
    if (this.#heldLen > 0) this.#release(true);
    this.#count = 0;
    this.udp.flush();
    this.tls.flush();
  }

  /** Sends the held packet: over UDP when `alone` and the channel takes it, else over TLS. */
  #release(alone: boolean): void {
    const pkt = this.#held.subarray(0, this.#heldLen);
    this.#heldLen = 0;
    // A drop here was already reported as sent to the forwarder; the session counts it.
    if (!(alone && this.udp.send(pkt, this.#heldVnet))) this.tls.sendPacket(pkt, this.#heldVnet);
  }
}
