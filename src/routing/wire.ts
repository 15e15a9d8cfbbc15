/**
 * Binary encoding of route announcements and withdrawals. The session layer carries each
 * encoded payload as the body of one "route announce" or "route withdraw" frame.
 *
 * Layout (big-endian):
 * ```
 * announce: u8 version (1) | u16 count | count × route
 *   route:  u8 prefix length (0..128) | ceil(len/8) prefix bytes
 *           | u8 hop count (1..64) | hops × (32-byte node ID | u32 latency in µs)
 * withdraw: u8 version (1) | u16 count | count × (u8 prefix length | ceil(len/8) bytes)
 * ```
 * Bits past the prefix length must be zero. A payload is at most {@link MAX_ROUTE_PAYLOAD}
 * bytes; the encoders split long lists into several payloads.
 * @module
 */
import { formatPrefix, type Ipv6Prefix } from "../net/mod.ts";
import { isPeerId } from "../pki/mod.ts";
import { type Hop, MAX_HOP_LATENCY_MS, MAX_PATH_HOPS, type Route } from "./route.ts";

/** Largest payload the encoders produce and the decoders accept (64 KiB). */
export const MAX_ROUTE_PAYLOAD = 65536;

/** Version byte at the start of every payload. */
export const WIRE_VERSION = 1;

const HEADER = 3;
const HOP_BYTES = 36;
const MAX_COUNT = 0xffff;

