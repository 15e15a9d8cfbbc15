/**
 * A UDP socket driven through ffi/libc.ts: `recvmmsg` and `sendmmsg` move up to
 * {@link UDP_BATCH} datagrams per system call, and the receive side awaits a `poll()` on a
 * worker thread (src/vif/fd_poller.ts) only when the socket is drained.
 *
 * One AF_INET6 socket serves IPv4 and IPv6 (IPv4 peers appear v4-mapped), so binding
 * "0.0.0.0" binds "::" and an IPv4 literal binds its v4-mapped form. This relies on the
 * kernel default `net.ipv6.bindv6only = 0`.
 *
 * Layouts (LP64 Linux: x86-64, arm64): struct mmsghdr is 64 bytes — msg_name ptr @0,
 * msg_namelen u32 @8, msg_iov ptr @16, msg_iovlen u64 @24, msg_control ptr @32,
 * msg_controllen u64 @40, msg_flags i32 @48, msg_len u32 @56; struct iovec is 16 bytes
 * (base @0, len @8); struct sockaddr_in6 is 28 bytes (family u16 LE @0, port u16 BE @2,
 * flowinfo @4, addr @8, scope_id @24).
 *
 * GC hazard: every buffer whose address sits in an mmsghdr/iovec is held in a field for the
 * socket's whole life.
 * @module
 */
import { check, Errno, lastErrno } from "../../ffi/errno.ts";
import {
  AF_INET6,
  libc,
  MSG_DONTWAIT,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
} from "../../ffi/libc.ts";
import { FdPoller, MAX_BATCHES_WITHOUT_POLL } from "../vif/fd_poller.ts";
import { type UdpAddress, udpAddress } from "./address.ts";
import {
  DEFAULT_MAX_DATAGRAM,
  newSocketStats,
  UDP_BATCH,
  type UdpRecvBatch,
  type UdpSocket,
  type UdpSocketOptions,
} from "./socket.ts";

const MMSG = 64;
const IOV = 16;
const SA6 = 28;
const MSG_TRUNC = 0x20;

const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;
const SO_SNDBUFFORCE = 32;
const SO_RCVBUFFORCE = 33;
/** Socket buffers asked for: ~2 900 full-size datagrams, so a burst is not lost in the kernel. */
export const UDP_SOCKET_BUFFER = 4 * 1024 * 1024;

/**
 * Asks for {@link UDP_SOCKET_BUFFER}-byte socket buffers: beyond net.core.[rw]mem_max with
 * CAP_NET_ADMIN (the FORCE options), else up to that limit. The default (~208 KiB) holds only
 * ~90 full-size datagrams. Best effort: a refusal leaves the kernel's size.
 */
function setBuffers(fd: number): void {
  const v = new Uint8Array(4);
  new DataView(v.buffer).setInt32(0, UDP_SOCKET_BUFFER, true);
  const lib = libc();
  for (const [force, plain] of [[SO_RCVBUFFORCE, SO_RCVBUF], [SO_SNDBUFFORCE, SO_SNDBUF]]) {
    if (lib.setsockopt(fd, SOL_SOCKET, force, v, 4) !== 0) {
      lib.setsockopt(fd, SOL_SOCKET, plain, v, 4);
    }
  }
}

/**
 * Opens a UDP socket through FFI (needs `--allow-ffi`, and `--allow-read` of /proc when
 * `port` is 0, to learn the port the kernel picked).
 * @throws {SyscallError} when the socket cannot be created or bound (EADDRINUSE…).
 * @throws {SyntaxError} when `hostname` is not an IP literal.
 */
export function openFfiUdpSocket(opts: UdpSocketOptions): UdpSocket {
  return new FfiUdpSocket(opts);
}

class Ring {
  readonly data: Uint8Array;
  readonly slots: Uint8Array[] = [];
  readonly names = new Uint8Array(UDP_BATCH * SA6);
  readonly iovs = new Uint8Array(UDP_BATCH * IOV);
  readonly msgs = new Uint8Array(UDP_BATCH * MMSG);
  readonly msgView = new DataView(this.msgs.buffer);
  readonly iovView = new DataView(this.iovs.buffer);

  constructor(slotSize: number) {
    this.data = new Uint8Array(UDP_BATCH * slotSize);
    const ptr = (b: Uint8Array, off: number) =>
      BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b as Uint8Array<ArrayBuffer>))) +
      BigInt(off);
    for (let i = 0; i < UDP_BATCH; i++) {
      this.slots.push(this.data.subarray(i * slotSize, (i + 1) * slotSize));
      this.iovView.setBigUint64(i * IOV, ptr(this.data, i * slotSize), true);
      this.iovView.setBigUint64(i * IOV + 8, BigInt(slotSize), true);
      const m = i * MMSG;
      this.msgView.setBigUint64(m, ptr(this.names, i * SA6), true);
      this.msgView.setUint32(m + 8, SA6, true);
      this.msgView.setBigUint64(m + 16, ptr(this.iovs, i * IOV), true);
      this.msgView.setBigUint64(m + 24, 1n, true);
    }
  }
}

