/**
 * Caches `buf.subarray(offset)` per batch slot so that passing caller buffers to FFI calls
 * allocates nothing in the steady state (the caller reuses the same buffers every batch).
 * @module
 */

/** Per-slot cache of offset views. */
export class ViewCache {
  readonly #src: Uint8Array[] = [];
  readonly #views: Uint8Array[] = [];
  #offset = 0;

  /** Returns `buf.subarray(offset)` for slot `i`, reusing the previous view when unchanged. */
  get(buf: Uint8Array, i: number, offset: number): Uint8Array {
    if (offset === 0) return buf;
    if (offset !== this.#offset) {
      this.#offset = offset;
      this.#src.length = 0;
      this.#views.length = 0;
    }
    if (this.#src[i] !== buf) {
      this.#src[i] = buf;
      this.#views[i] = buf.subarray(offset);
    }
    return this.#views[i];
  }
}
