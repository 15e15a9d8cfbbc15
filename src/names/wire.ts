/**
 * Binary encoding of the node-info frames: a request for the certificates of some node IDs and
 * the answer carrying them. The session layer carries each payload as the body of one
 * `NodeInfoRequest` or `NodeInfo` frame.
 *
 * Layout (big-endian):
 * ```
 * request: u8 version (1) | u16 count (1..64) | count × 32-byte node ID
 * info:    u8 version (1) | u16 count (1..64) | count × entry
 *   entry: 32-byte node ID | u16 certificate length (0..4096) | certificate DER
 *          (length 0: the sender does not know that node)
 * ```
 * A payload is at most {@link MAX_NODE_INFO_PAYLOAD} bytes; {@link encodeNodeInfo} splits a
 * long answer into several payloads. The decoders check structure only; the certificate is
 * checked by the node book.
 * @module
 */
import type { PeerId } from "../pki/mod.ts";

/** Version byte at the start of every payload. */
export const NODE_INFO_VERSION = 1;
/** Most IDs in one request, and most entries in one info payload. */
export const MAX_NODE_INFO_IDS = 64;
/** Largest certificate carried (an RSA-4096 node certificate is about 1.4 KB). */
export const MAX_NODE_CERT_BYTES = 4096;
/** Largest payload the encoders produce and the decoders accept. */
export const MAX_NODE_INFO_PAYLOAD = 65_535;

const HEADER = 3;
const ID_BYTES = 32;
const ENTRY_HEADER = ID_BYTES + 2;

/** One entry of an info payload: a node's certificate, or `der` undefined when unknown. */
export interface NodeInfoEntry {
  /** The node ID the sender vouches the certificate is for (64 hex characters). */
  readonly id: PeerId;
  /** The node's leaf certificate, DER; undefined when the sender does not know the node. */
  readonly der: Uint8Array | undefined;
}

