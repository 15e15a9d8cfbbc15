/**
 * The "service" vif: packets go to and come from a local program over a Unix datagram socket
 * (the Go vmesh `service` vif: network "unixgram", one datagram per IPv6 packet).
 *
 * vmesh binds its own socket at `localPath` (default `/tmp/vmesh_service_<random>.sock`) and
 * sends each packet with `sendto()` to the service's socket at `address`; the service answers
 * to the sender's address. Only datagrams whose source is the service's address are accepted.
 *
 * Why FFI and not `Deno.listenDatagram({ transport: "unixpacket" })`: that API awaits one
 * datagram per call (a thread hop per packet) and cannot read in batches; the FFI socket uses
 * the same awaited-poll-then-drain loop as the TUN vif and sends synchronously.
 *
 * Restarts: when the service goes away `sendto()` fails (ENOENT/ECONNREFUSED); the vif then
 * marks the service disconnected, drops packets (counted in `txDropFull`) and tries again at
 * most once per `reconnectIntervalMs` (default 1 s), so a restarted service is found again
 * without any action. Our socket stays bound, so the service can send at any time.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { type Clock, realClock } from "../clock/mod.ts";
import {
  Errno,
  errnoName,
  FdPoller,
  lastErrno,
  sockaddrUn,
  SyscallError,
  UnixDatagramSocket,
} from "../../ffi/mod.ts";
import type { PacketBatch } from "../net/mod.ts";
import { BatchReader } from "./batch_reader.ts";
import { DEFAULT_VIF_BATCH, newVifStats, type Vif, type VifStats } from "./vif.ts";

const log = getLogger(["vmesh", "vif"]);

/** Options for {@link openServiceVif}. */
export interface ServiceVifOptions {
  /** Name for logs (the config's service_name; default "service"). */
  name?: string;
  /** Only "unixgram" is supported (default). */
  network?: string;
  /** Path of the service's datagram socket. */
  address: string;
  /** Path to bind our socket at; default /tmp/vmesh_service_<32 hex>.sock. Removed on close. */
  localPath?: string;
  /** Largest packet (default 1500, at most 65535). */
  mtu?: number;
  /** Minimum time between attempts to reach a service that went away (default 1000 ms). */
  reconnectIntervalMs?: number;
  /** The node's clock (reconnect pacing and the retry wait); default the real clock. */
  clock?: Clock;
}

/**
 * Opens the service vif: binds our socket (replacing a stale file at `localPath`). The service
 * need not be running yet.
 * @throws {RangeError} for a bad option, {SyscallError} when the socket cannot be bound.
 */
export function openServiceVif(opts: ServiceVifOptions): ServiceVif {
  const network = opts.network ?? "unixgram";
  if (network !== "unixgram") {
    throw new RangeError(`service_network "${network}" is not supported: use "unixgram"`);
  }
  if (typeof opts.address !== "string") throw new TypeError(`service_address must be a string`);
  const mtu = opts.mtu ?? 1500;
  if (!Number.isInteger(mtu) || mtu < 1280 || mtu > 65535) {
    throw new RangeError(`service vif MTU ${mtu} is out of range 1280..65535`);
  }
  const remote = sockaddrUn(opts.address, "service_address");
  const localPath = opts.localPath ??
    `/tmp/vmesh_service_${crypto.getRandomValues(new Uint8Array(16)).toHex()}.sock`;
  return new ServiceVif(new UnixDatagramSocket(localPath), opts, remote, mtu);
}

/** A local service behind the {@link Vif} interface; create it with {@link openServiceVif}. */
export class ServiceVif implements Vif {
  readonly name: string;
  readonly mtu: number;
  readonly vnetHdr = false;
  readonly stats: VifStats = newVifStats();
  readonly batchSize = DEFAULT_VIF_BATCH;
  /** Our socket's path (the service sends here). */
  readonly localPath: string;
  /** The service's socket path. */
  readonly address: string;
  /** Datagrams dropped because they came from another sender than the service. */
  rxDropForeign = 0;
  readonly #sock: UnixDatagramSocket;
  readonly #remote: Uint8Array;
  readonly #poller: FdPoller;
  readonly #batches: BatchReader;
  readonly #interval: number;
  readonly #clock: Clock;
  #up = true;
  #nextAttempt = 0;
  #closed = false;
  #reading = false;

