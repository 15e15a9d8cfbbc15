/**
 * The send side of the FFI UDP socket: datagrams queue in a `sendmmsg` ring and leave at
 * {@link UdpTxQueue.flush}. Consecutive datagrams to one address of one length (the last of
 * a run may be shorter) leave as one UDP GSO message (ffi/udp_socket.ts, UDP_SEGMENT): the
 * kernel routes, filters and transmits the run once and cuts it into datagrams late, where
 * one datagram per packet costs a full trip through the stack each (the small-packet rate of
 * the UDP channel was half the TLS session's; docs/figures.md, "UDP channel fast path").
 * The receiver sees ordinary datagrams.
 *
 * When the kernel refuses a GSO message (EIO: no checksum offload on the route's device;
 * EINVAL: an old kernel or a segment beyond the path MTU) the queue stops using GSO for good
 * and sends that run and everything after it one datagram per message.
 * @module
 */
import {
  Errno,
  lastErrno,
  MmsgRing,
  sendMmsg,
  UDP_GSO_MAX_BYTES,
  UDP_GSO_MAX_SEGMENTS,
} from "../../ffi/mod.ts";
import type { UdpAddress } from "./address.ts";
import type { UdpSocketStats } from "./socket.ts";

/** The queue of datagrams waiting for the next `sendmmsg`. */
export class UdpTxQueue {
  readonly #fd: number;
  readonly #ring: MmsgRing;
  readonly #stats: UdpSocketStats;
  readonly #lens: Uint16Array;
  /** Slot i goes to the same address as slot i-1. */
  readonly #sameDest: Uint8Array;
  readonly #lastAddr = new Uint8Array(18);
  /** Per message: its first slot and its number of slots. */
  readonly #msgFirst: Uint16Array;
  readonly #msgSlots: Uint16Array;
  #queued = 0;
  #gso: boolean;

  /**
   * @param fd the socket
   * @param capacity datagrams per flush (the ring's size)
   * @param maxDatagram largest datagram
   * @param stats counters to update (txDatagrams, txDropFull, txErrors)
   * @param gso whether to try UDP GSO (default true)
   */
  constructor(
    fd: number,
    capacity: number,
    maxDatagram: number,
    stats: UdpSocketStats,
    gso = true,
  ) {
    this.#fd = fd;
    this.#ring = new MmsgRing(capacity, maxDatagram);
    this.#stats = stats;
    this.#lens = new Uint16Array(capacity);
    this.#sameDest = new Uint8Array(capacity);
    this.#msgFirst = new Uint16Array(capacity);
    this.#msgSlots = new Uint16Array(capacity);
    this.#gso = gso;
  }

  /** Whether runs still leave as GSO messages (false once the kernel refused one). */
  get gso(): boolean {
    return this.#gso;
  }

  /** Queues a copy of `data` (≤ maxDatagram, checked by the caller) to `addr`. */
  push(data: Uint8Array, addr: UdpAddress): void {
    if (this.#queued === this.#ring.count) this.flush();
    const i = this.#queued++;
    this.#ring.slots[i].set(data);
    this.#ring.setOutgoing(i, data.length, addr);
    this.#lens[i] = data.length;
    this.#sameDest[i] = i > 0 && equal18(addr, this.#lastAddr) ? 1 : 0;
    this.#lastAddr.set(addr);
  }

  /** Sends everything queued; drops (and counts) what the kernel will not take now. */
  flush(): void {
    const count = this.#queued;
    this.#queued = 0;
    if (count === 0) return;
    let msgs = this.#plan(0, count);
    let sent = 0;
    while (sent < msgs) {
      const r = sendMmsg(this.#fd, this.#ring, sent, msgs - sent);
      if (r > 0) {
        for (let m = sent; m < sent + r; m++) this.#stats.txDatagrams += this.#msgSlots[m];
        sent += r;
        continue;
      }
      const errno = lastErrno();
      if (errno === Errno.EINTR) continue;
      const first = this.#msgFirst[sent];
      if (errno === Errno.EAGAIN || errno === Errno.ENOBUFS) {
        this.#stats.txDropFull += count - first;
        return;
      }
      if (this.#msgSlots[sent] > 1 && (errno === Errno.EIO || errno === Errno.EINVAL)) {
        // The kernel (or the route's device) does not do UDP GSO: plain datagrams from here.
        this.#gso = false;
        msgs = this.#plan(first, count);
        sent = 0;
        continue;
      }
      // The message failed (unreachable, too large…): drop its datagrams, go on.
      this.#stats.txErrors += this.#msgSlots[sent];
      sent++;
    }
  }

  /** Lays slots `from .. count)` out as messages 0..; returns the number of messages. */
  #plan(from: number, count: number): number {
    const lens = this.#lens;
    let k = 0;
    for (let i = from; i < count;) {
      const seg = lens[i];
      let j = i + 1;
      if (this.#gso) {
        let bytes = seg;
        while (
          j < count && j - i < UDP_GSO_MAX_SEGMENTS && this.#sameDest[j] === 1 &&
          lens[j] <= seg && bytes + lens[j] <= UDP_GSO_MAX_BYTES
        ) {
          bytes += lens[j++];
          if (lens[j - 1] < seg) break; // a shorter datagram ends a run
        }
      }
      this.#ring.setMessage(k, i, j - i, j - i > 1 ? seg : 0);
      this.#msgFirst[k] = i;
      this.#msgSlots[k] = j - i;
      k++;
      i = j;
    }
    return k;
  }
}

function equal18(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 18; i++) if (a[i] !== b[i]) return false;
  return true;
}
