/**
 * Chunked DC transfer over a peer session, for DCs larger than one session frame (up to
 * {@link MAX_DC_BYTES}, about 30 000 whitelist entries).
 *
 * A DC that fits in one control frame travels whole (frame type `Dc`, as before, which older
 * vmesh nodes understand). A larger one is cut into `DcChunk` frames sent back to back, each
 * carrying a 40-byte header and a slice of the DC:
 *
 * | offset | size | field                                              |
 * |-------:|-----:|----------------------------------------------------|
 * |      0 |    4 | total length of the DC in bytes (u32, big-endian)  |
 * |      4 |    2 | index of this chunk, from 0 (u16)                  |
 * |      6 |    2 | number of chunks (u16) = ceil(total / 61 440)      |
 * |      8 |   32 | SHA-256 of the whole DC                            |
 * |     40 |    … | the slice: 61 440 bytes, the last chunk the rest   |
 *
 * The receiver ({@link DcReassembler}, one per session) is strict, so a peer can make it hold
 * at most one DC's worth of memory for a bounded time: one transfer at a time, total at most
 * 1 MiB, chunks in order with every slice of exactly the right size and the same header, the
 * whole finished within {@link DC_TRANSFER_TIMEOUT_MS}, and the SHA-256 checked before the
 * DC goes to signature verification. Any violation is a protocol error: the caller closes that
 * one session. The caller may also decline a transfer when it starts (a budget over all
 * sessions): the reassembler then follows it with the same checks but keeps none of its bytes.
 * @module
 */
import { createHash } from "node:crypto";
import { DcError, MAX_DC_BYTES } from "./errors.ts";

/** Length of a chunk's header. */
export const DC_CHUNK_HEADER_LEN = 40;
/** Bytes of DC per chunk (all but the last chunk carry exactly this many). */
export const DC_CHUNK_DATA_LEN = 60 * 1024;
/** Most chunks a transfer can have (a 1 MiB DC). */
export const DC_MAX_CHUNKS = Math.ceil(MAX_DC_BYTES / DC_CHUNK_DATA_LEN);
/** A transfer not finished this long after its first chunk closes the session. */
export const DC_TRANSFER_TIMEOUT_MS = 60_000;

/** SHA-256 of `data`, 32 bytes (synchronous, for the transfer's integrity check). */
export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(data).digest());
}

/**
 * Cuts a DC into chunk payloads.
 * @param raw the whole DC (at most 1 MiB)
 * @throws {RangeError} when `raw` is empty or over 1 MiB
 */
export function encodeDcChunks(raw: Uint8Array): Uint8Array[] {
  if (raw.length === 0 || raw.length > MAX_DC_BYTES) {
    throw new RangeError(`a DC of ${raw.length} bytes cannot be sent (1 byte to 1 MiB)`);
  }
  const hash = sha256(raw);
  const count = Math.ceil(raw.length / DC_CHUNK_DATA_LEN);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const slice = raw.subarray(i * DC_CHUNK_DATA_LEN, (i + 1) * DC_CHUNK_DATA_LEN);
    const p = new Uint8Array(DC_CHUNK_HEADER_LEN + slice.length);
    const v = new DataView(p.buffer);
    v.setUint32(0, raw.length);
    v.setUint16(4, i);
    v.setUint16(6, count);
    p.set(hash, 8);
    p.set(slice, DC_CHUNK_HEADER_LEN);
    out.push(p);
  }
  return out;
}

interface Transfer {
  readonly total: number;
  readonly count: number;
  readonly hash: Uint8Array;
  readonly startedAt: number;
  /** Undefined while skipping a transfer the caller declined. */
  readonly buf: Uint8Array | undefined;
  next: number;
}

function bad(message: string): DcError {
  return new DcError("bad_transfer", `DC transfer: ${message}`);
}

/**
 * Reassembles the chunked DCs of one session (see the module doc for the rules).
 * @example
 * ```ts
 * const r = new DcReassembler(() => performance.now());
 * for (const chunk of encodeDcChunks(new Uint8Array(100_000))) {
 *   const whole = r.push(chunk); // the DC, after the last chunk
 * }
 * ```
 */