/** A malformed node-info payload. The node closes the session that sent it. */
export class NodeInfoWireError extends Error {
  /** Creates the error; `message` says what is wrong and where. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NodeInfoWireError";
  }
}

function checkId(id: string, what: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(id)) throw new RangeError(`${what}: "${id}" is not a node ID`);
  return Uint8Array.fromHex(id);
}

/**
 * Encodes a request for the certificates of `ids`.
 * @param ids 1..{@link MAX_NODE_INFO_IDS} node IDs
 * @throws {RangeError} for an empty or too long list or a malformed ID
 */
export function encodeNodeInfoRequest(ids: readonly PeerId[]): Uint8Array {
  if (ids.length < 1 || ids.length > MAX_NODE_INFO_IDS) {
    throw new RangeError(
      `a node-info request holds 1..${MAX_NODE_INFO_IDS} IDs, not ${ids.length}`,
    );
  }
  const out = new Uint8Array(HEADER + ids.length * ID_BYTES);
  out[0] = NODE_INFO_VERSION;
  new DataView(out.buffer).setUint16(1, ids.length);
  ids.forEach((id, i) => out.set(checkId(id, `ID ${i}`), HEADER + i * ID_BYTES));
  return out;
}

function header(payload: Uint8Array, what: string): number {
  if (payload.length > MAX_NODE_INFO_PAYLOAD) {
    throw new NodeInfoWireError(
      `${what} of ${payload.length} bytes is over the limit of ${MAX_NODE_INFO_PAYLOAD}`,
    );
  }
  if (payload.length < HEADER) throw new NodeInfoWireError(`${what} is truncated (no header)`);
  if (payload[0] !== NODE_INFO_VERSION) {
    throw new NodeInfoWireError(`${what} has version ${payload[0]}, expected ${NODE_INFO_VERSION}`);
  }
  const count = (payload[1] << 8) | payload[2];
  if (count < 1 || count > MAX_NODE_INFO_IDS) {
    throw new NodeInfoWireError(`${what} holds ${count} entries; 1..${MAX_NODE_INFO_IDS} allowed`);
  }
  return count;
}

/**
 * Decodes a request.
 * @returns the requested IDs (duplicates removed)
 * @throws {NodeInfoWireError} when truncated, too long, with trailing bytes, a bad version or
 *   count
 */
export function decodeNodeInfoRequest(payload: Uint8Array): PeerId[] {
  const count = header(payload, "node-info request");
  if (payload.length !== HEADER + count * ID_BYTES) {
    throw new NodeInfoWireError(
      `node-info request of ${count} IDs must be ${HEADER + count * ID_BYTES} bytes, ` +
        `not ${payload.length}`,
    );
  }
  const ids = new Set<PeerId>();
  for (let i = 0; i < count; i++) {
    const at = HEADER + i * ID_BYTES;
    ids.add(payload.subarray(at, at + ID_BYTES).toHex());
  }
  return [...ids];
}

/**
 * Encodes entries into one or more info payloads of at most {@link MAX_NODE_INFO_PAYLOAD}
 * bytes and {@link MAX_NODE_INFO_IDS} entries each.
 * @returns the payloads, in order (none for an empty list)
 * @throws {RangeError} for a malformed ID or a certificate over {@link MAX_NODE_CERT_BYTES}
 */
export function encodeNodeInfo(entries: readonly NodeInfoEntry[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let batch: { id: Uint8Array; der: Uint8Array }[] = [];
  let size = HEADER;
  const close = () => {
    if (batch.length === 0) return;
    const p = new Uint8Array(size);
    const view = new DataView(p.buffer);
    p[0] = NODE_INFO_VERSION;
    view.setUint16(1, batch.length);
    let at = HEADER;
    for (const e of batch) {
      p.set(e.id, at);
      view.setUint16(at + ID_BYTES, e.der.length);
      p.set(e.der, at + ENTRY_HEADER);
      at += ENTRY_HEADER + e.der.length;
    }
    out.push(p);
    batch = [];
    size = HEADER;
  };
  entries.forEach((e, i) => {
    const id = checkId(e.id, `entry ${i}`);
    const der = e.der ?? new Uint8Array(0);
    if (der.length > MAX_NODE_CERT_BYTES) {
      throw new RangeError(
        `entry ${i}: certificate of ${der.length} bytes is over ${MAX_NODE_CERT_BYTES}`,
      );
    }
    const n = ENTRY_HEADER + der.length;
    if (batch.length === MAX_NODE_INFO_IDS || size + n > MAX_NODE_INFO_PAYLOAD) close();
    batch.push({ id, der });
    size += n;
  });
  close();
  return out;
}

/**
 * Decodes one info payload. The certificates are copied (the payload is borrowed).
 * @throws {NodeInfoWireError} when truncated, too long, with trailing bytes, a bad version or
 *   count, a certificate over {@link MAX_NODE_CERT_BYTES}, or one ID twice
 */
export function decodeNodeInfo(payload: Uint8Array): NodeInfoEntry[] {
  const count = header(payload, "node-info payload");
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const out: NodeInfoEntry[] = [];
  const seen = new Set<PeerId>();
  let at = HEADER;
  for (let i = 0; i < count; i++) {
    if (at + ENTRY_HEADER > payload.length) {
      throw new NodeInfoWireError(`node-info entry ${i} is truncated`);
    }
    const id = payload.subarray(at, at + ID_BYTES).toHex();
    const len = view.getUint16(at + ID_BYTES);
    if (len > MAX_NODE_CERT_BYTES) {
      throw new NodeInfoWireError(
        `node-info entry ${i} carries a certificate of ${len} bytes; at most ` +
          `${MAX_NODE_CERT_BYTES} allowed`,
      );
    }
    at += ENTRY_HEADER;
    if (at + len > payload.length) {
      throw new NodeInfoWireError(`node-info entry ${i}: certificate truncated`);
    }
    if (seen.has(id)) throw new NodeInfoWireError(`node-info entry ${i} repeats ID ${id}`);
    seen.add(id);
    out.push({ id, der: len === 0 ? undefined : payload.slice(at, at + len) });
    at += len;
  }
  if (at !== payload.length) {
    throw new NodeInfoWireError(`node-info payload has ${payload.length - at} trailing bytes`);
  }
  return out;
}
