/**
 * A Linux TUN device as a {@link Vif}.
 *
 * Read path: the fd is O_NONBLOCK. `read` first drains synchronously — up to `batchSize`
 * `read()` calls until EAGAIN, straight into the caller's buffers — and only when nothing is
 * queued awaits a non-blocking `poll()` (one thread hop per wake-up, never per packet).
 * Non-IPv6 packets are dropped and counted. Write path: one synchronous `write()` per packet;
 * EAGAIN/ENOBUFS drop and count; nothing blocks or throws per packet. A write that delivered
 * a packet kicks a parked read to drain at once: the kernel often answers inside the write
 * (an echo reply, a TCP ACK), and the kick saves that answer the poll's thread hop.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { RateLimit, realClock } from "../clock/mod.ts";
import {
  addDeviceRoute,
  addInterfaceAddress,
  closeFd,
  deleteDeviceRoute,
  Errno,
  errnoName,
  FdPoller,
  interfaceMtu,
  isErrno,
  lastErrno,
  openTun,
  readFd,
  setInterfaceMtu,
  setInterfaceTxQueueLen,
  setInterfaceUp,
  SyscallError,
  type TunHandle,
  writeFd,
} from "../../ffi/mod.ts";
import {
  formatPrefix,
  type Ipv6Prefix,
  type PacketBatch,
  parseIpv6,
  parsePrefix,
} from "../net/mod.ts";
import { BatchReader } from "./batch_reader.ts";
import { DEFAULT_VIF_BATCH, newVifStats, type Vif, type VifStats, VNET_HDR_LEN } from "./vif.ts";

const log = getLogger(["vmesh", "vif"]);

/** Largest packet read from a TUN with offloads: vnet header + IPv6 header + 64 KiB payload. */
export const TUN_MAX_SUPER_PACKET = VNET_HDR_LEN + 40 + 65535;

/** Options for {@link openTunVif}. */
export interface TunVifOptions {
  /** Interface name or template ("vmesh%d", the default); ≤ 15 bytes. */
  name?: string;
  /** MTU to set (1280..65535); default: leave the kernel's (1500). */
  mtu?: number;
  /** Addresses to assign, "fd00:1::1/64" (a bare address means /128). */
  addresses?: readonly string[];
  /** Prefixes to route into the device, "fd00:2::/48" or parsed. Removed on close. */
  routes?: readonly (string | Ipv6Prefix)[];
  /** IFF_VNET_HDR with checksum and TCP segmentation offload (super-packets). Default false. */
  offload?: boolean;
  /** Kernel queue length towards the reader (default: the kernel's, 500). */
  txQueueLen?: number;
  /** Clone device path (tests); default /dev/net/tun. */
  devicePath?: string;
}

/**
 * Parses an interface address "fd00:1::1/64" (host bits kept) or "fd00:1::1" (/128).
 * @throws {SyntaxError} / {RangeError} naming the text.
 */
export function parseInterfaceAddress(text: string): { addr: Uint8Array; len: number } {
  if (typeof text !== "string") throw new SyntaxError(`address must be a string`);
  const slash = text.indexOf("/");
  if (slash < 0) return { addr: parseIpv6(text), len: 128 };
  const p = parsePrefix(text, true); // validates the length and refuses IPv4
  return { addr: parseIpv6(text.slice(0, slash)), len: p.len };
}

/**
 * Creates and configures a TUN vif: opens the device, sets MTU and queue length, brings it
 * up, adds addresses and routes. On any failure the device is closed again (it vanishes).
 * @throws {RangeError}/{SyntaxError} for bad options, {SyscallError} when the kernel refuses
 *   (message says what to do, e.g. grant CAP_NET_ADMIN).
 * @example
 * const vif = openTunVif({ name: "vmesh0", mtu: 1420, addresses: ["fd00:1::1/64"] });
 */
