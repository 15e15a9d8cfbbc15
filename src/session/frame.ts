/**
 * Session framing. Every frame is a 4-byte header — type (u8) and payload length (u24,
 * big-endian) — followed by the payload. The decoder works on arbitrary chunk boundaries,
 * hands out payloads as subarrays of the received chunk when a frame lies wholly inside it,
 * and copies only frames that straddle chunks.
 * @module
 */

/** Frame types. Values not listed here are skipped by the receiver (and counted). */
export const FrameType = {
  /** An IPv6 packet. */
  IpPacket: 0x01,
  /** An IPv6 packet preceded by a 10-byte virtio_net_hdr (may be a GSO super-packet). */
  IpPacketVnet: 0x02,
  /** Handshake hello; only valid as the first frame in each direction. */
  Hello: 0x10,
  /** Close with a UTF-8 reason; the sender closes the connection after it. */
  Close: 0x11,
  /** Liveness probe: u32 sequence number and an 8-byte random nonce (12 bytes). */
  Ping: 0x12,
  /** Answer to a ping: its 12-byte payload echoed unchanged. */
  Pong: 0x13,
  /** Routing: route announcement (payload defined by the routing layer). */
  RouteAnnounce: 0x20,
  /** Routing: route withdrawal (payload defined by the routing layer). */
  RouteWithdraw: 0x21,
  /** Distributed config: offer (version/hash; payload defined by the DC layer). */
  DcOffer: 0x22,
  /** Distributed config: the signed config itself. */
  Dc: 0x23,
  /** UDP data channel: request (payload defined by the UDP channel layer). */
  UdpChannelRequest: 0x24,
  /** UDP data channel: response. */
  UdpChannelResponse: 0x25,
  /** Distributed config: one chunk of a DC too large for one frame (defined by the DC layer). */
  DcChunk: 0x26,
  /** Node names: a request for the certificates of some node IDs (defined by `src/names`). */
  NodeInfoRequest: 0x27,
  /** Node names: certificates answering a request (defined by `src/names`). */
  NodeInfo: 0x28,
} as const;

/** A frame type value. */
export type FrameTypeValue = typeof FrameType[keyof typeof FrameType];

/** Frame types that the node may send with `Session.sendControl` and receives in `onControl`. */
export const CONTROL_TYPES: ReadonlySet<number> = new Set([
  FrameType.RouteAnnounce,
  FrameType.RouteWithdraw,
  FrameType.DcOffer,
  FrameType.Dc,
  FrameType.UdpChannelRequest,
  FrameType.UdpChannelResponse,
  FrameType.DcChunk,
  FrameType.NodeInfoRequest,
  FrameType.NodeInfo,
]);

/** Size of the frame header. */
export const FRAME_HEADER_LEN = 4;

/**
 * Largest payload of any frame: the largest IPv6 packet without jumbogram (40-byte header
 * plus 65535) preceded by a 10-byte virtio_net_hdr. Larger frames close the session.
 */
export const MAX_FRAME_PAYLOAD = 10 + 40 + 65_535;

/** Human-readable name of a frame type, for logs. */
export function frameTypeName(type: number): string {
  for (const [name, value] of Object.entries(FrameType)) {
    if (value === type) return name;
  }
  return `0x${type.toString(16).padStart(2, "0")}`;
}

/** Raised by {@link FrameDecoder} when the stream cannot be a valid frame sequence. */
export class FrameError extends Error {
  /** `"oversize-frame"` for a length over the limit. */
  readonly reason: "oversize-frame";

  /**
   * @param message what is wrong
   */
  constructor(message: string) {
    super(message);
    this.name = "FrameError";
    this.reason = "oversize-frame";
  }
}

/**
 * Writes a frame header at `offset` of `buf`.
 * @param buf destination; needs 4 bytes at `offset`
 * @param offset where the header starts
 * @param type frame type (0–255)
 * @param length payload length (0–{@link MAX_FRAME_PAYLOAD})
 * @throws {RangeError} when the type or length is out of range
 */
export function writeFrameHeader(
  buf: Uint8Array,
  offset: number,
  type: number,
  length: number,
): void {
  if (!Number.isInteger(type) || type < 0 || type > 0xff) {
    throw new RangeError(`frame type ${type} is not a byte`);
  }
  if (!Number.isInteger(length) || length < 0 || length > MAX_FRAME_PAYLOAD) {
    throw new RangeError(
      `frame payload of ${length} bytes exceeds the limit of ${MAX_FRAME_PAYLOAD} bytes`,
    );
  }
  buf[offset] = type;
  buf[offset + 1] = length >>> 16;
  buf[offset + 2] = (length >>> 8) & 0xff;
  buf[offset + 3] = length & 0xff;
}

/**
 * Encodes one frame into a fresh buffer.
 * @param type frame type
 * @param payload frame payload
 * @returns header and payload
 * @throws {RangeError} when the payload is too large
 * @example
 * ```ts
 * const bytes = encodeFrame(FrameType.Ping, new Uint8Array(4));
 * ```
 */
