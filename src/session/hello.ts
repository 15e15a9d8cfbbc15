/**
 * The in-band hello, the first frame each side sends inside TLS once it has checked the
 * peer's certificate. It carries the protocol version, the sender's name and ID (which must
 * match its certificate), feature bits, a per-process instance number, a fresh X25519 public
 * key, and a signature by the certificate's key that binds all of it to this TLS session.
 *
 * Layout (big-endian):
 * ```
 * "VMSH" | version u8 | features u32 | instance 8 B | id 32 B | x25519 32 B
 *        | nameLen u8 | name | sigLen u16 | signature
 * ```
 * @module
 */
import { concatBytes } from "./bytes.ts";
import { SessionError } from "./errors.ts";

/** Protocol version carried in the hello. A peer with another version is refused. */
export const PROTOCOL_VERSION = 1;

/** Feature bits. Unknown bits are ignored; the session keeps the intersection. */
export const Feature = {
  /** The sender accepts IP frames with a virtio_net_hdr (`FrameType.IpPacketVnet`). */
  VnetHdr: 1 << 0,
  /** The sender can run the encrypted UDP data channel. */
  UdpChannel: 1 << 1,
  /** The sender answers node-info requests (`FrameType.NodeInfoRequest`, see `src/names`). */
  NodeInfo: 1 << 2,
} as const;

const MAGIC = [0x56, 0x4d, 0x53, 0x48]; // "VMSH"
const FIXED_LEN = 4 + 1 + 4 + 8 + 32 + 32 + 1;
/** Longest name (a DNS name). */
export const MAX_NAME_LEN = 253;
/** Longest signature accepted (RSA-4096 is 512 bytes). */
export const MAX_SIGNATURE_LEN = 1024;
/** Largest hello payload. */
export const MAX_HELLO_LEN = FIXED_LEN + MAX_NAME_LEN + 2 + MAX_SIGNATURE_LEN;

/** A decoded hello. */
export interface Hello {
  /** Protocol version. */
  version: number;
  /** Feature bits (see {@link Feature}). */
  features: number;
  /** Random per-process number: a change tells the peer that this node restarted. */
  instance: Uint8Array;
  /** SHA-256 of the sender's certificate DER (32 bytes). */
  id: Uint8Array;
  /** The sender's fresh X25519 public key (32 bytes). */
  x25519: Uint8Array;
  /** The sender's node name (its certificate CN). */
  name: string;
  /** Signature over {@link helloSigningInput} with the sender's certificate key. */
  signature: Uint8Array;
}

/** The hello without its signature: the part the signature covers. */
export type HelloBody = Omit<Hello, "signature">;

/**
 * Encodes the hello body (everything before the signature length).
 * @throws {RangeError} when a field has the wrong size
 */
export function encodeHelloBody(h: HelloBody): Uint8Array {
  const name = new TextEncoder().encode(h.name);
  if (name.length === 0 || name.length > MAX_NAME_LEN) {
    throw new RangeError(`hello name must be 1–${MAX_NAME_LEN} bytes, got ${name.length}`);
  }
  if (h.instance.length !== 8 || h.id.length !== 32 || h.x25519.length !== 32) {
    throw new RangeError("hello instance/id/x25519 must be 8/32/32 bytes");
  }
  const out = new Uint8Array(FIXED_LEN + name.length);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[4] = h.version;
  dv.setUint32(5, h.features >>> 0);
  out.set(h.instance, 9);
  out.set(h.id, 17);
  out.set(h.x25519, 49);
  out[81] = name.length;
  out.set(name, 82);
  return out;
}

/**
 * Appends the signature to an encoded body: the complete hello frame payload.
 * @throws {RangeError} when the signature is too long
 */
export function encodeHello(body: Uint8Array, signature: Uint8Array): Uint8Array {
  if (signature.length > MAX_SIGNATURE_LEN) {
    throw new RangeError(`hello signature of ${signature.length} bytes is too long`);
  }
  const out = new Uint8Array(body.length + 2 + signature.length);
  out.set(body, 0);
  out[body.length] = signature.length >>> 8;
  out[body.length + 1] = signature.length & 0xff;
  out.set(signature, body.length + 2);
  return out;
}

function malformed(what: string): SessionError {
  return new SessionError("malformed-hello", `malformed hello: ${what}`);
}

/**
 * Decodes a hello payload. Copies every field (the payload may be a view of a network
 * buffer).
 * @returns the hello and the encoded body (the bytes the signature covers)
 * @throws {SessionError} "malformed-hello" for any structural problem
 */
export function decodeHello(payload: Uint8Array): { hello: Hello; body: Uint8Array } {
  if (payload.length < FIXED_LEN + 1 + 2) malformedThrow(`${payload.length} bytes is too short`);
  if (payload.length > MAX_HELLO_LEN) malformedThrow(`${payload.length} bytes is too long`);
  for (let i = 0; i < 4; i++) {
    if (payload[i] !== MAGIC[i]) malformedThrow("bad magic (not a vmesh peer?)");
  }
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const nameLen = payload[81];
  if (nameLen === 0) malformedThrow("empty name");
  if (nameLen > MAX_NAME_LEN) malformedThrow(`name of ${nameLen} bytes is over ${MAX_NAME_LEN}`);
  const bodyEnd = FIXED_LEN + nameLen;
  if (payload.length < bodyEnd + 2) malformedThrow("truncated name");
  const sigLen = dv.getUint16(bodyEnd);
  if (sigLen === 0 || sigLen > MAX_SIGNATURE_LEN) malformedThrow(`signature length ${sigLen}`);
  if (payload.length !== bodyEnd + 2 + sigLen) {
    malformedThrow(`length ${payload.length} does not match its fields (${bodyEnd + 2 + sigLen})`);
  }
  let name: string;
  try {
    name = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(
      payload.subarray(82, bodyEnd),
    );
  } catch {
    throw malformed("name is not UTF-8");
  }
  return {
    hello: {
      version: payload[4],
      features: dv.getUint32(5),
      instance: payload.slice(9, 17),
      id: payload.slice(17, 49),
      x25519: payload.slice(49, 81),
      name,
      signature: payload.slice(bodyEnd + 2, bodyEnd + 2 + sigLen),
    },
    body: payload.slice(0, bodyEnd),
  };
}

function malformedThrow(what: string): never {
  throw malformed(what);
}

/** Which end of the TLS connection signed a hello. */
export type Role = "dialer" | "listener";

const CONTEXT = new TextEncoder().encode("vmesh session v1 hello proof\0");

/**
 * The bytes a hello signature covers: a context string, the signer's role, both TLS
 * Finished messages (client's first), and the hello body. The Finished messages differ in
 * every TLS session, so a hello cannot be replayed into, or relayed across, another session.
 * @param role who signs
 * @param clientFinished the TLS client's Finished verify_data
 * @param serverFinished the TLS server's Finished verify_data
 * @param body the encoded hello body
 */
export function helloSigningInput(
  role: Role,
  clientFinished: Uint8Array,
  serverFinished: Uint8Array,
  body: Uint8Array,
): Uint8Array {
  return concatBytes([
    CONTEXT,
    new Uint8Array([role === "dialer" ? 0 : 1, clientFinished.length, serverFinished.length]),
    clientFinished,
    serverFinished,
    body,
  ]);
}
