/**
 * Payloads of the two control frames that set up a UDP channel inside a TLS session
 * ("UDP channel request" and "UDP channel response"). Both are 32 bytes, big-endian:
 *
 * ```
 *  0 version = 1   1 kind (1 request, 2 response)   2 status (response; 0 in a request)   3 zero
 *  4 epoch u32     8 receiver index u32   12 UDP port u16   14 zero u16   16 random (16 B)
 * ```
 *
 * - epoch: chosen by the requester, echoed by the response; it names the key set.
 * - receiver index: the index the sender of this message wants on datagrams sent *to* it.
 * - UDP port: the port of the sender's UDP endpoint (its host is the TLS peer's address).
 * - random: the sender's contribution to the key derivation (see keys.ts).
 * - status (response only): see {@link SetupStatus}. A refusal carries zero index/port/random.
 * @module
 */
import { SETUP_RANDOM_BYTES } from "./keys.ts";

/** Length of both setup payloads. */
export const SETUP_PAYLOAD_BYTES = 32;
const VERSION = 1;
const KIND_REQUEST = 1;
const KIND_RESPONSE = 2;

/** Response status codes. */
export const SetupStatus = {
  /** The channel is set up; index, port and random are valid. */
  Accepted: 0,
  /** The responder has no UDP endpoint (or UDP is disabled for this peer). */
  NoUdp: 1,
  /** Both sides requested at once and the responder's own request wins (see setup.ts). */
  Collision: 2,
  /** The responder could not set up a channel (no free index, closed endpoint). */
  Unavailable: 3,
} as const;
/** A {@link SetupStatus} value. */
export type SetupStatus = typeof SetupStatus[keyof typeof SetupStatus];

/** A UDP channel request. */
export interface ChannelRequest {
  readonly epoch: number;
  readonly receiverIndex: number;
  readonly udpPort: number;
  readonly random: Uint8Array;
}

/** A UDP channel response. */
export interface ChannelResponse extends ChannelRequest {
  readonly status: SetupStatus;
}

function encode(kind: number, status: number, m: ChannelRequest): Uint8Array {
  const what = kind === KIND_REQUEST ? "UDP channel request" : "UDP channel response";
  const u32 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
  if (!u32(m.epoch)) throw new RangeError(`${what}: epoch must be a u32, got ${m.epoch}`);
  if (!u32(m.receiverIndex)) {
    throw new RangeError(`${what}: receiverIndex must be a u32, got ${m.receiverIndex}`);
  }
  if (!Number.isInteger(m.udpPort) || m.udpPort < 0 || m.udpPort > 65535) {
    throw new RangeError(`${what}: udpPort must be 0–65535, got ${m.udpPort}`);
  }
  if (!(m.random instanceof Uint8Array) || m.random.length !== SETUP_RANDOM_BYTES) {
    throw new RangeError(`${what}: random must be ${SETUP_RANDOM_BYTES} bytes`);
  }
  const out = new Uint8Array(SETUP_PAYLOAD_BYTES);
  const v = new DataView(out.buffer);
  out[0] = VERSION;
  out[1] = kind;
  out[2] = status;
  v.setUint32(4, m.epoch);
  v.setUint32(8, m.receiverIndex);
  v.setUint16(12, m.udpPort);
  out.set(m.random, 16);
  return out;
}

function decode(kind: number, payload: Uint8Array): ChannelResponse {
  const what = kind === KIND_REQUEST ? "UDP channel request" : "UDP channel response";
  if (!(payload instanceof Uint8Array) || payload.length !== SETUP_PAYLOAD_BYTES) {
    const n = payload instanceof Uint8Array ? payload.length : "no";
    throw new SyntaxError(`${what}: expected ${SETUP_PAYLOAD_BYTES} bytes, got ${n}`);
  }
  if (payload[0] !== VERSION) {
    throw new SyntaxError(`${what}: unsupported version ${payload[0]} (this node speaks 1)`);
  }
  if (payload[1] !== kind) {
    throw new SyntaxError(`${what}: wrong message kind ${payload[1]} (expected ${kind})`);
  }
  const status = payload[2];
  if (kind === KIND_REQUEST ? status !== 0 : status > SetupStatus.Unavailable) {
    throw new SyntaxError(`${what}: unknown status ${status}`);
  }
  if (payload[3] !== 0 || payload[14] !== 0 || payload[15] !== 0) {
    throw new SyntaxError(`${what}: reserved bytes are not zero`);
  }
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const m = {
    status: status as SetupStatus,
    epoch: v.getUint32(4),
    receiverIndex: v.getUint32(8),
    udpPort: v.getUint16(12),
    random: payload.slice(16, 32),
  };
  if (status === SetupStatus.Accepted && m.udpPort === 0) {
    throw new SyntaxError(`${what}: UDP port 0 is not a usable port`);
  }
  return m;
}

/**
 * Encodes a UDP channel request payload.
 * @throws {RangeError} when a field is out of range.
 */
export function encodeChannelRequest(m: ChannelRequest): Uint8Array {
  return encode(KIND_REQUEST, 0, m);
}

/**
 * Decodes a UDP channel request payload (hostile input: every field is checked).
 * @throws {SyntaxError} naming what is wrong.
 */
export function decodeChannelRequest(payload: Uint8Array): ChannelRequest {
  const { epoch, receiverIndex, udpPort, random } = decode(KIND_REQUEST, payload);
  return { epoch, receiverIndex, udpPort, random };
}

/**
 * Encodes a UDP channel response payload.
 * @throws {RangeError} when a field is out of range.
 */
export function encodeChannelResponse(m: ChannelResponse): Uint8Array {
  return encode(KIND_RESPONSE, m.status, m);
}

/**
 * Encodes a refusal for the request with `epoch` (for a node or peer without UDP).
 */
export function encodeChannelRefusal(epoch: number, status: SetupStatus): Uint8Array {
  if (status === SetupStatus.Accepted) throw new RangeError("a refusal cannot be Accepted");
  return encode(KIND_RESPONSE, status, {
    epoch,
    receiverIndex: 0,
    udpPort: 0,
    random: new Uint8Array(SETUP_RANDOM_BYTES),
  });
}

/**
 * Decodes a UDP channel response payload.
 * @throws {SyntaxError} naming what is wrong.
 */
export function decodeChannelResponse(payload: Uint8Array): ChannelResponse {
  return decode(KIND_RESPONSE, payload);
}
