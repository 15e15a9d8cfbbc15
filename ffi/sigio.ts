/**
 * Signal-driven readiness (`O_ASYNC`): the kernel sends SIGIO to the main thread when data
 * arrives on a watched socket, and Deno's signal listener, served by the event loop's own
 * reactor, wakes the reader. No worker thread is involved: the awaited `poll()` of
 * fd_poller.ts costs one dispatch to a blocking-pool thread per wait (on the main thread,
 * before the wait starts) and a second thread's wake-up per datagram that ends it; a signal
 * wakes the parked event loop directly.
 *
 * Signals are on only while the reader is parked: every datagram that arrives while none is
 * pending would otherwise interrupt the main thread at its next system call (a flood costs
 * one signal per datagram). Usage (src/udp/socket_ffi.ts): drain the fd until it is empty,
 * then {@link SigioWaiter.arm}, read {@link sigioCount}, read the fd once more (a datagram that
 * came while signals were off raised none), and only if that read finds nothing `await
 * waiter.wait(seen)`; {@link SigioWaiter.disarm} once awake. A SIGIO whose listener ran after
 * `seen` was read ends the wait at once. One listener serves every watched fd: a SIGIO wakes
 * every parked waiter, and each re-reads its fd (an EAGAIN costs ~1 µs).
 *
 * Preconditions, checked by {@link SigioWaiter.open} (undefined when not met): the caller is
 * the main thread (the signal is addressed to the thread that opens the waiter) and
 * `Deno.addSignalListener` works. The listener is installed before `O_ASYNC` is set, so a
 * SIGIO never meets the default action (terminate); once installed, Deno's handler stays in
 * place for the process's life, so a late SIGIO after the last waiter closed is ignored.
 * @module
 */
import { check } from "./errno.ts";
import { libc } from "./libc.ts";

const F_GETFL = 3;
const F_SETFL = 4;
const F_SETOWN_EX = 15;
const F_OWNER_TID = 0;
/** FASYNC (x86-64, arm64). */
const O_ASYNC = 0x2000;

let count = 0;
const parked = new Set<() => void>();
let open = 0;
let listening = false;
/**
 * Deno's signal listener does not keep the event loop alive, but a reader parked on it must
 * (as one parked on an awaited poll does): one idle interval, ref'd, while any waiter is open.
 */
let keepAlive: ReturnType<typeof setInterval> | undefined;
const KEEP_ALIVE_MS = 2 ** 31 - 1;

function onSigio(): void {
  count++;
  if (parked.size === 0) return;
  const wake = [...parked];
  parked.clear();
  for (const w of wake) w();
}

/**
 * Number of SIGIO notifications the listener has seen (monotonic). Read it before a draining
 * read and pass it to {@link SigioWaiter.wait}.
 */
export function sigioCount(): number {
  return count;
}

/** Wakes a reader when its fd receives data, through SIGIO. */
export class SigioWaiter {
  readonly #fd: number;
  readonly #flags: number;
  #armed = false;
  #closed = false;
  #wake: (() => void) | undefined;
  #resolve: ((v: boolean) => void) | undefined;

  private constructor(fd: number, flags: number) {
    this.#fd = fd;
    this.#flags = flags & ~O_ASYNC;
  }

  /**
   * Addresses `fd`'s (a non-blocking socket's) SIGIO to the calling thread; signals stay off
   * until {@link arm}. Returns undefined when this runtime cannot deliver SIGIO to a listener (then use the
   * awaited poll).
   * @throws {SyscallError} when fcntl() refuses the fd.
   */
  static open(fd: number): SigioWaiter | undefined {
    if (!listening) {
      try {
        Deno.addSignalListener("SIGIO", onSigio);
      } catch {
        return undefined; // not on Linux, or signals unavailable: the caller polls instead
      }
      listening = true;
    }
    if (open++ === 0) keepAlive = setInterval(() => {}, KEEP_ALIVE_MS);
    try {
      const lib = libc();
      const owner = new Int32Array([F_OWNER_TID, lib.gettid()]);
      check(
        lib.fcntl_ptr(fd, F_SETOWN_EX, new Uint8Array(owner.buffer)),
        `fcntl(F_SETOWN_EX) on fd ${fd}`,
      );
      const flags = check(lib.fcntl(fd, F_GETFL, 0), `fcntl(F_GETFL) on fd ${fd}`);
      // Try the flag once, so a kernel that refuses it fails here and not on the packet path.
      check(lib.fcntl(fd, F_SETFL, flags | O_ASYNC), `fcntl(F_SETFL, O_ASYNC) on fd ${fd}`);
      check(lib.fcntl(fd, F_SETFL, flags & ~O_ASYNC), `fcntl(F_SETFL) on fd ${fd}`);
      return new SigioWaiter(fd, flags);
    } catch (e) {
      release();
      throw e;
    }
  }

  /** Turns SIGIO on for the fd (before the last read ahead of a wait). Cheap when on. */
  arm(): void {
    if (this.#armed || this.#closed) return;
    this.#armed = true;
    libc().fcntl(this.#fd, F_SETFL, this.#flags | O_ASYNC);
  }

  /** Turns SIGIO off for the fd (while the reader drains). Cheap when off. */
  disarm(): void {
    if (!this.#armed) return;
    this.#armed = false;
    libc().fcntl(this.#fd, F_SETFL, this.#flags);
  }

  /**
   * Resolves true at the first SIGIO after `seen` (at once when {@link sigioCount} moved past
   * `seen` already), or false when the waiter is closed. One wait at a time.
   */
  wait(seen: number): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    if (count !== seen) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      this.#resolve = resolve;
      this.#wake = () => {
        this.#wake = undefined;
        this.#resolve = undefined;
        resolve(true);
      };
      parked.add(this.#wake);
    });
  }

  /**
   * Takes the fd out of signal-driven mode (before the owner closes it) and ends a pending
   * wait with false. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.disarm();
    this.#closed = true;
    if (this.#wake !== undefined) parked.delete(this.#wake);
    const resolve = this.#resolve;
    this.#wake = undefined;
    this.#resolve = undefined;
    resolve?.(false);
    release();
  }
}

/** One waiter fewer; the last one removes the listener and the keep-alive interval. */
function release(): void {
  if (--open > 0) return;
  clearInterval(keepAlive);
  keepAlive = undefined;
  if (!listening) return;
  listening = false;
  Deno.removeSignalListener("SIGIO", onSigio);
}
