/**
 * Received route payloads not yet applied, in arrival order: a withdraw payload carries up to
 * about 7 000 prefixes and a 64 KiB announce payload up to about 1 400 routes, and one TLS read
 * can hold several payloads. Applied all at once they held the event loop for a second and more
 * at 100 000 routes, and every packet through the node waited. The router applies them in
 * slices of {@link RECEIVE_SLICE} items (the first at once, the rest in later flushes), so the
 * packet path runs between slices. Internal to `src/routing/`.
 *
 * Bounded: past {@link MAX_RECEIVE_QUEUED} waiting items a new payload is applied at once, in
 * full, as before there was a queue (the sender then waits for TCP like it did), so a peer that
 * sends faster than the node applies cannot grow the queue.
 * @module
 */
import type { Ipv6Prefix } from "../net/mod.ts";
import type { PeerId } from "../pki/mod.ts";
import type { Route } from "./route.ts";

/** Received routes or withdrawn prefixes applied per slice. */
export const RECEIVE_SLICE = 512;

/** Received items (routes, prefixes) held waiting at most; see the module documentation. */
export const MAX_RECEIVE_QUEUED = 262_144;

/** One received payload, or what is left of it. */
export type Received =
  | { readonly from: PeerId; readonly kind: "announce"; readonly items: readonly Route[] }
  | { readonly from: PeerId; readonly kind: "withdraw"; readonly items: readonly Ipv6Prefix[] };

/** Applies a slice of one payload (the router's receiveAnnounce / receiveWithdraw). */
export type ApplyReceived = (slice: Received) => void;

/** The queue. */
export class ReceiveQueue {
  #batches: Received[] = [];
  #head = 0;
  /** How far the head batch has been applied. */
  #at = 0;
  #size = 0;

  /** Items waiting. */
  get size(): number {
    return this.#size;
  }

  /** Queues a payload's items. */
  push(batch: Received): void {
    if (batch.items.length === 0) return;
    this.#batches.push(batch);
    this.#size += batch.items.length;
  }

  /** Drops everything `from` sent that is not applied yet (its session ended). */
  dropPeer(from: PeerId): void {
    if (this.#size === 0) return;
    const keep: Received[] = [];
    let size = 0;
    for (let i = this.#head; i < this.#batches.length; i++) {
      const b = this.#batches[i];
      const left = b.items.length - (i === this.#head ? this.#at : 0);
      if (b.from === from) continue;
      keep.push(i === this.#head ? rest(b, this.#at) : b);
      size += left;
    }
    this.#batches = keep;
    this.#head = this.#at = 0;
    this.#size = size;
  }

  /**
   * Applies up to `max` items, oldest first, each payload's in order, through `apply` (one call
   * per payload piece).
   * @returns the number of items applied
   */
  take(max: number, apply: ApplyReceived): number {
    let done = 0;
    while (done < max && this.#size > 0) {
      const b = this.#batches[this.#head];
      const end = Math.min(b.items.length, this.#at + (max - done));
      const whole = this.#at === 0 && end === b.items.length;
      const piece = whole ? b : slice(b, this.#at, end);
      const n = end - this.#at;
      // Advanced before the call: a piece that throws is not applied again.
      this.#size -= n;
      done += n;
      if (end === b.items.length) {
        this.#batches[this.#head++] = undefined as unknown as Received;
        this.#at = 0;
        if (this.#head === this.#batches.length) this.#batches = [], this.#head = 0;
      } else {
        this.#at = end;
      }
      apply(piece);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#batches.length) {
      this.#batches = this.#batches.slice(this.#head);
      this.#head = 0;
    }
    return done;
  }
}

function slice(b: Received, from: number, to: number): Received {
  return b.kind === "announce"
    ? { from: b.from, kind: "announce", items: b.items.slice(from, to) }
    : { from: b.from, kind: "withdraw", items: b.items.slice(from, to) };
}

function rest(b: Received, from: number): Received {
  return from === 0 ? b : slice(b, from, b.items.length);
}
