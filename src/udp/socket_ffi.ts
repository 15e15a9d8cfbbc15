/**
 * The UDP socket on ffi/udp_socket.ts: `recvmmsg` and `sendmmsg` move up to
 * {@link UDP_BATCH} datagrams per system call; the receive side is the vif read loop
 * (src/vif/batch_reader.ts): take a batch at once while the socket is busy, else await a
 * `poll()` on a worker thread.
 *
 * One AF_INET6 socket serves IPv4 and IPv6 (IPv4 peers appear v4-mapped), so binding
 * "0.0.0.0" binds "::" and an IPv4 literal binds its v4-mapped form. This relies on the
 * kernel default `net.ipv6.bindv6only = 0`.
 * @module
 */
import {
  closeFd,
  Errno,
  FdPoller,
  lastErrno,
  MmsgRing,
  openUdp6Socket,
  recvMmsg,
  sendMmsg,
  setSocketBuffers,
  socketPort,
} from "../../ffi/mod.ts";
import { BatchReader } from "../vif/mod.ts";
import { type UdpAddress, udpAddress } from "./address.ts";
import {
  DEFAULT_MAX_DATAGRAM,
  newSocketStats,
  UDP_BATCH,
  type UdpRecvBatch,
  type UdpSocket,
  type UdpSocketOptions,
} from "./socket.ts";

/** Socket buffers asked for: ~2 900 full-size datagrams, so a burst is not lost in the kernel. */
export const UDP_SOCKET_BUFFER = 4 * 1024 * 1024;

/**
 * Opens a UDP socket through FFI (needs `--allow-ffi`).
 * @throws {SyscallError} when the socket cannot be created or bound (EADDRINUSE…).
 * @throws {SyntaxError} when `hostname` is not an IP literal.
 */
export function openFfiUdpSocket(opts: UdpSocketOptions): UdpSocket {
  return new FfiUdpSocket(opts);
}

class FfiUdpSocket implements UdpSocket {
  readonly kind = "ffi";
  readonly port: number;
  readonly maxDatagram: number;
  readonly batch: UdpRecvBatch;
  readonly stats = newSocketStats();
  readonly #fd: number;
  readonly #poller: FdPoller;
  readonly #reader: BatchReader;
  readonly #rx: MmsgRing;
  readonly #tx: MmsgRing;
  #queued = 0;
  #closed = false;

  constructor(opts: UdpSocketOptions) {
    this.maxDatagram = opts.maxDatagram ?? DEFAULT_MAX_DATAGRAM;
    const host = opts.hostname === "0.0.0.0" ? "::" : opts.hostname;
    const local = udpAddress(host, opts.port);
    this.#fd = openUdp6Socket(local, `binding UDP ${opts.hostname}:${opts.port}`);
    try {
      setSocketBuffers(this.#fd, UDP_SOCKET_BUFFER);
      this.port = opts.port !== 0 ? opts.port : socketPort(this.#fd);
      this.#poller = new FdPoller(this.#fd);
    } catch (e) {
      closeFd(this.#fd);
      throw e;
    }
    this.#reader = new BatchReader(this.#poller);
    // One spare byte per receive slot tells an oversize datagram from one that fits exactly.
    this.#rx = new MmsgRing(UDP_BATCH, this.maxDatagram + 1);
    this.#tx = new MmsgRing(UDP_BATCH, this.maxDatagram);
    this.batch = {
      bufs: this.#rx.slots,
      sizes: new Array(UDP_BATCH).fill(0),
      addrs: Array.from({ length: UDP_BATCH }, () => new Uint8Array(18)),
    };
  }

  receive(): Promise<number> {
    // A poll error on a UDP socket is a pending ICMP error: the next recvmmsg clears it.
    return this.#reader.next(() => this.#closed, () => this.#recvNow(), () => this.#recvNow());
  }

  /** One non-blocking recvmmsg; returns the number of usable datagrams placed in the batch. */
  #recvNow(): number {
    const rx = this.#rx;
    const r = recvMmsg(this.#fd, rx);
    if (r < 0) {
      const errno = lastErrno();
      if (errno !== Errno.EAGAIN && errno !== Errno.EINTR) this.stats.rxErrors++;
      return 0;
    }
    const { sizes, addrs, bufs } = this.batch;
    let out = 0;
    for (let i = 0; i < r; i++) {
      const len = rx.receivedLength(i);
      if (len > this.maxDatagram || rx.truncated(i)) {
        rx.source(i, addrs[out]); // re-arms the slot
        this.stats.rxDropOversize++;
        continue;
      }
      if (out !== i) bufs[out].set(bufs[i].subarray(0, len));
      rx.source(i, addrs[out]);
      sizes[out++] = len;
    }
    this.stats.rxDatagrams += out;
    return out;
  }

  send(data: Uint8Array, addr: UdpAddress): boolean {
    if (this.#closed) return false;
    if (data.length > this.maxDatagram) {
      this.stats.txErrors++;
      return false;
    }
    if (this.#queued === UDP_BATCH) this.flush();
    const i = this.#queued++;
    this.#tx.slots[i].set(data);
    this.#tx.setOutgoing(i, data.length, addr);
    return true;
  }

  flush(): void {
    const count = this.#queued;
    this.#queued = 0;
    if (count === 0 || this.#closed) return;
    let sent = 0;
    while (sent < count) {
      const r = sendMmsg(this.#fd, this.#tx, sent, count - sent);
      if (r > 0) {
        sent += r;
        this.stats.txDatagrams += r;
        continue;
      }
      const errno = lastErrno();
      if (errno === Errno.EINTR) continue;
      if (errno === Errno.EAGAIN || errno === Errno.ENOBUFS) {
        this.stats.txDropFull += count - sent;
        return;
      }
      // The first remaining datagram failed (unreachable, too large…): drop it, go on.
      this.stats.txErrors++;
      sent++;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    const fd = this.#fd;
    this.#poller.close(() => closeFd(fd));
  }
}
