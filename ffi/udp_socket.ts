/**
 * A non-blocking AF_INET6 UDP socket and the `recvmmsg`/`sendmmsg` message rings that move
 * many datagrams per system call. The UDP endpoint (src/udp/socket_ffi.ts) builds on it.
 *
 * Addresses cross this boundary as 18 bytes: the 16-byte IPv6 address (IPv4 peers
 * v4-mapped) followed by the port, big-endian.
 *
 * Layouts (LP64 Linux: x86-64, arm64): struct mmsghdr is 64 bytes — msg_name ptr @0,
 * msg_namelen u32 @8, msg_iov ptr @16, msg_iovlen u64 @24, msg_control ptr @32,
 * msg_controllen u64 @40, msg_flags i32 @48, msg_len u32 @56; struct iovec is 16 bytes
 * (base @0, len @8); struct sockaddr_in6 is 28 bytes (family u16 LE @0, port u16 BE @2,
 * flowinfo @4, addr @8, scope_id @24).
 *
 * UDP GSO (Linux ≥ 4.18): a message whose iovecs span several equal-length slots and whose
 * control data carries UDP_SEGMENT (struct cmsghdr: cmsg_len u64 @0, cmsg_level i32 @8,
 * cmsg_type i32 @12, then a u16 segment size @16; 24 bytes with padding) leaves as one
 * packet through the stack and is cut into datagrams of that size late (by the NIC, or in
 * software at the device or the receiving socket): one route lookup, one netfilter pass and
 * one device transmit for up to {@link UDP_GSO_MAX_SEGMENTS} datagrams.
 *
 * GC hazard: every buffer whose address sits in an mmsghdr/iovec is held by the
 * {@link MmsgRing} for its whole life; keep the ring referenced while the socket is open.
 * @module
 */
import { check } from "./errno.ts";
import { AF_INET6, libc, MSG_DONTWAIT, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK } from "./libc.ts";

const MMSG = 64;
const IOV = 16;
/** sizeof(struct sockaddr_in6). */
export const SOCKADDR_IN6_LEN = 28;
/** recvmmsg msg_flags bit: the datagram was longer than the buffer. */
const MSG_TRUNC = 0x20;

const CMSG_SPACE_U16 = 24;
const SOL_UDP = 17;
const UDP_SEGMENT = 103;
/** Most datagrams one GSO message carries (the kernel's UDP_MAX_SEGMENTS is 64 or more). */
export const UDP_GSO_MAX_SEGMENTS = 64;
/** Most payload bytes one GSO message carries (an IP packet's 65535 minus headers, rounded). */
export const UDP_GSO_MAX_BYTES = 65_000;

const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;
const SO_SNDBUFFORCE = 32;
const SO_RCVBUFFORCE = 33;

/** Writes an 18-byte address as a struct sockaddr_in6 at `out[off..off+28)`. */
function writeSockaddr(out: Uint8Array, off: number, addr: Uint8Array): void {
  out[off] = AF_INET6 & 0xff;
  out[off + 1] = AF_INET6 >> 8;
  out[off + 2] = addr[16];
  out[off + 3] = addr[17];
  out.fill(0, off + 4, off + 8);
  out.set(addr.subarray(0, 16), off + 8);
  out.fill(0, off + 24, off + 28);
}

/**
 * Opens a non-blocking, close-on-exec AF_INET6 datagram socket bound to `local` (18 bytes;
 * the unspecified address binds all, IPv4 included while net.ipv6.bindv6only is 0).
 * @param what names the socket in error messages ("binding UDP 0.0.0.0:4000").
 * @throws {SyscallError} when the socket cannot be created or bound.
 */
export function openUdp6Socket(local: Uint8Array, what: string): number {
  const lib = libc();
  const fd = check(
    lib.socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0),
    "socket(AF_INET6, SOCK_DGRAM)",
    { EAFNOSUPPORT: "IPv6 is disabled in this kernel; the UDP channel needs it" },
  );
  try {
    const sa = new Uint8Array(SOCKADDR_IN6_LEN);
    writeSockaddr(sa, 0, local);
    check(lib.bind(fd, sa, SOCKADDR_IN6_LEN), what, {
      EADDRINUSE: "address already in use — another process holds this UDP port",
      EADDRNOTAVAIL: "address not available — the host is not an address of this machine",
    });
  } catch (e) {
    lib.close(fd);
    throw e;
  }
  return fd;
}