export function encodeFrame(type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_LEN + payload.length);
  writeFrameHeader(out, 0, type, payload.length);
  out.set(payload, FRAME_HEADER_LEN);
  return out;
}

/** Receives decoded frames from {@link FrameDecoder.push}. */
export interface FrameSink {
  /**
   * Called for each complete frame, in order. `payload` is valid only until `onChunkEnd`
   * returns: it may point into the pushed chunk or into the decoder's reassembly buffer.
   * Return `false` to stop decoding: the rest of the chunk is discarded (used when the
   * session closes).
   */
  onFrame(type: number, payload: Uint8Array): boolean;
  /** Called once at the end of each `push`, while all payloads handed out are still valid. */
  onChunkEnd(): void;
}

/**
 * Incremental frame decoder for a byte stream.
 * @example
 * ```ts
 * const dec = new FrameDecoder();
 * dec.push(chunk, { onFrame: (type, payload) => true, onChunkEnd: () => {} });
 * ```
 */
export class FrameDecoder {
  readonly #maxPayload: number;
  #partial: Uint8Array | null = null;
  #partialLen = 0;
  #stopped = false;

  /**
   * @param maxPayload largest accepted payload (default {@link MAX_FRAME_PAYLOAD})
   */
  constructor(maxPayload: number = MAX_FRAME_PAYLOAD) {
    this.#maxPayload = maxPayload;
  }

  /** Bytes held of an incomplete frame. */
  get buffered(): number {
    return this.#partialLen;
  }

  /**
   * Decodes all complete frames of `chunk` (plus any bytes held from earlier chunks).
   * After a {@link FrameError} or after the sink returned `false`, the decoder ignores all
   * further input.
   * @param chunk received bytes; not retained after the call
   * @param sink receives frames and the end-of-chunk call
   * @throws {FrameError} when a header announces a payload over the limit
   */
  push(chunk: Uint8Array, sink: FrameSink): void {
    if (this.#stopped) return;
    let pos = 0;
    try {
      if (this.#partialLen > 0) {
        pos = this.#fillPartial(chunk);
        if (pos < 0) return; // still incomplete, all of chunk consumed
        const p = this.#partial!;
        const len = (p[1] << 16) | (p[2] << 8) | p[3];
        this.#partialLen = 0;
        if (!sink.onFrame(p[0], p.subarray(FRAME_HEADER_LEN, FRAME_HEADER_LEN + len))) {
          this.#stopped = true;
          return;
        }
      }
      const n = chunk.length;
      while (n - pos >= FRAME_HEADER_LEN) {
        const len = (chunk[pos + 1] << 16) | (chunk[pos + 2] << 8) | chunk[pos + 3];
        this.#checkLength(chunk[pos], len);
        const end = pos + FRAME_HEADER_LEN + len;
        if (end > n) break;
        if (!sink.onFrame(chunk[pos], chunk.subarray(pos + FRAME_HEADER_LEN, end))) {
          this.#stopped = true;
          return;
        }
        pos = end;
      }
      sink.onChunkEnd();
      if (pos < n) this.#stash(chunk.subarray(pos));
    } catch (e) {
      this.#stopped = true;
      throw e;
    }
  }

  #checkLength(type: number, len: number): void {
    if (len > this.#maxPayload) {
      throw new FrameError(
        `frame of type ${frameTypeName(type)} announces ${len} payload bytes, ` +
          `more than the limit of ${this.#maxPayload}`,
      );
    }
  }

  #buffer(): Uint8Array {
    if (this.#partial === null) {
      this.#partial = new Uint8Array(FRAME_HEADER_LEN + this.#maxPayload);
    }
    return this.#partial;
  }

  /** Copies the start of an incomplete frame into the reassembly buffer. */
  #stash(bytes: Uint8Array): void {
    const buf = this.#buffer();
    buf.set(bytes, 0);
    this.#partialLen = bytes.length;
    if (this.#partialLen >= FRAME_HEADER_LEN) {
      this.#checkLength(buf[0], (buf[1] << 16) | (buf[2] << 8) | buf[3]);
    }
  }

  /**
   * Completes the held frame from `chunk`. Returns the chunk offset after the frame, or -1
   * when the chunk ended before the frame did (then all of it was consumed).
   */
  #fillPartial(chunk: Uint8Array): number {
    const buf = this.#buffer();
    let pos = 0;
    if (this.#partialLen < FRAME_HEADER_LEN) {
      const take = Math.min(FRAME_HEADER_LEN - this.#partialLen, chunk.length);
      buf.set(chunk.subarray(0, take), this.#partialLen);
      this.#partialLen += take;
      pos = take;
      if (this.#partialLen < FRAME_HEADER_LEN) return -1;
      this.#checkLength(buf[0], (buf[1] << 16) | (buf[2] << 8) | buf[3]);
    }
    const total = FRAME_HEADER_LEN + ((buf[1] << 16) | (buf[2] << 8) | buf[3]);
    const take = Math.min(total - this.#partialLen, chunk.length - pos);
    buf.set(chunk.subarray(pos, pos + take), this.#partialLen);
    this.#partialLen += take;
    pos += take;
    return this.#partialLen === total ? pos : -1;
  }
}
