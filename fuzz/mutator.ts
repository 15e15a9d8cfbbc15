/**
 * Structured mutations of valid inputs, driven by a seeded generator so that a run can be
 * repeated exactly. A mutant starts from one of the target's valid encodings (made by the
 * project's own encoders) and goes through one to four of: bit flips, "interesting" byte and
 * word values, byte insertion and deletion, truncation, extension, splicing with another valid
 * input, repetition of a range (a repeated field), and length fields set to 0, the maximum,
 * or the true length plus or minus one. Now and then it is plain random bytes instead.
 * @module
 */

/** A length (or count) field of a seed: where it is and how wide, big-endian. */
export interface LengthField {
  /** Byte offset in the seed. */
  readonly offset: number;
  /** Width in bytes: 1, 2, 3 or 4. */
  readonly width: 1 | 2 | 3 | 4;
  /** The value the field holds in the valid seed. */
  readonly value: number;
}

/** A valid input and (optionally) where its length fields are. */
export interface Seed {
  readonly bytes: Uint8Array;
  readonly lengths?: readonly LengthField[];
}

/**
 * A small, fast, seeded generator (mulberry32): the same seed gives the same sequence, which
 * is what makes a fuzz run repeatable from its printed seed.
 */
export class Rng {
  #s: number;

  /** @param seed any 32-bit integer */
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A uniform integer in `[0, n)`; `n` ≥ 1. */
  below(n: number): number {
    return n <= 1 ? 0 : this.u32() % n;
  }

  /** True with probability `1 / n`. */
  oneIn(n: number): boolean {
    return this.below(n) === 0;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/** Byte values that tend to sit on boundaries. */
const BYTES = [0x00, 0x01, 0x02, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x20, 0x40, 0x60, 0x3a];
/** Word values (any width) that tend to sit on boundaries. */
const WORDS = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff];

/** Largest mutant produced (bounded memory: a mutant never grows past this). */
export const MAX_MUTANT_BYTES = 1 << 20;

function writeBe(buf: Uint8Array, off: number, width: number, value: number): void {
  for (let i = width - 1; i >= 0; i--) {
    if (off + i < buf.length) buf[off + i] = value & 0xff;
    value = Math.floor(value / 256);
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(Math.min(n, MAX_MUTANT_BYTES));
  let off = 0;
  for (const p of parts) {
    if (off >= out.length) break;
    const take = Math.min(p.length, out.length - off);
    out.set(p.subarray(0, take), off);
    off += take;
  }
  return out;
}

/** The value to write into a length field: 0, the maximum, or the true value ± 1. */
function lengthValue(rng: Rng, f: LengthField): number {
  const max = 2 ** (8 * f.width) - 1;
  switch (rng.below(6)) {
    case 0:
      return 0;
    case 1:
      return max;
    case 2:
      return Math.min(max, f.value + 1);
    case 3:
      return Math.max(0, f.value - 1);
    case 4:
      return rng.pick(WORDS) % (max + 1);
    default:
      return rng.u32() % (max + 1);
  }
}

/** One mutation step on `b` (never modified; a new array is returned). */
function step(rng: Rng, b: Uint8Array, seed: Seed, all: readonly Seed[]): Uint8Array {
  const n = b.length;
  const at = () => rng.below(n);
  switch (rng.below(12)) {
    case 0: { // flip one to eight bits
      if (n === 0) return rng.bytes(1);
      const out = b.slice();
      for (let k = 1 + rng.below(8); k > 0; k--) out[at()] ^= 1 << rng.below(8);
      return out;
    }
    case 1: { // an interesting byte
      if (n === 0) return Uint8Array.of(rng.pick(BYTES));
      const out = b.slice();
      out[at()] = rng.pick(BYTES);
      return out;
    }
    case 2: { // an interesting 16/24/32-bit word anywhere (maybe a length we do not know of)
      if (n === 0) return b;
      const out = b.slice();
      writeBe(out, at(), 2 + rng.below(3), rng.pick(WORDS));
      return out;
    }
    case 3: { // insert random bytes
      const i = rng.below(n + 1);
      return concat(
        b.subarray(0, i),
        rng.bytes(1 + rng.below(rng.oneIn(8) ? 512 : 8)),
        b.subarray(i),
      );
    }
    case 4: { // delete a range
      if (n === 0) return b;
      const i = at();
      const len = 1 + rng.below(Math.min(n - i, rng.oneIn(4) ? n : 8));
      return concat(b.subarray(0, i), b.subarray(i + len));
    }
    case 5: // truncate
      return b.slice(0, rng.below(n + 1));
    case 6: // extend with random or zero bytes
      return concat(
        b,
        rng.oneIn(2) ? rng.bytes(1 + rng.below(64)) : new Uint8Array(1 + rng.below(64)),
      );
    case 7: { // splice: the head of this with the tail of another valid input
      const other = rng.pick(all).bytes;
      return concat(b.subarray(0, rng.below(n + 1)), other.subarray(rng.below(other.length + 1)));
    }
    case 8: { // repeat a range in place (a repeated field or entry)
      if (n === 0) return b;
      const i = at();
      const len = 1 + rng.below(Math.min(n - i, 64));
      const piece = b.subarray(i, i + len);
      const times = 1 + rng.below(rng.oneIn(8) ? 200 : 3);
      return concat(b.subarray(0, i + len), ...Array(times).fill(piece), b.subarray(i + len));
    }
    case 9: // append a whole other valid input (two messages back to back)
      return concat(b, rng.pick(all).bytes);
    default: { // a known length field set to 0, max or off by one
      const fields = seed.lengths ?? [];
      if (fields.length === 0 || n === 0) {
        const out = b.slice();
        if (n > 0) {
          writeBe(out, at(), 1 + rng.below(2), lengthValue(rng, { offset: 0, width: 2, value: n }));
        }
        return out;
      }
      const f = rng.pick(fields);
      const out = b.slice();
      writeBe(out, f.offset, f.width, lengthValue(rng, f));
      return out;
    }
  }
}

/**
 * Makes one mutant of the target's seeds.
 * @param rng the run's generator
 * @param seeds the valid inputs (at least one)
 * @returns a new array; the seeds are not modified
 */
export function mutate(rng: Rng, seeds: readonly Seed[]): Uint8Array {
  if (rng.oneIn(50)) return rng.bytes(rng.below(rng.oneIn(4) ? 4096 : 128));
  const seed = rng.pick(seeds);
  if (rng.oneIn(20)) return seed.bytes.slice(); // the valid input itself must keep decoding
  let b = seed.bytes;
  for (let k = 1 + rng.below(4); k > 0; k--) b = step(rng, b, seed, seeds);
  return b === seed.bytes ? b.slice() : b;
}

/**
 * Cuts `input` into random chunks (for stream decoders): sometimes byte by byte, sometimes
 * in a few large pieces, sometimes whole.
 */
export function chunkings(rng: Rng, input: Uint8Array): Uint8Array[] {
  const mode = rng.below(4);
  if (mode === 0 || input.length === 0) return [input];
  const out: Uint8Array[] = [];
  let pos = 0;
  while (pos < input.length) {
    const len = mode === 1 ? 1 : mode === 2 ? 1 + rng.below(8) : 1 + rng.below(input.length);
    out.push(input.subarray(pos, pos + len));
    pos += len;
  }
  return out;
}
