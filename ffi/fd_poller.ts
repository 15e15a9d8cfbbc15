/**
 * Awaiting readability of a non-blocking fd without blocking the event loop: an awaited
 * `poll()` on a worker thread over {fd, eventfd}; `close()` writes the eventfd so a pending
 * wait ends at once. The read loop built on it is src/vif/batch_reader.ts.
 *
 * Layout: struct pollfd is 8 bytes (int fd @0, short events @4, short revents @6).
 *
 * GC hazard: the pollfd array's address is held by C while a poll is pending, so it lives in
 * a field for the poller's whole life.
 * @module
 */
import { check, syscallError } from "./errno.ts";
import { EFD_CLOEXEC, EFD_NONBLOCK, libc, POLLERR, POLLHUP, POLLIN, POLLNVAL } from "./libc.ts";

/** poll revents bits that mean the fd itself is in trouble. */
export const POLL_ERROR_BITS = POLLERR | POLLHUP | POLLNVAL;

/** Waits for one fd to become readable; one wait at a time. */
export class FdPoller {
  readonly #fd: number;
  readonly #efd: number;
  /** struct pollfd[2] {int fd; short events; short revents}: kept referenced (see module). */
  readonly #pollfds = new Uint8Array(16);
  readonly #pollView = new DataView(this.#pollfds.buffer);
  readonly #efdBuf = new Uint8Array(8);
  readonly #efdScratch = new Uint8Array(8);
  #closed = false;
  #pending = false;
  #released = false;
  #onIdle: (() => void) | undefined;

  /**
   * @param fd a non-blocking descriptor to watch for POLLIN.
   * @throws {SyscallError} when no eventfd can be created.
   */
  constructor(fd: number) {
    this.#fd = fd;
    this.#efd = check(libc().eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd()");
    const v = this.#pollView;
    v.setInt32(0, fd, true);
    v.setInt16(4, POLLIN, true);
    v.setInt32(8, this.#efd, true);
    v.setInt16(12, POLLIN, true);
    new DataView(this.#efdBuf.buffer).setBigUint64(0, 1n, true);
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Resolves with the fd's revents (POLLIN and/or error bits) once it is readable or in
   * error, or with 0 when the poller is closed.
   * @throws {Error} when a wait is already pending, or poll keeps failing.
   */
  async wait(): Promise<number> {
    if (this.#pending) throw new Error("FdPoller.wait: a wait is already pending");
    this.#pending = true;
    let failures = 0;
    try {
      while (!this.#closed) {
        const v = this.#pollView;
        v.setInt16(6, 0, true);
        v.setInt16(14, 0, true);
        const r = await libc().poll_async(this.#pollfds, 2n, -1);
        if (this.#closed) return 0;
        if (r < 0) {
          // errno lives on the worker thread; EINTR is the only expected cause.
          if (++failures > 100) throw new Error(`poll() on fd ${this.#fd} keeps failing`);
          continue;
        }
        failures = 0;
        const ev = v.getInt16(6, true);
        if (v.getInt16(14, true) !== 0) this.#drainEventfd();
        if (ev !== 0) return ev;
      }
      return 0;
    } finally {
      this.#pending = false;
      if (this.#closed) this.#release();
    }
  }

  #drainEventfd(): void {
    libc().read(this.#efd, this.#efdScratch, 8);
  }

  /**
   * Ends any pending wait (it resolves 0) and frees the eventfd. `onIdle` runs once no poll
   * can still touch the watched fd — at once when none is pending, else when the pending poll
   * returns (microseconds) — so the owner closes its fd there, never under a running poll.
   */
  close(onIdle?: () => void): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onIdle = onIdle;
    if (this.#pending) {
      const r = libc().write(this.#efd, this.#efdBuf, 8);
      // Cannot fail short of counter overflow; the poll would then never end.
      if (r < 0) throw syscallError("waking the poller (write eventfd)");
    } else {
      this.#release();
    }
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    libc().close(this.#efd);
    this.#onIdle?.();
  }
}