  /** Wraps a bound socket; prefer {@link openServiceVif}. */
  constructor(sock: UnixDatagramSocket, opts: ServiceVifOptions, remote: Uint8Array, mtu: number) {
    this.name = opts.name ?? "service";
    this.mtu = mtu;
    this.address = opts.address;
    this.localPath = sock.path;
    this.#sock = sock;
    this.#remote = remote;
    this.#interval = opts.reconnectIntervalMs ?? 1000;
    this.#clock = opts.clock ?? realClock;
    this.#poller = new FdPoller(sock.fd);
    this.#batches = new BatchReader(this.#poller);
  }

  /** True while the last send reached the service. */
  get connected(): boolean {
    return this.#up;
  }

  /** MTU + 1: one spare byte per read buffer tells an oversize datagram from one that fits. */
  maxPacketSize(): number {
    return this.mtu + 1;
  }

  async read(batch: PacketBatch): Promise<number> {
    if (this.#reading) throw new Error(`${this.name}: read() while another read is pending`);
    const bufs = batch.bufs;
    for (let i = 0; i < bufs.length; i++) {
      if (bufs[i].length < this.mtu + 1) {
        throw new RangeError(`${this.name}: read buffer ${i} is smaller than MTU + 1`);
      }
    }
    this.#reading = true;
    try {
      return await this.#batches.next(
        () => this.#closed,
        () => this.#drain(batch),
        // The peer socket went away (the service restarted): wait a little, then retry.
        () => new Promise<number>((r) => this.#clock.setTimer(() => r(0), 10)),
      );
    } finally {
      this.#reading = false;
    }
  }

  #drain(batch: PacketBatch): number {
    const { bufs, sizes, vnet } = batch;
    const sock = this.#sock;
    const st = this.stats;
    const remote = this.#remote;
    let n = 0;
    let tries = 0;
    while (n < bufs.length && tries++ < bufs.length + 64) {
      // One byte more than the MTU so that oversize datagrams show as such.
      const r = sock.recv(bufs[n], this.mtu + 1);
      if (r < 0) {
        const errno = lastErrno();
        if (errno === Errno.EAGAIN) break;
        if (errno === Errno.EINTR || errno === Errno.ECONNREFUSED || errno === Errno.ECONNRESET) {
          continue;
        }
        if (n > 0) break;
        throw new SyscallError(errno, `receiving from service socket ${this.localPath}`);
      }
      if (!sock.lastSenderIs(remote)) {
        this.rxDropForeign++;
        continue;
      }
      if (r < 40 || r > this.mtu || bufs[n][0] >> 4 !== 6) {
        st.rxDropNotIpv6++;
        continue;
      }
      sizes[n] = r;
      vnet[n] = false;
      st.rxPackets++;
      st.rxBytes += r;
      n++;
    }
    return batch.count = n;
  }

  write(batch: PacketBatch): number {
    const { bufs, sizes, count } = batch;
    const st = this.stats;
    if (this.#closed) {
      st.txDropError += count;
      return 0;
    }
    const sock = this.#sock;
    let ok = 0;
    for (let i = 0; i < count; i++) {
      const size = sizes[i];
      if (!(size > 0 && size <= this.mtu && size <= bufs[i].length)) {
        st.txDropError++;
        continue;
      }
      if (!this.#up && this.#clock.now() < this.#nextAttempt) {
        st.txDropFull++;
        continue;
      }
      const r = sock.sendTo(bufs[i], size, this.#remote);
      if (r >= 0) {
        if (!this.#up) {
          this.#up = true;
          log.info("{name}: service {address} is reachable again", {
            name: this.name,
            address: this.address,
          });
        }
        ok++;
        st.txPackets++;
        st.txBytes += size;
        continue;
      }
      const errno = lastErrno();
      if (errno === Errno.EAGAIN || errno === Errno.ENOBUFS) {
        st.txDropFull++;
      } else if (
        errno === Errno.ENOENT || errno === Errno.ECONNREFUSED || errno === Errno.ENOTCONN ||
        errno === Errno.ECONNRESET || errno === Errno.EPERM || errno === Errno.EACCES
      ) {
        st.txDropFull++;
        this.#nextAttempt = this.#clock.now() + this.#interval;
        if (this.#up) {
          this.#up = false;
          log.warn("{name}: service {address} unreachable ({errno}); retrying every {ms} ms", {
            name: this.name,
            address: this.address,
            errno: errnoName(errno),
            ms: this.#interval,
          });
        }
      } else {
        st.txDropError++;
      }
    }
    return ok;
  }

  /** Ends a pending read (resolves 0), closes the socket and removes its file. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#poller.close(() => this.#sock.close());
  }
}
