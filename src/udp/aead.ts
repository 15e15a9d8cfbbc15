/**
 * The UDP channel's AEAD: ChaCha20-Poly1305 (RFC 8439), 16-byte tag, through libsodium
 * (ffi/sodium.ts: one FFI call per datagram, in place, no allocation) when it can be loaded,
 * else through `node:crypto`. Both give the same bytes.
 *
 * Why ChaCha20-Poly1305 and not AES-256-GCM: measured in Deno 2.9.6 on this project's x86-64
 * VM (AES-NI present), one thread, `node:crypto` with one `createCipheriv` per packet,
 * packets/s:
 *
 *   |                         |  64 B seal / open |  1400 B seal / open |
 *   | chacha20-poly1305       |  345–406 k / 450–490 k | 220–225 k / 245–250 k |
 *   | aes-256-gcm             |  334–376 k / 436–441 k | 119 k / 125 k      |
 *   | Web Crypto AES-GCM (awaited per packet)   | 31 k  | 36 k               |
 *   | Web Crypto AES-GCM (64 promises in flight)| 154 k | 153 k              |
 *
 * Small packets cost the same there (per-call overhead dominates: a cipher object per
 * packet); at full-size packets ChaCha20 is about twice as fast, and it is synchronous, which
 * the batched packet path needs. Web Crypto is asynchronous and slower and has no ChaCha20.
 * libsodium removes the per-call overhead: 0.4–0.9 µs per 64-byte seal against 2.5–8 µs
 * (docs/figures.md, "UDP channel fast path"). `scripts/bench_udp.ts aead` re-measures.
 *
 * Nonce: 4 zero bytes ‖ the 64-bit packet counter little-endian (as WireGuard). A key is
 * never used with the same counter twice: the sender's counter only grows, and every channel
 * setup derives fresh keys (see keys.ts).
 * @module
 */
import { createCipheriv, createDecipheriv, type KeyObject } from "node:crypto";
import { type SodiumAead, sodiumAead } from "../../ffi/mod.ts";

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

/** Which implementation seals and opens: "sodium" (libsodium via FFI) or "node" (node:crypto). */
export type AeadBackend = "sodium" | "node";

/** One direction's key, prepared for the backend chosen when it was made. */
export class AeadKey {
  /** The backend this key uses. */
  readonly backend: AeadBackend;
  /** The key for node:crypto. */
  readonly #object: KeyObject;
  /** The raw key for libsodium (only with the sodium backend). */
  readonly #raw: Uint8Array | undefined;
  readonly #sodium: SodiumAead | undefined;

  /**
   * Prepares `key` (a 32-byte secret key). `backend` "auto" (default) takes libsodium when it
   * loads, else node:crypto; "sodium" throws when libsodium is missing (tests, bench).
   * @throws {Error} for backend "sodium" without libsodium.
   */
  constructor(key: KeyObject, backend: AeadBackend | "auto" = "auto") {
    this.#object = key;
    this.#sodium = backend === "node" ? undefined : sodiumAead();
    if (backend === "sodium" && this.#sodium === undefined) {
      throw new Error("libsodium (libsodium.so.23) cannot be loaded: install libsodium23");
    }
    this.backend = this.#sodium === undefined ? "node" : "sodium";
    if (this.#sodium !== undefined) this.#raw = new Uint8Array(key.export());
  }

  /**
   * Encrypts `plaintext` into `out` right after an already-written header of `headerLen`
   * bytes, authenticating the header as additional data. Returns the datagram length
   * (`headerLen + plaintext.length + TAG_BYTES`). `out` must have room for it and must not
   * overlap `plaintext`.
   */
  sealInto(counter: number, out: Uint8Array, headerLen: number, plaintext: Uint8Array): number {
    setNonce(counter);
    const end = headerLen + plaintext.length;
    if (this.#sodium !== undefined) {
      this.#sodium.seal(
        out.subarray(headerLen, end),
        out.subarray(end, end + TAG_BYTES),
        plaintext,
        out.subarray(0, headerLen),
        nonce,
        this.#raw!,
      );
      return end + TAG_BYTES;
    }
    const c = createCipheriv(AEAD_ALGORITHM, this.#object, nonce, OPTS);
    c.setAAD(out.subarray(0, headerLen), { plaintextLength: plaintext.length });
    const ct = c.update(plaintext);
    c.final();
    out.set(ct, headerLen);
    out.set(c.getAuthTag(), end);
    return end + TAG_BYTES;
  }

  /**
   * Authenticates `datagram` (header of `headerLen` bytes ‖ ciphertext ‖ tag) and decrypts it
   * in place: on success the plaintext is `datagram[headerLen, headerLen + result)`. Returns
   * -1 when it does not authenticate under this key (forged, corrupted, truncated, wrong key);
   * nothing is decrypted then, but libsodium zeroes the ciphertext bytes (the datagram is
   * garbage either way). Never throws.
   */
  openInPlace(counter: number, datagram: Uint8Array, headerLen: number): number {
    if (datagram.length < headerLen + TAG_BYTES) return -1;
    setNonce(counter);
    const tagAt = datagram.length - TAG_BYTES;
    const body = datagram.subarray(headerLen, tagAt);
    const tag = datagram.subarray(tagAt);
    const ad = datagram.subarray(0, headerLen);
    if (this.#sodium !== undefined) {
      return this.#sodium.open(body, body, tag, ad, nonce, this.#raw!) ? body.length : -1;
    }
    try {
      const d = createDecipheriv(AEAD_ALGORITHM, this.#object, nonce, OPTS);
      d.setAAD(ad, { plaintextLength: body.length });
      d.setAuthTag(tag);
      const pt = d.update(body);
      d.final(); // throws when the tag does not match: nothing was written yet
      body.set(pt);
      return pt.length;
    } catch {
      return -1; // forged or corrupted: the caller counts it
    }
  }
}