/**
 * Connects a UDP socket to `peer` (18 bytes): the kernel then keeps the route, and
 * {@link MmsgRing.setOutgoingConnected} slots need no address (load generators).
 * @throws {SyscallError} when the kernel refuses (no route…).
 */
export function connectUdp6(fd: number, peer: Uint8Array): void {
  const sa = new Uint8Array(SOCKADDR_IN6_LEN);
  writeSockaddr(sa, 0, peer);
  check(libc().connect(fd, sa, SOCKADDR_IN6_LEN), "connect() of a UDP socket");
}

/**
 * The local port of a bound AF_INET6 socket (getsockname).
 * @throws {SyscallError} when the fd is not such a socket.
 */
export function socketPort(fd: number): number {
  const sa = new Uint8Array(SOCKADDR_IN6_LEN);
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, SOCKADDR_IN6_LEN, true);
  check(libc().getsockname(fd, sa, len), `getsockname() of UDP socket fd ${fd}`);
  return (sa[2] << 8) | sa[3];
}

/**
 * Asks for `bytes`-byte send and receive buffers: beyond net.core.[rw]mem_max with
 * CAP_NET_ADMIN (the FORCE options), else up to that limit. Best effort: a refusal leaves the
 * kernel's size.
 */
export function setSocketBuffers(fd: number, bytes: number): void {
  const v = new Uint8Array(4);
  new DataView(v.buffer).setInt32(0, bytes, true);
  const lib = libc();
  for (const [force, plain] of [[SO_RCVBUFFORCE, SO_RCVBUF], [SO_SNDBUFFORCE, SO_SNDBUF]]) {
    if (lib.setsockopt(fd, SOL_SOCKET, force, v, 4) !== 0) {
      lib.setsockopt(fd, SOL_SOCKET, plain, v, 4);
    }
  }
}

/**
 * `count` datagram slots of `slotSize` bytes, each with its iovec, sockaddr_in6 and mmsghdr
 * wired up once; {@link recvMmsg} and {@link sendMmsg} use it with no allocation.
 */
export class MmsgRing {
  /** Slot i's buffer (a view of one backing allocation). */
  readonly slots: Uint8Array[] = [];
  readonly #data: Uint8Array;
  readonly #names: Uint8Array;
  readonly #iovs: Uint8Array;
  readonly #iovView: DataView;
  readonly #msgs: Uint8Array;
  readonly #msgView: DataView;
  readonly #ctrl: Uint8Array;
  /** Addresses as BigInts, made once (writing them per message then allocates nothing). */
  readonly #iovPtr: bigint[] = [];
  readonly #namePtr: bigint[] = [];
  readonly #ctrlPtr: bigint[] = [];

