/**
 * Route limits of one neighbour: at most `maxPerPeer` candidates from it, and at most
 * `maxPerOrigin` of them for one origin node (the last hop of the path), so a node flooding
 * behind the neighbour fills only its own quota. Refusals are counted for `vmesh status`.
 * @module
 */
import type { PeerId } from "../pki/mod.ts";

/** Origins whose refusals are counted one by one; the rest share the "other" counter. */
export const MAX_COUNTED_ORIGINS = 64;

/** Routes refused by the quotas, per neighbour, for `vmesh status`. */
export interface QuotaRefusals {
  readonly peer: string;
  readonly id: PeerId;
  /** Refused because the neighbour reached `maxRoutesPerPeer`. */
  readonly overPeerLimit: number;
  /** Refused because the origin reached `maxRoutesPerOrigin` through this neighbour. */
  readonly byOrigin: readonly { readonly origin: PeerId | "other"; readonly count: number }[];
}

/** Which limit refused a route, and whether it is the first refusal of its kind (to log once). */
export type QuotaRefusal = { readonly limit: "peer" | "origin"; readonly first: boolean };

/** The quota of one neighbour's session. */
export class PeerQuota {
  readonly #origins = new Map<PeerId, number>();
  #overPeerLimit = 0;
  readonly #byOrigin = new Map<PeerId | "other", number>();

  constructor(readonly maxPerPeer: number, readonly maxPerOrigin: number) {}

  /**
   * Whether a candidate for `origin` may be stored; counts the refusal when not.
   * @param held candidates the neighbour has now
   * @param replaced the origin of the candidate it replaces for the same prefix, if any
   * @param isNew true when the neighbour has no candidate for the prefix yet
   */
  admit(
    held: number,
    isNew: boolean,
    origin: PeerId,
    replaced: PeerId | undefined,
  ): QuotaRefusal | undefined {
    if (isNew && held >= this.maxPerPeer) {
      return { limit: "peer", first: this.#overPeerLimit++ === 0 };
    }
    if (origin === replaced || (this.#origins.get(origin) ?? 0) < this.maxPerOrigin) {
      return undefined;
    }
    const counts = this.#byOrigin;
    const k = counts.has(origin) || counts.size < MAX_COUNTED_ORIGINS ? origin : "other";
    const n = counts.get(k) ?? 0;
    counts.set(k, n + 1);
    return { limit: "origin", first: n === 0 };
  }

  /** A candidate for `origin` was stored, replacing one for `replaced` (if any). */
  stored(origin: PeerId, replaced: PeerId | undefined): void {
    if (origin === replaced) return;
    if (replaced !== undefined) this.released(replaced);
    this.#origins.set(origin, (this.#origins.get(origin) ?? 0) + 1);
  }

  /** A candidate for `origin` was dropped. */
  released(origin: PeerId): void {
    const n = (this.#origins.get(origin) ?? 0) - 1;
    if (n > 0) this.#origins.set(origin, n);
    else this.#origins.delete(origin);
  }

  /** The refusal counters, or undefined when there were none. */
  refusals(peer: string, id: PeerId): QuotaRefusals | undefined {
    if (this.#overPeerLimit === 0 && this.#byOrigin.size === 0) return undefined;
    return {
      peer,
      id,
      overPeerLimit: this.#overPeerLimit,
      byOrigin: [...this.#byOrigin].map(([origin, count]) => ({ origin, count })),
    };
  }
}
