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
import { check, Errno, errnoName, lastErrno, SyscallError } from "../../ffi/errno.ts";
import { AF_UNIX, libc, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK } from "../../ffi/libc.ts";
import { closeFd } from "../../ffi/tun_linux.ts";
import { BatchReader, FdPoller } from "./fd_poller.ts";
import { ViewCache } from "./view_cache.ts";
import { newVifStats, type Vif, type VifStats } from "./vif.ts";

const log = getLogger(["vmesh", "vif"]);
const SUN_PATH_MAX = 107; // sizeof(sun_path) - 1 for the NUL
const SOCKADDR_UN_LEN = 110;
const encoder = new TextEncoder();

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
  /** Clock in ms (tests). */
  now?: () => number;
}

function sockaddrUn(path: string, what: string): Uint8Array {
  const bytes = encoder.encode(path);
  if (bytes.length === 0 || bytes.length > SUN_PATH_MAX || bytes.includes(0)) {
    throw new RangeError(
      `${what} "${path}" must be 1..${SUN_PATH_MAX} bytes without NUL (a Unix socket path)`,
    );
  }
  const buf = new Uint8Array(SOCKADDR_UN_LEN);
  buf[0] = AF_UNIX; // sa_family_t, little-endian u16
  buf.set(bytes, 2);
  return buf.subarray(0, 2 + bytes.length + 1);
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
  const local = sockaddrUn(localPath, "service local path");
  const lib = libc();
  const fd = check(
    lib.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0),
    "socket(AF_UNIX, SOCK_DGRAM)",
  );
  try {
    const pathZ = encoder.encode(localPath + "\0");
    if (lib.unlink(pathZ) < 0 && lastErrno() !== Errno.ENOENT) {
      throw new SyscallError(lastErrno(), `removing stale socket ${localPath}`);
    }
    check(lib.bind(fd, local, local.length), `binding service socket ${localPath}`, {
      EACCES: `cannot create ${localPath}: permission denied — choose a writable directory`,
      EADDRINUSE: `${localPath} is in use`,
      ENOENT: `the directory of ${localPath} does not exist`,
    });
  } catch (e) {
    closeFd(fd);
    throw e;
  }
  return new ServiceVif(fd, opts, remote, localPath, mtu);
}

/** A local service behind the {@link Vif} interface; create it with {@link openServiceVif}. */
export class ServiceVif implements Vif {
  readonly name: string;
  readonly mtu: number;
  readonly vnetHdr = false;
  readonly stats: VifStats = newVifStats();
  /** Our socket's path (the service sends here). */
  readonly localPath: string;
  /** The service's socket path. */
  readonly address: string;
  /** Datagrams dropped because they came from another sender than the service. */
  rxDropForeign = 0;
  readonly #fd: number;
  readonly #remote: Uint8Array;
  readonly #poller: FdPoller;
  readonly #batches: BatchReader;
  readonly #interval: number;
  readonly #now: () => number;
  readonly #from = new Uint8Array(SOCKADDR_UN_LEN);
  readonly #fromLen = new Uint8Array(4);
  readonly #fromLenView = new DataView(this.#fromLen.buffer);
  readonly #rViews = new ViewCache();
  readonly #wViews = new ViewCache();
  #up = true;
  #nextAttempt = 0;
  #closed = false;
  #reading = false;

  /** Wraps a bound socket; prefer {@link openServiceVif}. */
  constructor(
    fd: number,
    opts: ServiceVifOptions,
    remote: Uint8Array,
    localPath: string,
    mtu: number,
  ) {
    this.name = opts.name ?? "service";
    this.mtu = mtu;
    this.address = opts.address;
    this.localPath = localPath;
    this.#fd = fd;
    this.#remote = remote;
    this.#interval = opts.reconnectIntervalMs ?? 1000;
    this.#now = opts.now ?? Date.now;
    this.#poller = new FdPoller(fd);
    this.#batches = new BatchReader(this.#poller);
  }

  /** True while the last send reached the service. */
  get connected(): boolean {
    return this.#up;
  }

  maxPacketSize(): number {
    return this.mtu;
  }

  async read(bufs: Uint8Array[], sizes: number[], offset: number): Promise<number> {
    if (this.#reading) throw new Error(`${this.name}: read() while another read is pending`);
    for (let i = 0; i < bufs.length; i++) {
      if (bufs[i].length < offset + this.mtu) {
        throw new RangeError(`${this.name}: read buffer ${i} is smaller than offset + MTU`);
      }
    }
    this.#reading = true;
    try {
      return await this.#batches.next(
        () => this.#closed,
        () => this.#drain(bufs, sizes, offset),
        // The peer socket went away (the service restarted): wait a little, then retry.
        () => new Promise<number>((r) => setTimeout(() => r(0), 10)),
      );
    } finally {
      this.#reading = false;
    }
  }

  #drain(bufs: Uint8Array[], sizes: number[], offset: number): number {
    const lib = libc();
    const st = this.stats;
    const remote = this.#remote;
    let n = 0;
    let tries = 0;
    while (n < bufs.length && tries++ < bufs.length + 64) {
      const view = this.#rViews.get(bufs[n], n, offset);
      this.#fromLenView.setUint32(0, SOCKADDR_UN_LEN, true);
      // One byte more than the MTU so that oversize datagrams show as such (MSG_TRUNC).
      const r = lib.recvfrom(this.#fd, view, this.mtu + 1, 0, this.#from, this.#fromLen);
      if (r < 0) {
        const errno = lastErrno();
        if (errno === Errno.EAGAIN) break;
        if (errno === Errno.EINTR || errno === Errno.ECONNREFUSED || errno === Errno.ECONNRESET) {
          continue;
        }
        if (n > 0) break;
        throw new SyscallError(errno, `receiving from service socket ${this.localPath}`);
      }
      if (!this.#fromService(remote)) {
        this.rxDropForeign++;
        continue;
      }
      if (r < 40 || r > this.mtu || bufs[n][offset] >> 4 !== 6) {
        st.rxDropNotIpv6++;
        continue;
      }
      sizes[n] = r;
      st.rxPackets++;
      st.rxBytes += r;
      n++;
    }
    return n;
  }

  #fromService(remote: Uint8Array): boolean {
    const len = this.#fromLenView.getUint32(0, true);
    // The kernel may or may not count the trailing NUL; compare the path bytes.
    const a = this.#from;
    let end = Math.min(len, SOCKADDR_UN_LEN);
    while (end > 2 && a[end - 1] === 0) end--;
    if (end !== remote.length - 1) return false;
    for (let i = 0; i < end; i++) if (a[i] !== remote[i]) return false;
    return true;
  }

  write(bufs: Uint8Array[], sizes: number[], count: number, offset: number): number {
    const st = this.stats;
    if (this.#closed) {
      st.txDropError += count;
      return 0;
    }
    const lib = libc();
    let ok = 0;
    for (let i = 0; i < count; i++) {
      const size = sizes[i];
      if (!(size > 0 && size <= this.mtu && offset + size <= bufs[i].length)) {
        st.txDropError++;
        continue;
      }
      if (!this.#up && this.#now() < this.#nextAttempt) {
        st.txDropFull++;
        continue;
      }
      const view = this.#wViews.get(bufs[i], i, offset);
      const r = lib.sendto(this.#fd, view, size, 0, this.#remote, this.#remote.length);
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
        this.#nextAttempt = this.#now() + this.#interval;
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
    this.#poller.close(() => {
      closeFd(this.#fd);
      libc().unlink(encoder.encode(this.localPath + "\0"));
    });
  }
}