  /** Allocates the ring. @throws {RangeError} for a bad count or slot size. */
  constructor(readonly count: number, readonly slotSize: number) {
    if (!Number.isInteger(count) || count < 1 || count > 1024) {
      throw new RangeError(`MmsgRing: count ${count} is out of range 1..1024`);
    }
    if (!Number.isInteger(slotSize) || slotSize < 1 || slotSize > 65536) {
      throw new RangeError(`MmsgRing: slot size ${slotSize} is out of range 1..65536`);
    }
    this.#data = new Uint8Array(count * slotSize);
    this.#names = new Uint8Array(count * SOCKADDR_IN6_LEN);
    this.#iovs = new Uint8Array(count * IOV);
    this.#iovView = new DataView(this.#iovs.buffer);
    this.#msgs = new Uint8Array(count * MMSG);
    this.#msgView = new DataView(this.#msgs.buffer);
    this.#ctrl = new Uint8Array(count * CMSG_SPACE_U16);
    const ctrlView = new DataView(this.#ctrl.buffer);
    const ptr = (b: Uint8Array, off: number) =>
      BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b as Uint8Array<ArrayBuffer>))) +
      BigInt(off);
    for (let i = 0; i < count; i++) {
      this.slots.push(this.#data.subarray(i * slotSize, (i + 1) * slotSize));
      this.#iovView.setBigUint64(i * IOV, ptr(this.#data, i * slotSize), true);
      this.#iovView.setBigUint64(i * IOV + 8, BigInt(slotSize), true);
      const m = i * MMSG;
      this.#msgView.setBigUint64(m, ptr(this.#names, i * SOCKADDR_IN6_LEN), true);
      this.#msgView.setUint32(m + 8, SOCKADDR_IN6_LEN, true);
      this.#msgView.setBigUint64(m + 16, ptr(this.#iovs, i * IOV), true);
      this.#msgView.setBigUint64(m + 24, 1n, true);
      this.#iovPtr.push(ptr(this.#iovs, i * IOV));
      this.#namePtr.push(ptr(this.#names, i * SOCKADDR_IN6_LEN));
      this.#ctrlPtr.push(ptr(this.#ctrl, i * CMSG_SPACE_U16));
      const c = i * CMSG_SPACE_U16;
      ctrlView.setBigUint64(c, 18n, true); // CMSG_LEN(sizeof(u16))
      ctrlView.setInt32(c + 8, SOL_UDP, true);
      ctrlView.setInt32(c + 12, UDP_SEGMENT, true);
    }
  }

  /**
   * Makes message `k` carry slots `first .. first+slots)` (each with its length and
   * destination from {@link setOutgoing}; they must share the destination of `first`) to the
   * destination of slot `first`. With `segment` > 0 the slots leave as one UDP GSO message cut
   * into datagrams of `segment` bytes: every slot but the last must be exactly that long, the
   * last at most. {@link sendMmsg} from message 0 then sends the messages. Requires k ≤ first.
   */
  setMessage(k: number, first: number, slots: number, segment: number): void {
    const v = this.#msgView;
    const m = k * MMSG;
    v.setBigUint64(m, this.#namePtr[first], true);
    v.setUint32(m + 8, SOCKADDR_IN6_LEN, true);
    v.setBigUint64(m + 16, this.#iovPtr[first], true);
    v.setUint32(m + 24, slots, true);
    v.setUint32(m + 28, 0, true);
    if (segment > 0) {
      v.setBigUint64(m + 32, this.#ctrlPtr[k], true);
      v.setUint32(m + 40, CMSG_SPACE_U16, true);
      this.#ctrl[k * CMSG_SPACE_U16 + 16] = segment & 0xff; // u16, little-endian
      this.#ctrl[k * CMSG_SPACE_U16 + 17] = segment >> 8;
    } else {
      v.setBigUint64(m + 32, 0n, true);
      v.setUint32(m + 40, 0, true);
    }
    v.setUint32(m + 44, 0, true);
  }

  /** Sets slot i's outgoing length (≤ slotSize) and destination (18-byte address). */
  setOutgoing(i: number, len: number, to: Uint8Array): void {
    this.#iovView.setUint32(i * IOV + 8, len, true);
    writeSockaddr(this.#names, i * SOCKADDR_IN6_LEN, to);
  }

  /** Sets slot i's outgoing length and sends it to the connected peer (no msg_name). */
  setOutgoingConnected(i: number, len: number): void {
    this.#iovView.setUint32(i * IOV + 8, len, true);
    this.#msgView.setBigUint64(i * MMSG, 0n, true);
    this.#msgView.setUint32(i * MMSG + 8, 0, true);
  }

  /** Length of the datagram received in slot i (its full length when truncated). */
  receivedLength(i: number): number {
    return this.#msgView.getUint32(i * MMSG + 56, true);
  }

  /** True when the datagram in slot i did not fit the slot. */
  truncated(i: number): boolean {
    return (this.#msgView.getInt32(i * MMSG + 48, true) & MSG_TRUNC) !== 0;
  }

  /** Copies slot i's source address into `out[0..18)` and re-arms the slot's name length. */
  source(i: number, out: Uint8Array): void {
    const n = i * SOCKADDR_IN6_LEN;
    out.set(this.#names.subarray(n + 8, n + 24));
    out[16] = this.#names[n + 2];
    out[17] = this.#names[n + 3];
    this.#msgView.setUint32(i * MMSG + 8, SOCKADDR_IN6_LEN, true);
  }

  /** The mmsghdr array from slot `from` on (for the system call). */
  messages(from: number): Uint8Array {
    return from === 0 ? this.#msgs : this.#msgs.subarray(from * MMSG);
  }
}

/**
 * One non-blocking recvmmsg into the ring's slots. Returns the number of datagrams (≥ 0), or
 * -1 (read {@link lastErrno}: EAGAIN when there is nothing).
 */
export function recvMmsg(fd: number, ring: MmsgRing): number {
  return libc().recvmmsg(fd, ring.messages(0), ring.count, MSG_DONTWAIT, null);
}

/**
 * One non-blocking sendmmsg of slots `from..from+count)`. Returns how many went out (≥ 1),
 * or -1 (read {@link lastErrno}; the first remaining datagram failed or the buffer is full).
 */
export function sendMmsg(fd: number, ring: MmsgRing, from: number, count: number): number {
  return libc().sendmmsg(fd, ring.messages(from), count, MSG_DONTWAIT);
}