export class DcReassembler {
  #t: Transfer | undefined;
  readonly #now: () => number;
  readonly #timeoutMs: number;

  /**
   * @param now monotonic milliseconds (the session clock)
   * @param timeoutMs how long a transfer may take from its first chunk
   */
  constructor(now: () => number, timeoutMs = DC_TRANSFER_TIMEOUT_MS) {
    this.#now = now;
    this.#timeoutMs = timeoutMs;
  }

  /** Whether a transfer is under way. */
  get busy(): boolean {
    return this.#t !== undefined;
  }

  /** Bytes held for the transfer under way (0 when idle or skipping a declined transfer). */
  get holding(): number {
    return this.#t?.buf?.length ?? 0;
  }

  /** Whether the transfer under way has taken longer than the timeout. */
  timedOut(): boolean {
    return this.#t !== undefined && this.#now() - this.#t.startedAt > this.#timeoutMs;
  }

  /** Forgets the transfer under way (the session closed). */
  reset(): void {
    this.#t = undefined;
  }

  /**
   * Takes one chunk payload.
   * @param admit asked once, at a transfer's first chunk, with its total length: false skips
   *   the transfer (its chunks are still checked, none is kept, nothing is returned)
   * @returns the whole DC after its last chunk (its SHA-256 checked), else undefined
   * @throws {DcError} "bad_transfer" on any violation; the transfer is then dropped
   */
  push(payload: Uint8Array, admit?: (total: number) => boolean): Uint8Array | undefined {
    try {
      return this.#push(payload, admit);
    } catch (e) {
      this.#t = undefined;
      throw e;
    }
  }

  #push(payload: Uint8Array, admit?: (total: number) => boolean): Uint8Array | undefined {
    if (payload.length <= DC_CHUNK_HEADER_LEN) {
      throw bad(`a chunk of ${payload.length} bytes is shorter than its header plus data`);
    }
    const v = new DataView(payload.buffer, payload.byteOffset, DC_CHUNK_HEADER_LEN);
    const total = v.getUint32(0);
    const index = v.getUint16(4);
    const count = v.getUint16(6);
    const hash = payload.subarray(8, DC_CHUNK_HEADER_LEN);
    const data = payload.subarray(DC_CHUNK_HEADER_LEN);
    if (total > MAX_DC_BYTES) throw bad(`total of ${total} bytes is over the 1 MiB limit`);
    if (count !== Math.ceil(total / DC_CHUNK_DATA_LEN)) {
      throw bad(`${count} chunks announced for ${total} bytes`);
    }
    if (index >= count) throw bad(`chunk ${index} of ${count}`);
    let t = this.#t;
    if (t === undefined) {
      if (index !== 0) throw bad(`chunk ${index} arrived before chunk 0`);
      t = {
        total,
        count,
        hash: hash.slice(),
        startedAt: this.#now(),
        buf: admit === undefined || admit(total) ? new Uint8Array(total) : undefined,
        next: 0,
      };
      this.#t = t;
    } else {
      if (this.timedOut()) {
        throw bad(`not finished within ${this.#timeoutMs / 1000} s (chunk ${t.next} missing)`);
      }
      if (index === 0) throw bad("a new transfer started before the previous one ended");
      if (index !== t.next) throw bad(`chunk ${index} arrived, expected ${t.next}`);
      if (total !== t.total || count !== t.count || !equal(hash, t.hash)) {
        throw bad(`chunk ${index} belongs to another transfer`);
      }
    }
    const want = index < count - 1 ? DC_CHUNK_DATA_LEN : total - DC_CHUNK_DATA_LEN * (count - 1);
    if (data.length !== want) {
      throw bad(`chunk ${index} carries ${data.length} bytes, expected ${want}`);
    }
    t.buf?.set(data, index * DC_CHUNK_DATA_LEN);
    t.next++;
    if (t.next < count) return undefined;
    this.#t = undefined;
    if (t.buf === undefined) return undefined;
    if (!equal(sha256(t.buf), t.hash)) {
      throw bad("the SHA-256 of the reassembled DC differs from the one announced");
    }
    return t.buf;
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
