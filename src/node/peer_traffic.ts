/**
 * Traffic per peer that outlives sessions: a session's counters start from zero, so the
 * totals of a configured peer's ended sessions are kept here and added to the open session's
 * counters when the metrics are read. Updated once per session end, never per packet.
 * @module
 */
import { canonicalName } from "../net/mod.ts";
import type { Session } from "../session/mod.ts";
import type { UdpTraffic } from "../udp/mod.ts";

/** Packets and bytes exchanged with a peer, each way, over TLS and UDP together. */
export interface PeerTraffic {
  /** IP packets received (TLS frames and UDP data packets). */
  rxPackets: number;
  /** Bytes received: TLS frame bytes (headers and control frames included) + UDP packet bytes. */
  rxBytes: number;
  /** IP packets sent. */
  txPackets: number;
  /** Bytes sent, counted as {@link rxBytes}. */
  txBytes: number;
}

/** The traffic of one session so far: its TLS counters plus its UDP channels' data. */
export function sessionTraffic(s: Session, udp: UdpTraffic | undefined): PeerTraffic {
  const c = s.stats().counters;
  return {
    rxPackets: c.packetsIn + (udp?.rxPackets ?? 0),
    rxBytes: c.bytesIn + (udp?.rxBytes ?? 0),
    txPackets: c.packetsOut + (udp?.txPackets ?? 0),
    txBytes: c.bytesOut + (udp?.txBytes ?? 0),
  };
}

/**
 * Totals of ended sessions by peer name (case-insensitive). Holds configured peers only (the
 * caller decides), and {@link retain} drops peers removed from the config: bounded by the
 * number of configured peers.
 */
export class PeerTrafficTotals {
  readonly #ended = new Map<string, PeerTraffic>();

  /** Adds an ended session's traffic to peer `name`'s totals. */
  add(name: string, t: PeerTraffic): void {
    const key = canonicalName(name);
    const sum = this.#ended.get(key);
    if (sum === undefined) {
      this.#ended.set(key, { ...t });
      return;
    }
    sum.rxPackets += t.rxPackets;
    sum.rxBytes += t.rxBytes;
    sum.txPackets += t.txPackets;
    sum.txBytes += t.txBytes;
  }

  /** Peer `name`'s ended sessions, plus `open` (the open session's traffic) when given. */
  total(name: string, open?: PeerTraffic): PeerTraffic {
    const e = this.#ended.get(canonicalName(name));
    const z = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0 };
    const a = e ?? z, b = open ?? z;
    return {
      rxPackets: a.rxPackets + b.rxPackets,
      rxBytes: a.rxBytes + b.rxBytes,
      txPackets: a.txPackets + b.txPackets,
      txBytes: a.txBytes + b.txBytes,
    };
  }

  /** Forgets every peer for which `keep(name)` is false. */
  retain(keep: (name: string) => boolean): void {
    for (const name of this.#ended.keys()) if (!keep(name)) this.#ended.delete(name);
  }

  /** Peers with totals. */
  get size(): number {
    return this.#ended.size;
  }
}