class FfiUdpSocket implements UdpSocket {
  readonly kind = "ffi";
  readonly port: number;
  readonly maxDatagram: number;
  readonly batch: UdpRecvBatch;
  readonly stats = newSocketStats();
  readonly #fd: number;
  readonly #poller: FdPoller;
  readonly #rx: Ring;
  readonly #tx: Ring;
  #queued = 0;
  #flushScheduled = false;
  #closed = false;
  #batchesWithoutPoll = 0;

  constructor(opts: UdpSocketOptions) {
    this.maxDatagram = opts.maxDatagram ?? DEFAULT_MAX_DATAGRAM;
    const host = opts.hostname === "0.0.0.0" ? "::" : opts.hostname;
    const local = udpAddress(host, opts.port);
    const lib = libc();
    this.#fd = check(
      lib.socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0),
      "socket(AF_INET6, SOCK_DGRAM)",
    );
    try {
      const sa = new Uint8Array(SA6);
      writeSockaddr(sa, 0, local);
      check(lib.bind(this.#fd, sa, SA6), `binding UDP ${opts.hostname}:${opts.port}`, {
        EADDRINUSE: "address already in use — another process holds this UDP port",
        EADDRNOTAVAIL: "address not available — the host is not an address of this machine",
      });
      setBuffers(this.#fd);
      this.port = opts.port !== 0 ? opts.port : boundPort(this.#fd);
      this.#poller = new FdPoller(this.#fd);
    } catch (e) {
      lib.close(this.#fd);
      throw e;
    }
    // One spare byte per receive slot tells an oversize datagram from one that fits exactly.
    this.#rx = new Ring(this.maxDatagram + 1);
    this.#tx = new Ring(this.maxDatagram);
    this.batch = {
      bufs: this.#rx.slots,
      sizes: new Array(UDP_BATCH).fill(0),
      addrs: Array.from({ length: UDP_BATCH }, () => new Uint8Array(18)),
    };
  }

  async receive(): Promise<number> {
    while (!this.#closed) {
      if (this.#batchesWithoutPoll < MAX_BATCHES_WITHOUT_POLL) {
        const n = this.#recvNow();
        if (n > 0) {
          this.#batchesWithoutPoll++;
          return n;
        }
      }
      this.#batchesWithoutPoll = 0;
      const ev = await this.#poller.wait();
      if (ev === 0 || this.#closed) return 0;
      const n = this.#recvNow();
      if (n > 0) return n;
    }
    return 0;
  }

  /** One non-blocking recvmmsg; returns the number of usable datagrams placed in the batch. */
  #recvNow(): number {
    const rx = this.#rx;
    const r = libc().recvmmsg(this.#fd, rx.msgs, UDP_BATCH, MSG_DONTWAIT, null);
    if (r < 0) {
      const errno = lastErrno();
      if (errno !== Errno.EAGAIN && errno !== Errno.EINTR) this.stats.rxErrors++;
      return 0;
    }
    const v = rx.msgView;
    const { sizes, addrs, bufs } = this.batch;
    let out = 0;
    for (let i = 0; i < r; i++) {
      const m = i * MMSG;
      const len = v.getUint32(m + 56, true);
      const flags = v.getInt32(m + 48, true);
      v.setUint32(m + 8, SA6, true);
      if (len > this.maxDatagram || (flags & MSG_TRUNC) !== 0) {
        this.stats.rxDropOversize++;
        continue;
      }
      if (out !== i) bufs[out].set(bufs[i].subarray(0, len));
      const a = addrs[out];
      const n = i * SA6;
      a.set(rx.names.subarray(n + 8, n + 24));
      a[16] = rx.names[n + 2];
      a[17] = rx.names[n + 3];
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
    const tx = this.#tx;
    const i = this.#queued++;
    tx.slots[i].set(data);
    tx.iovView.setUint32(i * IOV + 8, data.length, true);
    writeSockaddr(tx.names, i * SA6, addr);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
    return true;
  }

  flush(): void {
    this.#flushScheduled = false;
    const count = this.#queued;
    this.#queued = 0;
    if (count === 0 || this.#closed) return;
    const tx = this.#tx;
    let sent = 0;
    while (sent < count) {
      const r = libc().sendmmsg(
        this.#fd,
        tx.msgs.subarray(sent * MMSG),
        count - sent,
        0 | MSG_DONTWAIT,
      );
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
    this.#poller.close(() => libc().close(fd));
  }
}

/** Writes `addr` as a struct sockaddr_in6 at `out[off..off+28)`. */
function writeSockaddr(out: Uint8Array, off: number, addr: UdpAddress): void {
  out[off] = AF_INET6 & 0xff;
  out[off + 1] = AF_INET6 >> 8;
  out[off + 2] = addr[16];
  out[off + 3] = addr[17];
  out.fill(0, off + 4, off + 8);
  out.set(addr.subarray(0, 16), off + 8);
  out.fill(0, off + 24, off + 28);
}

/**
 * The local port of a bound socket, without getsockname (not in ffi/libc.ts): the socket's
 * inode from /proc/self/fd, then its line in /proc/net/udp6.
 */
function boundPort(fd: number): number {
  const ino = Deno.statSync(`/proc/self/fd/${fd}`).ino;
  for (const line of Deno.readTextFileSync("/proc/net/udp6").split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length > 9 && Number(cols[9]) === ino) return parseInt(cols[1].split(":")[1], 16);
  }
  throw new Error(`cannot find the port of UDP socket fd ${fd} in /proc/net/udp6`);
}
