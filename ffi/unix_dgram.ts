/**
 * A non-blocking Unix datagram socket bound to a path (the service vif's side of the
 * conversation): `recvfrom` that records the sender, `sendto` a fixed peer path.
 *
 * Layout: struct sockaddr_un is 110 bytes (sa_family u16 LE @0, sun_path[108] @2); a path
 * address is passed as family ‖ path ‖ NUL.
 * @module
 */
import { check, Errno, lastErrno, SyscallError } from "./errno.ts";
import { AF_UNIX, libc, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK } from "./libc.ts";

/** Longest socket path: sizeof(sun_path) - 1 for the NUL. */
export const SUN_PATH_MAX = 107;
const SOCKADDR_UN_LEN = 110;
const encoder = new TextEncoder();

/**
 * Encodes `path` as a struct sockaddr_un (family ‖ path ‖ NUL).
 * @param what names the path in the error ("service_address").
 * @throws {RangeError} when the path is empty, too long or contains NUL.
 */
export function sockaddrUn(path: string, what: string): Uint8Array {
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

/** A bound, non-blocking AF_UNIX SOCK_DGRAM socket. */
export class UnixDatagramSocket {
  /** The descriptor (for the poller; close it with {@link close}). */
  readonly fd: number;
  /** The path this socket is bound to. */
  readonly path: string;
  readonly #from = new Uint8Array(SOCKADDR_UN_LEN);
  readonly #fromLen = new Uint8Array(4);
  readonly #fromLenView = new DataView(this.#fromLen.buffer);

  /**
   * Creates the socket and binds it at `path`, replacing a stale socket file there.
   * @throws {RangeError} for a bad path, {SyscallError} when the socket cannot be bound.
   */
  constructor(path: string) {
    const local = sockaddrUn(path, "service local path");
    const lib = libc();
    const fd = check(
      lib.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0),
      "socket(AF_UNIX, SOCK_DGRAM)",
    );
    try {
      if (lib.unlink(encoder.encode(path + "\0")) < 0 && lastErrno() !== Errno.ENOENT) {
        throw new SyscallError(lastErrno(), `removing stale socket ${path}`);
      }
      check(lib.bind(fd, local, local.length), `binding service socket ${path}`, {
        EACCES: `cannot create ${path}: permission denied — choose a writable directory`,
        EADDRINUSE: `${path} is in use`,
        ENOENT: `the directory of ${path} does not exist`,
      });
    } catch (e) {
      lib.close(fd);
      throw e;
    }
    this.fd = fd;
    this.path = path;
  }

  /**
   * One non-blocking recvfrom of at most `len` bytes into `buf`, recording the sender.
   * Returns the datagram's length (MSG_TRUNC is not asked for: pass one byte more than the
   * largest datagram you accept to see oversize ones), or -1 (read {@link lastErrno}).
   */
  recv(buf: Uint8Array, len: number): number {
    this.#fromLenView.setUint32(0, SOCKADDR_UN_LEN, true);
    return libc().recvfrom(this.fd, buf, len, 0, this.#from, this.#fromLen);
  }

  /** True when the last {@link recv} came from the socket at `addr` (from {@link sockaddrUn}). */
  lastSenderIs(addr: Uint8Array): boolean {
    const len = this.#fromLenView.getUint32(0, true);
    // The kernel may or may not count the trailing NUL; compare the path bytes.
    const a = this.#from;
    let end = Math.min(len, SOCKADDR_UN_LEN);
    while (end > 2 && a[end - 1] === 0) end--;
    if (end !== addr.length - 1) return false;
    for (let i = 0; i < end; i++) if (a[i] !== addr[i]) return false;
    return true;
  }

  /** One non-blocking sendto of `buf[0..len)` to `addr`. Returns the count or -1 (errno). */
  sendTo(buf: Uint8Array, len: number, addr: Uint8Array): number {
    return libc().sendto(this.fd, buf, len, 0, addr, addr.length);
  }

  /** Closes the socket and removes its file. */
  close(): void {
    libc().close(this.fd);
    libc().unlink(encoder.encode(this.path + "\0"));
  }
}
