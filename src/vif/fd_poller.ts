/**
 * Awaiting readability of a non-blocking fd without blocking the event loop: an awaited
 * `poll()` on a worker thread over {fd, eventfd}; `close()` writes the eventfd so a pending
 * wait ends at once.
 *
 * GC hazard: the pollfd array's address is held by C while a poll is pending, so it lives in
 * a field for the poller's whole life.
 * @module
 */
import { check, syscallError } from "../../ffi/errno.ts";
import {
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  libc,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLNVAL,
} from "../../ffi/libc.ts";

/** poll revents bits that mean the fd itself is in trouble. */
export const POLL_ERROR_BITS = POLLERR | POLLHUP | POLLNVAL;

/**
 * Batches a reader may take straight from a busy fd before it goes through an awaited poll.
 * A read that finds data at once resolves through microtasks only; a reader that never
 * awaits the poller would keep the event loop from timers and sockets for as long as the fd
 * stays busy (a packet flood stalled pings for seconds). Even an awaited poll lets timers and
 * sockets run only every few dozen completions (the runtime polls its timer and I/O drivers
 * periodically while busy), so the stall is about that many batches' work: with one batch
 * per poll, ~130 ms for a deliberately slow 1 ms-per-batch consumer, a few tens of ms for a
 * real one. The cost is one thread hop (~16 µs) per batch of up to 64 packets.
 */
export const MAX_BATCHES_WITHOUT_POLL = 1;

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

/**
 * The read loop of an fd-backed vif: take a batch straight away while the fd is busy, else
 * await readability; go through the poller at least every {@link MAX_BATCHES_WITHOUT_POLL}
 * batches.
 */
export class BatchReader {
  #batchesWithoutPoll = 0;

  /** @param poller the fd's poller */
  constructor(private readonly poller: FdPoller) {}

  /**
   * Resolves with the number of packets `drain` placed (≥ 1), or 0 once `closed()` or the
   * poller is closed. When poll reports an error condition `onPollError` runs: it returns the
   * packets it could still drain (then handed over), 0 to wait again, or throws.
   */
  async next(
    closed: () => boolean,
    drain: () => number,
    onPollError: (revents: number) => number | Promise<number>,
  ): Promise<number> {
    for (;;) {
      if (closed()) return 0;
      if (this.#batchesWithoutPoll < MAX_BATCHES_WITHOUT_POLL) {
        const n = drain();
        if (n > 0) {
          this.#batchesWithoutPoll++;
          return n;
        }
      }
      this.#batchesWithoutPoll = 0;
      const ev = await this.poller.wait();
      if (ev === 0) return 0;
      if ((ev & POLL_ERROR_BITS) !== 0) {
        const n = await onPollError(ev);
        if (n > 0) return n;
      }
    }
  }
}
