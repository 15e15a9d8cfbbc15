/**
 * The outgoing side of a session: frames are appended to pending buffers and written in one
 * socket write per flush (control frames first). IP packets are flushed explicitly: the
 * forwarder calls the session's `flush()` once at the end of each batch it queued to it, so
 * a batch of packets leaves in one write. Control frames, sent from anywhere in the control
 * plane, schedule their own flush (a microtask by default). Bounded: IP packets are refused
 * (and counted by the caller) once the socket backlog plus pending bytes passes
 * `maxPacketBacklog`; control frames are accepted up to the larger `maxControlBacklog`,
 * beyond which the caller must disconnect the peer (it is not reading).
 *
 * Memory: a buffer handed to the sink whole comes back to its {@link PendingBuffer} once the
 * sink has written it (the `done` callback of {@link ByteSink.write}) and is filled again. Without
 * that, bulk traffic allocates one fresh buffer per flush, and V8 frees those only when ~64 MiB
 * of them have piled up (its external-memory limit): that pile was most of a node's peak RSS.
 * @module
 */
import { FRAME_HEADER_LEN, writeFrameHeader } from "./frame.ts";

/** Where the queue writes. */
export interface ByteSink {
  /**
   * Writes bytes; the sink takes ownership of the buffer until it calls `done` (once, when it
   * no longer reads `bytes`), or for good when it never does (a failed or dropped write).
   */
  write(bytes: Uint8Array, done?: () => void): void;
  /** Bytes accepted by `write` and not yet sent to the kernel. */
  backlog(): number;
}

/** Queue limits (bytes). */
export interface SendQueueOptions {
  /**
   * Backlog over which IP packets are refused (default 1 MiB: about 5 ms of bulk TCP at
   * 1.6 Gbit/s, and a bound on how long pings wait behind small packets).
   */
  maxPacketBacklog?: number;
  /** Backlog over which control frames are refused (default 16 MiB). */
  maxControlBacklog?: number;
}

const MIN_BUFFER = 64 * 1024;
/** Buffers are not pre-sized beyond this; a larger burst grows one for itself. */
const MAX_PRESIZE = 1024 * 1024;
/** Written buffers kept for reuse per {@link PendingBuffer} (each at most {@link MAX_PRESIZE}). */
const MAX_SPARE = 4;

/**
 * A growable append buffer. On take, a mostly empty buffer is copied out and kept for reuse,
 * a mostly full one is handed off whole: what the socket holds is never much larger than
 * the bytes in it (a 100-byte frame must not pin a 1 MiB buffer until it is sent). A buffer
 * handed off whole is taken back once written (see {@link PendingBuffer.recycle}), up to
 * {@link MAX_SPARE} of them, so bulk traffic reuses a few buffers instead of allocating.
 */
