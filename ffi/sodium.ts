/**
 * libsodium's ChaCha20-Poly1305 (IETF variant, RFC 8439: 96-bit nonce, 16-byte tag) through
 * FFI, for the UDP channel's per-datagram seal and open (src/udp/aead.ts).
 *
 * Why: `node:crypto` builds a cipher object per packet (`createCipheriv`, `setAAD`,
 * `update`, `final`, `getAuthTag`, a fresh output buffer): 2.5–8 µs per 64-byte packet on
 * this project's VM, against 0.4–0.9 µs for one libsodium call that encrypts in place into
 * the caller's buffer (docs/figures.md, "UDP channel fast path"). Same algorithm, same bytes
 * on the wire: a datagram sealed by either opens with the other.
 *
 * The library is optional: {@link sodiumAead} returns undefined when `libsodium.so.23` (Debian,
 * Ubuntu: package libsodium23) cannot be loaded, and the caller keeps `node:crypto`.
 *
 * Lengths cross as u64 (`unsigned long long`) BigInts; buffers as `buffer` (no copy). All
 * calls are synchronous and short (no thread hop).
 * @module
 */

const SODIUM_SYMBOLS = {
  /** int sodium_init(void); — 0 done, 1 already done, -1 failed */
  sodium_init: { parameters: [], result: "i32" },
  /**
   * int crypto_aead_chacha20poly1305_ietf_encrypt_detached(unsigned char *c,
   * unsigned char *mac, unsigned long long *maclen_p, const unsigned char *m,
   * unsigned long long mlen, const unsigned char *ad, unsigned long long adlen,
   * const unsigned char *nsec, const unsigned char *npub, const unsigned char *k);
   */
  seal: {
    name: "crypto_aead_chacha20poly1305_ietf_encrypt_detached",
    parameters: [
      "buffer",
      "buffer",
      "pointer",
      "buffer",
      "u64",
      "buffer",
      "u64",
      "pointer",
      "buffer",
      "buffer",
    ],
    result: "i32",
  },
  /**
   * int crypto_aead_chacha20poly1305_ietf_decrypt_detached(unsigned char *m,
   * unsigned char *nsec, const unsigned char *c, unsigned long long clen,
   * const unsigned char *mac, const unsigned char *ad, unsigned long long adlen,
   * const unsigned char *npub, const unsigned char *k); — 0 authentic, -1 forged (then m is
   * zeroed, nothing decrypted); m may be c (in place)
   */
  open: {
    name: "crypto_aead_chacha20poly1305_ietf_decrypt_detached",
    parameters: [
      "buffer",
      "pointer",
      "buffer",
      "u64",
      "buffer",
      "buffer",
      "u64",
      "buffer",
      "buffer",
    ],
    result: "i32",
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** Key, nonce and tag sizes of ChaCha20-Poly1305 (IETF). */
export const SODIUM_KEY_BYTES = 32;
/** Nonce length. */
export const SODIUM_NONCE_BYTES = 12;
/** Tag length. */
export const SODIUM_TAG_BYTES = 16;

/** ChaCha20-Poly1305 (IETF) seal and open on caller-owned buffers. */
export interface SodiumAead {
  /**
   * Encrypts `m` into `c` (same length; may be the same memory) and writes the 16-byte tag
   * into `mac`, authenticating `ad` too.
   */
  seal(
    c: Uint8Array,
    mac: Uint8Array,
    m: Uint8Array,
    ad: Uint8Array,
    nonce: Uint8Array,
    key: Uint8Array,
  ): void;
  /**
   * Checks `mac` over `ad` ‖ `c`, and only if it is authentic decrypts `c` into `m` (same
   * length; may be the same memory). Returns false for a forged datagram; `m` is zeroed then.
   */
  open(
    m: Uint8Array,
    c: Uint8Array,
    mac: Uint8Array,
    ad: Uint8Array,
    nonce: Uint8Array,
    key: Uint8Array,
  ): boolean;
}

/** Library names tried in order. */
const LIBRARY_NAMES = ["libsodium.so.23", "libsodium.so"];

let loaded: SodiumAead | null | undefined;
let loadError = "";

/**
 * libsodium's AEAD, loaded on first use; undefined when the library is missing or FFI is not
 * permitted ({@link sodiumLoadError} says why).
 */
export function sodiumAead(): SodiumAead | undefined {
  if (loaded === undefined) loaded = load();
  return loaded ?? undefined;
}

/** Why {@link sodiumAead} returned undefined ("" when it did not). */
export function sodiumLoadError(): string {
  return loadError;
}

function load(): SodiumAead | null {
  const errors: string[] = [];
  for (const name of LIBRARY_NAMES) {
    let lib: Deno.DynamicLibrary<typeof SODIUM_SYMBOLS>;
    try {
      lib = Deno.dlopen(name, SODIUM_SYMBOLS);
    } catch (e) {
      errors.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    const s = lib.symbols;
    if (s.sodium_init() < 0) {
      errors.push(`${name}: sodium_init() failed`);
      lib.close();
      continue;
    }
    return {
      seal(c, mac, m, ad, nonce, key) {
        s.seal(c, mac, null, m, BigInt(m.length), ad, BigInt(ad.length), null, nonce, key);
      },
      open(m, c, mac, ad, nonce, key) {
        return s.open(m, null, c, BigInt(c.length), mac, ad, BigInt(ad.length), nonce, key) === 0;
      },
    };
  }
  loadError = errors.join("; ");
  return null;
}
