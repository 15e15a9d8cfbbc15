/**
 * errno handling for FFI calls: read errno right after a failing call and turn it into a
 * {@link SyscallError} whose message tells an operator what failed and what to do.
 * @module
 */
import { libc } from "./libc.ts";

/** errno values by name (Linux, x86-64 and arm64). */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  ENOTDIR: 20,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  ENOSPC: 28,
  EPIPE: 32,
  ERANGE: 34,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  EBADFD: 77,
  ENOTSOCK: 88,
  EDESTADDRREQ: 89,
  EMSGSIZE: 90,
  EPROTONOSUPPORT: 93,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENETUNREACH: 101,
  ECONNRESET: 104,
  ENOBUFS: 105,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTUNREACH: 113,
} as const;

/** A name from {@link Errno}. */
export type ErrnoName = keyof typeof Errno;

const NAMES = new Map<number, string>(Object.entries(Errno).map(([k, v]) => [v, k]));

/** Default meanings, phrased for operators; call sites pass better ones where they know more. */
const MEANINGS: Record<string, string> = {
  EPERM:
    "operation not permitted — vmesh needs CAP_NET_ADMIN (run as root or grant the capability)",
  EACCES: "permission denied — check file permissions, or run with CAP_NET_ADMIN",
  ENOENT: "no such file or directory",
  EBUSY: "device or resource busy",
  EEXIST: "already exists",
  EINVAL: "invalid argument",
  ENODEV: "no such device",
  ENXIO: "no such device or address",
  ENOMEM: "out of memory",
  ENOBUFS: "no buffer space available",
  EMFILE: "too many open files in this process — raise the limit (ulimit -n)",
  ENFILE: "too many open files in the system",
  EAGAIN: "resource temporarily unavailable",
  EINTR: "interrupted by a signal",
  EBADF: "bad file descriptor (already closed?)",
  EBADFD: "file descriptor in a bad state (the interface was deleted?)",
  EIO: "input/output error",
  EFAULT: "bad address",
  ENOTTY: "inappropriate ioctl for this device",
  EOPNOTSUPP: "operation not supported",
  EAFNOSUPPORT: "address family not supported (is IPv6 disabled in this kernel?)",
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "address not available",
  ENETUNREACH: "network unreachable",
  ENETDOWN: "network is down",
  ECONNREFUSED: "connection refused (nothing is listening there)",
  ECONNRESET: "connection reset by peer",
  ENOTCONN: "not connected",
  EMSGSIZE: "message too long",
  ENAMETOOLONG: "name too long",
  ENOSYS: "function not implemented by this kernel",
};

/** Returns the symbolic name of an errno value ("EPERM"), or "errno N" when unknown. */
export function errnoName(errno: number): string {
  return NAMES.get(errno) ?? `errno ${errno}`;
}

/**
 * A failed system call. `message` reads `"<syscall>: <ENAME> — <meaning>"`, for example
 * `opening /dev/net/tun: ENOENT — the TUN driver is missing (run "modprobe tun")`.
 */
export class SyscallError extends Error {
  /** The errno value. */
  readonly errno: number;
  /** Its symbolic name ("EPERM"). */
  readonly errnoName: string;
  /** What was being done ("ioctl(TUNSETIFF)"). */
  readonly syscall: string;
  /** The operator-facing meaning of the error in this context. */
  readonly meaning: string;

  /** Builds the error; prefer {@link check} or {@link syscallError}. */
  constructor(errno: number, syscall: string, meaning?: string, options?: ErrorOptions) {
    const name = errnoName(errno);
    const text = meaning ?? MEANINGS[name] ?? "system call failed";
    super(`${syscall}: ${name} — ${text}`, options);
    this.name = "SyscallError";
    this.errno = errno;
    this.errnoName = name;
    this.syscall = syscall;
    this.meaning = text;
  }
}

let errnoView: Deno.UnsafePointerView | undefined;

/**
 * Reads the calling thread's errno. Call it immediately after the failing FFI call, before
 * any other FFI call; it is only meaningful for synchronous calls (a `nonblocking` call runs
 * on another thread whose errno is out of reach).
 */
export function lastErrno(): number {
  if (errnoView === undefined) {
    const p = libc().__errno_location();
    if (p === null) throw new Error("__errno_location() returned NULL");
    errnoView = new Deno.UnsafePointerView(p);
  }
  return errnoView.getInt32();
}

/** Meanings by errno name that replace the defaults for one call site. */
export type ErrnoHints = Partial<Record<ErrnoName, string>>;

/** Builds a {@link SyscallError} from the current errno. */
export function syscallError(syscall: string, hints?: ErrnoHints): SyscallError {
  const errno = lastErrno();
  const name = errnoName(errno) as ErrnoName;
  return new SyscallError(errno, syscall, hints?.[name]);
}

/**
 * Returns `ret` when it is not negative; otherwise reads errno and throws a
 * {@link SyscallError}. `hints` gives context-specific meanings by errno name.
 * @example
 * const fd = check(lib.open(path, O_RDWR, 0), "opening /dev/net/tun", {
 *   ENOENT: "the TUN driver is missing (run \"modprobe tun\")",
 * });
 * @throws {SyscallError} when `ret` is negative.
 */
export function check(ret: number, syscall: string, hints?: ErrnoHints): number;
/** BigInt overload of {@link check}. */
export function check(ret: bigint, syscall: string, hints?: ErrnoHints): bigint;
export function check(ret: number | bigint, syscall: string, hints?: ErrnoHints): number | bigint {
  if (ret < 0) throw syscallError(syscall, hints);
  return ret;
}