class PendingBuffer {
  #buf: Uint8Array | null = null;
  #len = 0;
  #lastSize = MIN_BUFFER;
  /** Written buffers ready for reuse (whole, each at most {@link MAX_PRESIZE} bytes). */
  #spare: Uint8Array[] = [];
  /** Returns a buffer that take() handed off whole, once the sink has written it. */
  readonly recycle = (buf: Uint8Array): void => {
    if (this.#spare.length < MAX_SPARE && buf.length <= MAX_PRESIZE) this.#spare.push(buf);
  };

  get length(): number {
    return this.#len;
  }

  append(type: number, payload: Uint8Array): void {
    const need = this.#len + FRAME_HEADER_LEN + payload.length;
    if (this.#buf === null || need > this.#buf.length) {
      let size = Math.max(this.#buf?.length ?? this.#lastSize, MIN_BUFFER);
      while (size < need) size *= 2;
      const next = this.#reuse(size) ?? new Uint8Array(size);
      if (this.#buf !== null) next.set(this.#buf.subarray(0, this.#len));
      this.#buf = next;
    }
    writeFrameHeader(this.#buf, this.#len, type, payload.length);
    this.#buf.set(payload, this.#len + FRAME_HEADER_LEN);
    this.#len = need;
  }

  /**
   * The pending bytes, to write now, and whether they are a view of a whole buffer that
   * {@link recycle} should get back once written (false: a copy, left to the GC).
   */
  take(): { bytes: Uint8Array; whole: boolean } | null {
    if (this.#len === 0 || this.#buf === null) return null;
    let out: { bytes: Uint8Array; whole: boolean };
    if (this.#len <= this.#buf.length >>> 1) {
      out = { bytes: this.#buf.slice(0, this.#len), whole: false };
    } else {
      out = { bytes: this.#buf.subarray(0, this.#len), whole: true };
      this.#lastSize = Math.min(this.#buf.length, MAX_PRESIZE);
      this.#buf = null;
    }
    this.#len = 0;
    return out;
  }

  clear(): void {
    this.#buf = null;
    this.#len = 0;
    this.#spare = [];
  }

  /** A spare buffer of exactly `size` bytes, if one is kept (others are dropped). */
  #reuse(size: number): Uint8Array | undefined {
    while (this.#spare.length > 0) {
      const b = this.#spare.pop()!;
      if (b.length === size) return b;
    }
    return undefined;
  }
}

/** Batched, bounded frame output for one session. */
export class SendQueue {
  readonly #sink: ByteSink;
  readonly #maxPacket: number;
  readonly #maxControl: number;
  readonly #schedule: (fn: () => void) => void;
  readonly #control = new PendingBuffer();
  readonly #packets = new PendingBuffer();
  #scheduled = false;
  #closed = false;

  /**
   * @param sink the socket side
   * @param opts limits
   * @param schedule defers the flush after a control frame (default `queueMicrotask`)
   */
  constructor(
    sink: ByteSink,
    opts: SendQueueOptions = {},
    schedule: (fn: () => void) => void = queueMicrotask,
  ) {
    this.#sink = sink;
    this.#maxPacket = opts.maxPacketBacklog ?? 1024 * 1024;
    this.#maxControl = Math.max(opts.maxControlBacklog ?? 16 * 1024 * 1024, this.#maxPacket);
    this.#schedule = schedule;
  }

  /** Bytes waiting in this queue (not yet handed to the sink). */
  get pending(): number {
    return this.#control.length + this.#packets.length;
  }

  /** Sink backlog plus pending bytes. */
  backlog(): number {
    return this.#sink.backlog() + this.pending;
  }

  /**
   * Queues an IP frame; it is written at the next {@link flush} (the caller's end of batch).
   * The payload is copied before returning.
   * @returns false when the backlog is full or the queue closed (the packet is dropped)
   */
  enqueuePacket(type: number, payload: Uint8Array): boolean {
    if (this.#closed) return false;
    if (this.backlog() + FRAME_HEADER_LEN + payload.length > this.#maxPacket) return false;
    this.#packets.append(type, payload);
    return true;
  }

  /**
   * Queues a control frame, ahead of queued packets. The payload is copied.
   * @returns false when even the control backlog limit is exceeded, or the queue closed
   */
  enqueueControl(type: number, payload: Uint8Array): boolean {
    if (this.#closed) return false;
    if (this.backlog() + FRAME_HEADER_LEN + payload.length > this.#maxControl) return false;
    this.#control.append(type, payload);
    this.#arm();
    return true;
  }

  /** Writes everything pending now: control frames, then packets. */
  flush(): void {
    this.#scheduled = false;
    if (this.#closed) return;
    const c = this.#control.take();
    const p = this.#packets.take();
    if (c !== null) this.#write(this.#control, c);
    if (p !== null) this.#write(this.#packets, p);
  }

  /** Drops everything pending and refuses further frames. */
  close(): void {
    this.#closed = true;
    this.#control.clear();
    this.#packets.clear();
  }

  #write(from: PendingBuffer, out: { bytes: Uint8Array; whole: boolean }): void {
    if (!out.whole) {
      this.#sink.write(out.bytes);
      return;
    }
    const buf = new Uint8Array(out.bytes.buffer, out.bytes.byteOffset, out.bytes.buffer.byteLength);
    this.#sink.write(out.bytes, () => {
      if (!this.#closed) from.recycle(buf);
    });
  }

  #arm(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#schedule(() => this.flush());
  }
}
