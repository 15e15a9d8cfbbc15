/**
 * Running counts of a router's table for `vmesh status` and the metrics: selected routes,
 * candidates (learned routes plus local ones) and selected routes per neighbour. Kept as the
 * table changes, so a status poll costs O(neighbours), not a walk of 100 000 prefixes (a poll
 * every 25 ms held a node's event loop for tens of milliseconds each). Internal to
 * `src/routing/`.
 * @module
 */
import type { PeerId } from "../pki/mod.ts";
import type { Selected } from "./router_state.ts";

/** The counts. */
export class RouteCounts {
  /** Prefixes with a selected route. */
  routes = 0;
  /** Candidates: learned routes plus local routes. */
  candidates = 0;
  readonly #via = new Map<PeerId, number>();

  /** A prefix's selection changed from `old` to `next` (call only when the next hop changed). */
  selected(old: Selected | undefined, next: Selected | undefined): void {
    if (old === undefined) this.routes++;
    else if (old.kind === "peer") this.#add(old.cand.peer, -1);
    if (next === undefined) this.routes--;
    else if (next.kind === "peer") this.#add(next.cand.peer, 1);
  }

  /** Selected routes per neighbour with any. */
  via(): Map<PeerId, number> {
    return new Map(this.#via);
  }

  #add(peer: PeerId, d: number): void {
    const n = (this.#via.get(peer) ?? 0) + d;
    if (n === 0) this.#via.delete(peer);
    else this.#via.set(peer, n);
  }
}