export function openTunVif(opts: TunVifOptions = {}): TunVif {
  const addrs = (opts.addresses ?? []).map((a) => parseInterfaceAddress(a));
  const routes = (opts.routes ?? []).map((r) => typeof r === "string" ? parsePrefix(r) : r);
  const h = openTun({
    name: opts.name,
    vnetHdrLen: opts.offload ? VNET_HDR_LEN : 0,
    offload: opts.offload ?? false,
    devicePath: opts.devicePath,
  });
  const added: Ipv6Prefix[] = [];
  try {
    if (opts.mtu !== undefined) setInterfaceMtu(h.name, opts.mtu);
    if (opts.txQueueLen !== undefined) setInterfaceTxQueueLen(h.name, opts.txQueueLen);
    setInterfaceUp(h.name);
    for (const a of addrs) {
      try {
        addInterfaceAddress(h.name, a.addr, a.len);
      } catch (e) {
        if (!isErrno(e, "EEXIST")) throw e;
      }
    }
    for (const r of routes) {
      try {
        addDeviceRoute(h.name, r, formatPrefix(r));
        added.push(r);
      } catch (e) {
        if (!isErrno(e, "EEXIST")) throw e;
      }
    }
    return new TunVif(h, interfaceMtu(h.name), added);
  } catch (e) {
    closeFd(h.fd);
    throw e;
  }
}

/** A TUN device behind the {@link Vif} interface. Create it with {@link openTunVif}. */
export class TunVif implements Vif {
  readonly name: string;
  readonly mtu: number;
  readonly vnetHdr: boolean;
  readonly stats: VifStats = newVifStats();
  readonly batchSize = DEFAULT_VIF_BATCH;
  /** Resolves once the device fd is closed (the device is then gone unless persistent). */
  readonly closed: Promise<void>;
  readonly #fd: number;
  readonly #offload: boolean;
  readonly #poller: FdPoller;
  readonly #batches: BatchReader;
  readonly #routes: Ipv6Prefix[];
  readonly #hdr: number;
  #isClosed = false;
  #reading = false;
  #resolveClosed!: () => void;
  /** Write errors are logged at most once a second (the count says how many were not). */
  readonly #errLog = new RateLimit(realClock, 1, 1);

