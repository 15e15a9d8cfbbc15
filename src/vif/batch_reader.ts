/**
 * The read loop shared by every fd-backed reader (TUN and service vifs, the UDP socket):
 * take a batch straight from the fd while it is busy, else await readability through the
 * fd's {@link FdPoller} (ffi/fd_poller.ts).
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