/** A malformed route payload. The node closes the session that sent it. */
export class WireError extends Error {
  /** Creates the error; `message` says what is wrong and where. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "WireError";
  }
}

/**
 * Encodes routes into one or more announce payloads of at most {@link MAX_ROUTE_PAYLOAD} bytes.
 * Latencies are rounded to whole microseconds.
 * @returns the payloads, in order (none for an empty list)
 * @throws {RangeError} when a route is malformed (bad prefix, 0 or over 64 hops, bad node ID,
 *   latency not finite or outside 0..4294967 ms)
 */
export function encodeAnnounce(routes: readonly Route[]): Uint8Array[] {
  const sizes = routes.map((r, i) => {
    checkPrefixForWire(r.prefix, `route ${i}`);
    const hops = r.path.length;
    if (hops < 1 || hops > MAX_PATH_HOPS) {
      throw new RangeError(`route ${i}: path has ${hops} hops; it must have 1..${MAX_PATH_HOPS}`);
    }
    return 2 + ((r.prefix.len + 7) >> 3) + hops * HOP_BYTES;
  });
  // The paths of a payload repeat the same few node IDs: check and convert each once.
  const idBytes = new Map<string, Uint8Array>();
  return pack(routes, sizes, (view, at, r, i) => {
    at = putPrefix(view, at, r.prefix);
    view.setUint8(at++, r.path.length);
    for (const hop of r.path) at = putHop(view, at, hop, i, idBytes);
    return at;
  });
}

/**
 * Encodes prefixes into one or more withdraw payloads of at most {@link MAX_ROUTE_PAYLOAD} bytes.
 * @throws {RangeError} when a prefix is malformed
 */
export function encodeWithdraw(prefixes: readonly Ipv6Prefix[]): Uint8Array[] {
  const sizes = prefixes.map((p, i) => {
    checkPrefixForWire(p, `prefix ${i}`);
    return 1 + ((p.len + 7) >> 3);
  });
  return pack(prefixes, sizes, (view, at, p) => putPrefix(view, at, p));
}

/**
 * Decodes one announce payload. Checks structure only (lengths, counts, host bits, hop count
 * 1..64); the router applies the routing checks (first hop, loops, filter).
 * @throws {WireError} on any malformed input (truncated, trailing bytes, bad length or count)
 */
export function decodeAnnounce(payload: Uint8Array): Route[] {
  const r = new Reader(payload, "announce");
  const count = r.header();
  const routes: Route[] = [];
  // The routes of a payload usually share one path (a transit site's prefixes): a route whose
  // hop bytes equal the previous route's gets the same (frozen) path array.
  let prevAt = -1, prevLen = 0;
  let prevPath: readonly Hop[] = [];
  for (let i = 0; i < count; i++) {
    const prefix = r.prefix(i);
    const hops = r.u8(`route ${i} hop count`);
    if (hops < 1 || hops > MAX_PATH_HOPS) {
      throw new WireError(`announce: route ${i} has ${hops} hops; 1..${MAX_PATH_HOPS} allowed`);
    }
    const at = r.at, len = hops * HOP_BYTES;
    if (len === prevLen && r.sameBytes(prevAt, at, len)) {
      r.bytes(len, `route ${i} path`);
      routes.push({ prefix, path: prevPath });
      continue;
    }
    const path: Hop[] = [];
    for (let h = 0; h < hops; h++) {
      const id = r.id(`route ${i} hop ${h} ID`);
      const latencyMs = r.u32(`route ${i} hop ${h} latency`) / 1000;
      path.push({ id, latencyMs });
    }
    prevAt = at, prevLen = len, prevPath = Object.freeze(path);
    routes.push({ prefix, path: prevPath });
  }
  r.end();
  return routes;
}

/**
 * Decodes one withdraw payload.
 * @throws {WireError} on any malformed input
 */
export function decodeWithdraw(payload: Uint8Array): Ipv6Prefix[] {
  const r = new Reader(payload, "withdraw");
  const count = r.header();
  const out: Ipv6Prefix[] = [];
  for (let i = 0; i < count; i++) out.push(r.prefix(i));
  r.end();
  return out;
}

function pack<T>(
  items: readonly T[],
  sizes: number[],
  put: (view: DataView, at: number, item: T, index: number) => number,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  while (i < items.length) {
    let bytes = HEADER, n = 0;
    while (i + n < items.length && n < MAX_COUNT && bytes + sizes[i + n] <= MAX_ROUTE_PAYLOAD) {
      bytes += sizes[i + n++];
    }
    const buf = new Uint8Array(bytes);
    const view = new DataView(buf.buffer);
    view.setUint8(0, WIRE_VERSION);
    view.setUint16(1, n);
    let at = HEADER;
    for (let k = 0; k < n; k++) at = put(view, at, items[i + k], i + k);
    out.push(buf);
    i += n;
  }
  return out;
}

function checkPrefixForWire(p: Ipv6Prefix, where: string): void {
  if (!p || !(p.addr instanceof Uint8Array) || p.addr.length !== 16) {
    throw new RangeError(`${where}: prefix address must be 16 bytes`);
  }
  if (!Number.isInteger(p.len) || p.len < 0 || p.len > 128) {
    throw new RangeError(`${where}: prefix length ${p.len} is outside 0..128`);
  }
  if (hostBitsSet(p.addr, 0, p.len)) {
    throw new RangeError(`${where}: ${formatPrefix(p)} has host bits set`);
  }
}

function hostBitsSet(bytes: Uint8Array, off: number, len: number): boolean {
  const full = len >> 3;
  if ((len & 7) !== 0 && (bytes[off + full] & (0xff >> (len & 7))) !== 0) return true;
  for (let i = (len + 7) >> 3; i < 16; i++) if (bytes[off + i] !== 0) return true;
  return false;
}

function putPrefix(view: DataView, at: number, p: Ipv6Prefix): number {
  view.setUint8(at++, p.len);
  const n = (p.len + 7) >> 3;
  new Uint8Array(view.buffer, at, n).set(p.addr.subarray(0, n));
  return at + n;
}

/** Most distinct node IDs remembered per encode call (see `encodeAnnounce`). */
const MAX_CACHED_IDS = 256;

function putHop(
  view: DataView,
  at: number,
  hop: Hop,
  i: number,
  idBytes: Map<string, Uint8Array>,
): number {
  let bytes = idBytes.get(hop.id);
  if (bytes === undefined) {
    if (!isPeerId(hop.id)) throw new RangeError(`route ${i}: hop ID is not 64 hex characters`);
    bytes = Uint8Array.fromHex(hop.id);
    if (idBytes.size < MAX_CACHED_IDS) idBytes.set(hop.id, bytes);
  }
  const lat = hop.latencyMs;
  if (typeof lat !== "number" || !Number.isFinite(lat) || lat < 0 || lat > MAX_HOP_LATENCY_MS) {
    throw new RangeError(`route ${i}: hop latency ${lat} ms is outside 0..${MAX_HOP_LATENCY_MS}`);
  }
  new Uint8Array(view.buffer, at, 32).set(bytes);
  view.setUint32(at + 32, Math.round(lat * 1000));
  return at + HOP_BYTES;
}

class Reader {
  #at = 0;
  readonly #view: DataView;
  constructor(readonly buf: Uint8Array, readonly kind: string) {
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** The read position. */
  get at(): number {
    return this.#at;
  }

  /** True when `len` bytes at `a` equal those at `b` (both inside the payload). */
  sameBytes(a: number, b: number, len: number): boolean {
    if (a < 0 || b + len > this.buf.length) return false;
    const buf = this.buf;
    for (let i = 0; i < len; i++) if (buf[a + i] !== buf[b + i]) return false;
    return true;
  }

  header(): number {
    if (this.buf.length > MAX_ROUTE_PAYLOAD) {
      throw new WireError(
        `${this.kind}: payload of ${this.buf.length} bytes is over ${MAX_ROUTE_PAYLOAD}`,
      );
    }
    const version = this.u8("version");
    if (version !== WIRE_VERSION) {
      throw new WireError(`${this.kind}: unknown version ${version} (this node speaks 1)`);
    }
    return this.#view.getUint16(this.#take(2, "count"));
  }

  prefix(i: number): Ipv6Prefix {
    const len = this.u8(`entry ${i} prefix length`);
    if (len > 128) throw new WireError(`${this.kind}: entry ${i} prefix length ${len} is over 128`);
    const n = (len + 7) >> 3;
    const at = this.#take(n, `entry ${i} prefix`);
    const addr = new Uint8Array(16);
    for (let k = 0; k < n; k++) addr[k] = this.buf[at + k];
    if (hostBitsSet(addr, 0, len)) {
      throw new WireError(`${this.kind}: entry ${i} prefix has bits set past /${len}`);
    }
    return { addr, len };
  }

  /** Recently decoded node IDs: the paths of a payload repeat the same few (one string each). */
  readonly #ids: { bytes: Uint8Array; id: string }[] = [];

  /** A 32-byte node ID as 64 hex digits. */
  id(what: string): string {
    const b = this.bytes(32, what);
    next: for (const e of this.#ids) {
      for (let k = 0; k < 32; k++) if (e.bytes[k] !== b[k]) continue next;
      return e.id;
    }
    const id = b.toHex();
    if (this.#ids.length < 16) this.#ids.push({ bytes: b, id });
    return id;
  }

  u8(what: string): number {
    return this.#view.getUint8(this.#take(1, what));
  }

  u32(what: string): number {
    return this.#view.getUint32(this.#take(4, what));
  }

  bytes(n: number, what: string): Uint8Array {
    const at = this.#take(n, what);
    return this.buf.subarray(at, at + n);
  }

  end(): void {
    if (this.#at !== this.buf.length) {
      throw new WireError(
        `${this.kind}: ${this.buf.length - this.#at} trailing bytes after the last entry`,
      );
    }
  }

  #take(n: number, what: string): number {
    const at = this.#at;
    if (at + n > this.buf.length) {
      throw new WireError(`${this.kind}: truncated at byte ${at} while reading ${what}`);
    }
    this.#at = at + n;
    return at;
  }
}
