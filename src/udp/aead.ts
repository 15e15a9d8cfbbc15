/**
 * The UDP channel's AEAD: ChaCha20-Poly1305 (RFC 8439) through `node:crypto`, 16-byte tag.
 *
 * Why ChaCha20-Poly1305 and not AES-256-GCM: measured in Deno 2.9.6 on this project's x86-64
 * VM (AES-NI present), one thread, one `createCipheriv` per packet, packets/s:
 *
 *   |                         |  64 B seal / open |  1400 B seal / open |
 *   | chacha20-poly1305       |  345–406 k / 450–490 k | 220–225 k / 245–250 k |
 *   | aes-256-gcm             |  334–376 k / 436–441 k | 119 k / 125 k      |
 *   | Web Crypto AES-GCM (awaited per packet)   | 31 k  | 36 k               |
 *   | Web Crypto AES-GCM (64 promises in flight)| 154 k | 153 k              |
 *
 * Small packets cost the same (per-call overhead dominates); at full-size packets ChaCha20 is
 * about twice as fast, and it is synchronous, which the batched packet path needs. Web Crypto
 * is asynchronous and slower. `scripts/bench_udp.ts` re-measures.
 *
 * Nonce: 4 zero bytes ‖ the 64-bit packet counter little-endian (as WireGuard). A key is
 * never used with the same counter twice: the sender's counter only grows, and every channel
 * setup derives fresh keys (see keys.ts).
 * @module
 */
import { createCipheriv, createDecipheriv, type KeyObject } from "node:crypto";

/** Name of the cipher for `node:crypto`. */
export const AEAD_ALGORITHM = "chacha20-poly1305";
/** Length of the authentication tag appended to every ciphertext. */
export const TAG_BYTES = 16;

const TWO32 = 0x1_0000_0000;
// Scratch nonce: the cipher copies it at creation, and all calls here are synchronous.
const nonce = new Uint8Array(12);
const nonceView = new DataView(nonce.buffer);
const OPTS = { authTagLength: TAG_BYTES } as const;

function setNonce(counter: number): void {
  nonceView.setUint32(4, counter % TWO32, true);
  nonceView.setUint32(8, Math.floor(counter / TWO32), true);
}

/**
 * Encrypts `plaintext` into `out` right after an already-written header of `headerLen` bytes,
 * authenticating the header as additional data. Returns the datagram length
 * (`headerLen + plaintext.length + TAG_BYTES`). `out` must have room for it.
 */
export function sealInto(
  key: KeyObject,
  counter: number,
  out: Uint8Array,
  headerLen: number,
  plaintext: Uint8Array,
): number {
  setNonce(counter);
  const c = createCipheriv(AEAD_ALGORITHM, key, nonce, OPTS);
  c.setAAD(out.subarray(0, headerLen), { plaintextLength: plaintext.length });
  const ct = c.update(plaintext);
  c.final();
  out.set(ct, headerLen);
  out.set(c.getAuthTag(), headerLen + ct.length);
  return headerLen + ct.length + TAG_BYTES;
}

/**
 * Authenticates and decrypts `datagram` (header of `headerLen` bytes ‖ ciphertext ‖ tag).
 * Returns a fresh buffer with the plaintext (owned by the caller), or undefined when the
 * datagram does not authenticate under `key` (forged, corrupted, truncated, wrong key).
 * Never throws.
 */
export function openDatagram(
  key: KeyObject,
  counter: number,
  datagram: Uint8Array,
  headerLen: number,
): Uint8Array | undefined {
  if (datagram.length < headerLen + TAG_BYTES) return undefined;
  setNonce(counter);
  const tagAt = datagram.length - TAG_BYTES;
  try {
    const d = createDecipheriv(AEAD_ALGORITHM, key, nonce, OPTS);
    d.setAAD(datagram.subarray(0, headerLen), { plaintextLength: tagAt - headerLen });
    d.setAuthTag(datagram.subarray(tagAt));
    const pt = d.update(datagram.subarray(headerLen, tagAt));
    d.final();
    return new Uint8Array(pt.buffer, pt.byteOffset, pt.byteLength); // plain view, not a Buffer
  } catch {
    return undefined;
  }
}
