/**
 * Watches the forwarding state of a {@link RoutingSim} for loops, for a sample of destination
 * prefixes, after every simulated event that can change a FIB.
 *
 * Exact, not sampled in time: for each watched prefix the next hops of all nodes form a graph in
 * which every node has at most one outgoing edge, so a cycle that was not there before must pass
 * through the node whose next hop just changed. After each change the watcher follows next hops
 * from that node (at most N steps) to find a new loop, and ends every open loop the node was part
 * of. A loop's duration is the simulated time between the change that closed the cycle and the
 * change that broke it (0 when both happen at the same instant).
 * @module
 */
import type { RoutingSim } from "./routing_sim.ts";

/** Loop counters of a run. */
export interface LoopStats {
  /** Loops that formed (including ones that lasted 0 ms). */
  formed: number;
  /** Loops that lasted longer than 0 ms of simulated time. */
  lasting: number;
  /** Longest loop so far, simulated ms (open loops count up to now). */
  maxDurationMs: number;
  /** Loops still open now. */
  open: number;
  /** Longest cycle seen, nodes. */
  maxLength: number;
}

interface OpenLoop {
  readonly members: Set<number>;
  readonly start: number;
}

const NONE = -1;
const LOCAL = -2;

/** The watcher. Attach it before the events; read {@link LoopWatch.stats} after each run. */
export class LoopWatch {
  readonly #sim: RoutingSim;
  readonly #dests: number[];
  /** Per watched destination: next-hop node index of every node (NONE, LOCAL). */
  readonly #hops: Int32Array[];
  readonly #open: OpenLoop[][];
  #stats: LoopStats = emptyLoopStats();

  /**
   * @param dests node indexes whose prefixes are watched
   */
  constructor(sim: RoutingSim, dests: readonly number[]) {
    this.#sim = sim;
    this.#dests = [...dests];
    this.#hops = this.#dests.map(() => new Int32Array(sim.nodes.length).fill(NONE));
    this.#open = this.#dests.map(() => []);
    for (let w = 0; w < this.#dests.length; w++) {
      for (let i = 0; i < sim.nodes.length; i++) this.#hops[w][i] = this.#hopOf(i, w);
    }
    sim.onFibTouched = (i) => this.touched(i);
  }

  /** Resets the counters (open loops stay open). */
  reset(): void {
    this.#stats = emptyLoopStats();
  }

  /** The counters since the last reset. */
  stats(): LoopStats {
    let open = 0, max = this.#stats.maxDurationMs;
    for (const loops of this.#open) {
      open += loops.length;
      for (const l of loops) max = Math.max(max, this.#sim.now - l.start);
    }
    return { ...this.#stats, open, maxDurationMs: max };
  }

  /** Node i's FIB may have changed: re-check every watched destination at i. */
  touched(i: number): void {
    for (let w = 0; w < this.#dests.length; w++) {
      const hop = this.#hopOf(i, w);
      const hops = this.#hops[w];
      if (hops[i] === hop) continue;
      hops[i] = hop;
      this.#close(w, i);
      this.#detect(w, i);
    }
  }

  #hopOf(i: number, w: number): number {
    const node = this.#sim.nodes[i];
    if (!node.alive) return NONE;
    const h = node.router.fib.lookupAddress(this.#sim.addressOf(this.#dests[w]));
    if (h === undefined) return NONE;
    if (h.kind === "local") return LOCAL;
    return this.#sim.indexOf(h.id) ?? NONE;
  }

  #close(w: number, i: number): void {
    const loops = this.#open[w];
    for (let k = loops.length - 1; k >= 0; k--) {
      if (!loops[k].members.has(i)) continue;
      const d = this.#sim.now - loops[k].start;
      if (d > 0) this.#stats.lasting++;
      this.#stats.maxDurationMs = Math.max(this.#stats.maxDurationMs, d);
      loops.splice(k, 1);
    }
  }

  #detect(w: number, i: number): void {
    const hops = this.#hops[w];
    const members = new Set<number>([i]);
    let at = hops[i];
    while (at >= 0 && at !== i && members.size <= hops.length) {
      if (members.has(at)) return; // runs into a loop that does not include i (already open)
      members.add(at);
      at = hops[at];
    }
    if (at !== i) return;
    this.#stats.formed++;
    this.#stats.maxLength = Math.max(this.#stats.maxLength, members.size);
    this.#open[w].push({ members, start: this.#sim.now });
  }
}

function emptyLoopStats(): LoopStats {
  return { formed: 0, lasting: 0, maxDurationMs: 0, open: 0, maxLength: 0 };
}
