/**
 * The UDP socket on ffi/udp_socket.ts: `recvmmsg` and `sendmmsg` move up to
 * {@link UDP_BATCH} datagrams per system call.
 *
 * Receive loop: read batches while the socket has data; when a read finds it empty, park
 * until SIGIO says data arrived (ffi/sigio.ts: the kernel signals the main thread, Deno's
 * signal listener wakes the reader on the event loop; no worker thread). After
 * {@link MAX_BATCHES_PER_TURN} batches in a row without parking, one awaited `poll()`
 * (ffi/fd_poller.ts, a thread hop) lets timers and other sockets run. Where SIGIO cannot be
 * used, the loop is the vif batch reader (src/vif/batch_reader.ts): an awaited `poll()`
 * after every batch.
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
  setSocketBuffers,
  sigioCount,
  SigioWaiter,
  socketPort,
} from "../../ffi/mod.ts";
import { BatchReader } from "../vif/mod.ts";
import { UdpTxQueue } from "./socket_tx.ts";
import { type UdpAddress, udpAddress } from "./address.ts";
import {
  DEFAULT_MAX_DATAGRAM,
  newSocketStats,
  UDP_BATCH,
  type UdpRecvBatch,
  type UdpSocket,
  type UdpSocketOptions,
} from "./socket.ts";

/**
 * Batches the SIGIO receive loop reads back to back before it goes through one awaited
 * `poll()`, so that a flood cannot keep timers and other sockets from running (see
 * MAX_BATCHES_WITHOUT_POLL in src/vif/batch_reader.ts for why a poll lets them run).
 */
export const MAX_BATCHES_PER_TURN = 4;
/** Reads that find nothing but an error in a row before the loop parks anyway. */
const MAX_READ_RETRIES = 16;

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
  readonly #sigio: SigioWaiter | undefined;
  #batchesThisTurn = 0;
  /** Whether the last read left the socket empty (fewer datagrams than asked for, or EAGAIN). */
  #drained = false;
  /** Reads in a row that returned nothing without saying the socket is empty. */
  #retries = 0;
  readonly #rx: MmsgRing;
  readonly #tx: UdpTxQueue;
  #closed = false;

  constructor(opts: UdpSocketOptions) {
    this.maxDatagram = opts.maxDatagram ?? DEFAULT_MAX_DATAGRAM;
    const host = opts.hostname === "0.0.0.0" ? "::" : opts.hostname;
    const local = udpAddress(host, opts.port);
    this.#fd = openUdp6Socket(local, `binding UDP ${opts.hostname}:${opts.port}`);
    let poller: FdPoller | undefined;
    try {
      setSocketBuffers(this.#fd, UDP_SOCKET_BUFFER);
      this.port = opts.port !== 0 ? opts.port : socketPort(this.#fd);
      poller = new FdPoller(this.#fd);
      this.#sigio = SigioWaiter.open(this.#fd);
    } catch (e) {
      poller?.close();
      closeFd(this.#fd);
      throw e;
    }
    this.#poller = poller;
    this.#reader = new BatchReader(this.#poller);
    // One spare byte per receive slot tells an oversize datagram from one that fits exactly.
    this.#rx = new MmsgRing(UDP_BATCH, this.maxDatagram + 1);
    this.#tx = new UdpTxQueue(this.#fd, UDP_BATCH, this.maxDatagram, this.stats, opts.gso);
    this.batch = {
      bufs: this.#rx.slots,
      sizes: new Array(UDP_BATCH).fill(0),
      addrs: Array.from({ length: UDP_BATCH }, () => new Uint8Array(18)),
    };
  }

  /** Which wake-up the receive loop uses: "sigio", or "poll" where signals are unavailable. */
  get wakeup(): "sigio" | "poll" {
    return this.#sigio === undefined ? "poll" : "sigio";
  }

  receive(): Promise<number> {
    if (this.#sigio !== undefined) return this.#receiveSignalled(this.#sigio);
    // A poll error on a UDP socket is a pending ICMP error: the next recvmmsg clears it.
    return this.#reader.next(() => this.#closed, () => this.#recvNow(), () => this.#recvNow());
  }

  async #receiveSignalled(sigio: SigioWaiter): Promise<number> {
    for (;;) {
      if (this.#closed) return 0;
      if (this.#batchesThisTurn >= MAX_BATCHES_PER_TURN) {
        // Busy for a while: one trip through the event loop's I/O and timers. The poll
        // returns at once while data is queued; error bits are cleared by the next read.
        this.#batchesThisTurn = 0;
        if ((await this.#poller.wait()) === 0) return 0;
        continue;
      }
      if (!this.#drained) {
        const n = this.#recvNow();
        if (n > 0) return this.#took(n);
        // Not known to be empty (an error other than EAGAIN, or a full batch of oversize
        // datagrams): read again rather than park with data queued; bounded, then park.
        if (!this.#drained && ++this.#retries <= MAX_READ_RETRIES) continue;
      }
      // The last read emptied the socket (a partial batch or EAGAIN): turn signals on, then
      // read once more, since a datagram that came while they were off raised none. The count
      // is read before that read: a SIGIO for a datagram arriving after it ends the wait at
      // once.
      this.#batchesThisTurn = 0;
      sigio.arm();
      const seen = sigioCount();
      const n = this.#recvNow();
      if (n > 0) {
        sigio.disarm();
        return this.#took(n);
      }
      if (!this.#drained && ++this.#retries <= MAX_READ_RETRIES) {
        sigio.disarm();
        continue;
      }
      this.#retries = 0;
      const woke = await sigio.wait(seen);
      sigio.disarm();
      if (!woke) return 0;
      this.#drained = false; // a signal came: read
    }
  }

  #took(n: number): number {
    this.#batchesThisTurn++;
    this.#retries = 0;
    return n;
  }

  /** One non-blocking recvmmsg; returns the number of usable datagrams placed in the batch. */
  #recvNow(): number {
    const rx = this.#rx;
    const r = recvMmsg(this.#fd, rx);
    if (r < 0) {
      const errno = lastErrno();
      this.#drained = errno === Errno.EAGAIN;
      if (errno !== Errno.EAGAIN && errno !== Errno.EINTR) this.stats.rxErrors++;
      return 0;
    }
    // recvmmsg without MSG_WAITFORONE stops early only when the queue ran dry.
    this.#drained = r < rx.count;
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
    this.#tx.push(data, addr);
    return true;
  }

  /** Whether sends still use UDP GSO (see socket_tx.ts). */
  get gso(): boolean {
    return this.#tx.gso;
  }

  flush(): void {
    if (!this.#closed) this.#tx.flush();
  }

  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    const fd = this.#fd;
    this.#sigio?.close();
    this.#poller.close(() => closeFd(fd));
  }
}
