/**
 * Freeing the receive buffers of bulk traffic early. Every chunk a `node:tls` socket emits is a
 * fresh ArrayBuffer allocated by Deno (`onread` with a caller's buffer works for plain TCP
 * sockets only), dropped by the session as soon as its frames are forwarded. V8 frees such
 * buffers only when it collects their (tiny) JS objects, and it starts a collection for
 * external memory only after ~64 MiB of it has accumulated: a node receiving at 1 Gbit/s held
 * 60–90 MiB of dead chunks at any time, most of its peak RSS.
 *
 * {@link ReceiveReclaimer} counts the bytes received and asks V8 for a young-generation
 * collection (a scavenge: the chunks are young, and short-lived) every
 * {@link RECLAIM_EVERY_BYTES}. A scavenge of a router's small young generation takes ~0.3 ms
 * (median on the 2-core VM), about 50 times a second at 200 MB/s: ~1.5 % of a core. Measured
 * receiving 64 KiB frames (docs/figures.md): peak RSS 95–105 MiB with 8 MiB between scavenges,
 * 83 MiB with 2 MiB; 4 MiB is the compromise. It needs V8's `gc()`, which
 * `--v8-flags=--expose-gc` provides (deno.json's `compile` task and every launcher pass it);
 * without it nothing is done and memory behaves as V8 decides by itself.
 * @module
 */

/** Received bytes between two young-generation collections. */
export const RECLAIM_EVERY_BYTES = 4 * 1024 * 1024;

/** V8's `gc()` as `--expose-gc` provides it (`type: "minor"` = a scavenge). */
export type GcFunction = (options: { type: "minor" | "major" }) => void;

/** Counts received bytes and collects the young generation every `everyBytes`. */
export class ReceiveReclaimer {
  readonly #gc: GcFunction | undefined;
  readonly #every: number;
  #since = 0;
  /** Young-generation collections requested so far. */
  collections = 0;

  /**
   * @param gc V8's `gc()` (default: the global one if `--expose-gc` exposed it)
   * @param everyBytes received bytes between collections
   */
  constructor(
    gc: GcFunction | undefined = (globalThis as { gc?: GcFunction }).gc,
    everyBytes = RECLAIM_EVERY_BYTES,
  ) {
    if (!(everyBytes > 0)) throw new RangeError(`everyBytes must be positive, not ${everyBytes}`);
    this.#gc = gc;
    this.#every = everyBytes;
  }

  /** True when collections can be requested (V8's `gc()` is available). */
  get active(): boolean {
    return this.#gc !== undefined;
  }

  /** Notes `bytes` received; collects the young generation when enough have been. */
  received(bytes: number): void {
    if (this.#gc === undefined) return;
    this.#since += bytes;
    if (this.#since < this.#every) return;
    this.#since = 0;
    this.collections++;
    this.#gc({ type: "minor" });
  }
}

/** The process's reclaimer, shared by every TLS link (the buffers share one heap). */
export const receiveReclaimer: ReceiveReclaimer = new ReceiveReclaimer();
