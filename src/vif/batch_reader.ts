/**
 * The read loop shared by every fd-backed reader (TUN and service vifs, the UDP socket):
 * take a batch straight from the fd while it is busy, else await readability through the
 * fd's {@link FdPoller} (ffi/fd_poller.ts); the owner can {@link BatchReader.kick} a parked
 * reader to drain without waiting for the poll thread.
 * @module
 */
import { type FdPoller, POLL_ERROR_BITS } from "../../ffi/mod.ts";

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

/**
 * The read loop of an fd-backed vif: take a batch straight away while the fd is busy, else
 * await readability; go through the poller at least every {@link MAX_BATCHES_WITHOUT_POLL}
 * batches.
 */
export class BatchReader {
  #batchesWithoutPoll = 0;
  /** The poll in flight; it stays armed across a kicked drain (see {@link kick}). */
  #poll: Promise<number> | undefined;
  /** Resolves the wait of a reader parked on {@link #poll}; set only while it is parked. */
  #wake: ((v: undefined) => void) | undefined;

  /** @param poller the fd's poller */
  constructor(private readonly poller: FdPoller) {}

  /**
   * Tells a reader parked on the poller to try a drain now, without waiting for the poll
   * thread. The owner calls it after writing to its fd: a TUN write runs the kernel's answer
   * (an echo reply, a TCP ACK) inside the write system call, so the answer is already queued
   * and a drain in the same event-loop turn saves one thread hop. The poll stays armed; when
   * the drain finds nothing the reader parks on the same poll again. No-op when not parked.
   */
  kick(): void {
    const wake = this.#wake;
    if (wake === undefined) return;
    this.#wake = undefined;
    wake(undefined);
  }

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
      const poll = this.#poll ??= this.poller.wait();
      const kicked = new Promise<undefined>((r) => this.#wake = r);
      let ev: number | undefined;
      try {
        ev = await Promise.race([poll, kicked]);
      } finally {
        this.#wake = undefined;
      }
      if (ev === undefined) continue; // kicked: drain once more, the poll stays armed
      this.#poll = undefined;
      if (ev === 0) return 0;
      if ((ev & POLL_ERROR_BITS) !== 0) {
        const n = await onPollError(ev);
        if (n > 0) return n;
      }
    }
  }
}