  /** Wraps an open, configured device; prefer {@link openTunVif}. */
  constructor(h: TunHandle, mtu: number, routes: Ipv6Prefix[] = []) {
    this.name = h.name;
    this.mtu = mtu;
    this.vnetHdr = h.vnetHdr;
    this.#offload = h.offload;
    this.#fd = h.fd;
    this.#hdr = h.vnetHdr ? VNET_HDR_LEN : 0;
    this.#routes = routes;
    this.#poller = new FdPoller(h.fd);
    this.#batches = new BatchReader(this.#poller);
    this.closed = new Promise((r) => this.#resolveClosed = r);
  }

  /** The device's file descriptor (for diagnostics; do not read or close it). */
  get fd(): number {
    return this.#fd;
  }

  /** The routes this vif added and will remove on close. */
  get routes(): readonly Ipv6Prefix[] {
    return this.#routes;
  }

  maxPacketSize(): number {
    return this.#offload ? TUN_MAX_SUPER_PACKET : this.#hdr + this.mtu;
  }

  /**
   * See {@link Vif.read}. Rejects with a {@link SyscallError} when the device fails for good
   * (for example it was deleted under us: EBADFD/EIO), or a RangeError for a too-small buffer.
   */
  async read(batch: PacketBatch): Promise<number> {
    if (this.#reading) throw new Error(`${this.name}: read() while another read is pending`);
    const bufs = batch.bufs;
    const need = this.maxPacketSize();
    for (let i = 0; i < bufs.length; i++) {
      if (bufs[i].length < need) {
        throw new RangeError(
          `${this.name}: read buffer ${i} has ${bufs[i].length} bytes, needs ${need}`,
        );
      }
    }
    this.#reading = true;
    try {
      return await this.#batches.next(
        () => this.#isClosed,
        () => this.#drain(batch),
        (ev) => {
          const n = this.#drain(batch);
          if (n > 0) return n;
          throw new SyscallError(
            Errno.EIO,
            `polling TUN ${this.name}`,
            `the device reported an error (revents 0x${ev.toString(16)}); was it deleted?`,
          );
        },
      );
    } finally {
      this.#reading = false;
    }
  }

  #drain(batch: PacketBatch): number {
    if (this.#isClosed) return 0;
    const { bufs, sizes, vnet } = batch;
    const vnetHdr = this.vnetHdr;
    const fd = this.#fd;
    const hdr = this.#hdr;
    const st = this.stats;
    let n = 0;
    let reads = 0;
    const maxReads = bufs.length + 64; // bounded even under a flood of non-IPv6 packets
    while (n < bufs.length && reads++ < maxReads) {
      const buf = bufs[n];
      const r = readFd(fd, buf, buf.length);
      if (r < 0) {
        const errno = lastErrno();
        if (errno === Errno.EAGAIN) break;
        if (errno === Errno.EINTR) continue;
        if (n > 0) break; // hand over what we have; the next read reports the error
        throw new SyscallError(
          errno,
          `reading from TUN ${this.name}`,
          errno === Errno.EBADFD || errno === Errno.EIO
            ? "the device is gone (deleted?)"
            : undefined,
        );
      }
      if (r < hdr + 40 || buf[hdr] >> 4 !== 6) {
        st.rxDropNotIpv6++;
        continue;
      }
      sizes[n] = r;
      vnet[n] = vnetHdr;
      st.rxPackets++;
      st.rxBytes += r - hdr;
      n++;
    }
    return batch.count = n;
  }

  write(batch: PacketBatch): number {
    const { bufs, sizes, count } = batch;
    const st = this.stats;
    if (this.#isClosed) {
      st.txDropError += count;
      return 0;
    }
    const fd = this.#fd;
    const hdr = this.#hdr;
    let ok = 0;
    for (let i = 0; i < count; i++) {
      const buf = bufs[i];
      const size = sizes[i];
      if (!(size > hdr && size <= buf.length)) {
        st.txDropError++;
        continue;
      }
      let r = writeFd(fd, buf, size);
      if (r < 0 && lastErrno() === Errno.EINTR) r = writeFd(fd, buf, size);
      if (r >= 0) {
        ok++;
        st.txPackets++;
        st.txBytes += size - hdr;
        continue;
      }
      const errno = lastErrno();
      if (errno === Errno.EAGAIN || errno === Errno.ENOBUFS) st.txDropFull++;
      else {
        st.txDropError++;
        this.#logWriteError(errno, size);
      }
    }
    // The kernel may have answered inside the write (echo reply, ACK): read it this turn.
    if (ok > 0) this.#batches.kick();
    return ok;
  }

  #logWriteError(errno: number, size: number): void {
    if (!this.#errLog.take()) return;
    log.debug("{name}: dropped a {size}-byte packet on write: {errno} ({n} similar not logged)", {
      name: this.name,
      size,
      errno: errnoName(errno),
      n: this.#errLog.suppressed,
    });
  }

  /**
   * Removes the routes this vif added, ends a pending read (it resolves 0) and closes the
   * device. Idempotent. The fd is released as soon as no poll can touch it; await
   * {@link closed} to know the device is gone.
   */
  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    for (const r of this.#routes) {
      try {
        deleteDeviceRoute(this.name, r, formatPrefix(r));
      } catch (e) {
        // After dropPrivileges this is EPERM; the kernel drops the routes with the device.
        log.debug("{name}: leaving route {route} to the kernel: {error}", {
          name: this.name,
          route: formatPrefix(r),
          error: e instanceof Error ? e.message : String(e),
        });
      }
    }
    this.#poller.close(() => {
      closeFd(this.#fd);
      this.#resolveClosed();
    });
  }
}
