/**
 * Anti-replay window over 64-bit packet counters, after RFC 6479: a ring of 32-bit blocks
 * where whole blocks are cleared as the window slides, so sliding costs one store per block
 * passed, never a bit-shift of the whole bitmap.
 *
 * 128 blocks × 32 bits = 4096 bits; one block is always being refilled, so the window
 * accepts any not-yet-seen counter within {@link REPLAY_WINDOW} (4064) of the highest one.
 *
 * Use: `check()` before decrypting (cheap reject of replays and old counters), then after the
 * datagram authenticated, `accept()` (which checks again and records the counter). Only
 * authenticated counters ever move the window, so forged datagrams cannot advance it.
 * @module
 */

const BLOCKS = 128; // power of two
const BLOCK_BITS = 32;
/** Counters this far behind the highest accepted one (or farther) are refused as too old. */
export const REPLAY_WINDOW = (BLOCKS - 1) * BLOCK_BITS;

/** Result of a window check. */
export const enum ReplayVerdict {
  /** Not seen and within (or ahead of) the window. */
  Ok = 0,
  /** Seen before. */
  Replayed = 1,
  /** Older than the window can tell. */
  TooOld = 2,
}

/** A sliding anti-replay bitmap for one receive direction. */
export class ReplayWindow {
  readonly #bits = new Uint32Array(BLOCKS);
  #last = -1;

  /** The highest counter accepted so far (-1 before the first). */
  get highest(): number {
    return this.#last;
  }

  /** Says whether `counter` (a non-negative integer below 2^53) may be accepted. */
  check(counter: number): ReplayVerdict {
    if (counter > this.#last) return ReplayVerdict.Ok;
    if (this.#last - counter >= REPLAY_WINDOW) return ReplayVerdict.TooOld;
    const block = Math.floor(counter / BLOCK_BITS) & (BLOCKS - 1);
    const bit = 1 << (counter % BLOCK_BITS);
    return (this.#bits[block] & bit) !== 0 ? ReplayVerdict.Replayed : ReplayVerdict.Ok;
  }

  /** Records an authenticated `counter`; returns the verdict it had (only Ok records it). */
  accept(counter: number): ReplayVerdict {
    const v = this.check(counter);
    if (v !== ReplayVerdict.Ok) return v;
    if (counter > this.#last) {
      const cur = Math.floor(this.#last / BLOCK_BITS);
      const next = Math.floor(counter / BLOCK_BITS);
      const clear = Math.min(next - cur, BLOCKS);
      for (let i = 1; i <= clear; i++) this.#bits[(cur + i) & (BLOCKS - 1)] = 0;
      this.#last = counter;
    }
    this.#bits[Math.floor(counter / BLOCK_BITS) & (BLOCKS - 1)] |= 1 << (counter % BLOCK_BITS);
    return ReplayVerdict.Ok;
  }
}
