/**
 * The scale scenario of the routing simulation, shared by `deno task bench:sim` and
 * tests/routing_sim_test.ts: a random geometric graph (geo_graph.ts) of real Routers flushed
 * every {@link FLUSH_DELAY_MS} like the node, a cold start, then link and node failures one at a
 * time (each repaired before the next), with loops watched for a sample of prefixes.
 * @module
 */
import { FLUSH_DELAY_MS } from "../../src/node/node.ts";
import { geoGraph } from "./geo_graph.ts";
import { type LoopStats, LoopWatch } from "./loop_watch.ts";
import { seededRandom } from "./random.ts";
import { RoutingSim, type SimStats } from "./routing_sim.ts";

/** Settings of {@link runScale}. */
export interface ScaleOptions {
  readonly nodes: number;
  readonly seed: number;
  /** Link failures to measure (default 5). */
  readonly linkFailures?: number;
  /** Node failures to measure; the first is the node of highest degree (default 3). */
  readonly nodeFailures?: number;
  /** Destination prefixes watched for loops, besides those of the failing nodes (default 16). */
  readonly loopSample?: number;
  /** Source nodes whose paths to every prefix are checked after each event (default 20). */
  readonly checkSources?: number;
  readonly hysteresisMs?: number;
  /** Run payloads through the wire codec (default true; false is faster, same counts). */
  readonly wire?: boolean;
  /** The router's hold after a lost route (default: the router's). */
  readonly worseRouteHoldMs?: number;
}

/** The outcome of one event. */
export interface EventResult {
  readonly event: string;
  /** Links up before the event. */
  readonly links: number;
  readonly stats: SimStats;
  readonly loops: LoopStats;
  /** Payloads per link that is up. */
  readonly messagesPerLink: number;
  /** Problems found by the path check after convergence (empty when all is well). */
  readonly problems: string[];
}

/** The outcome of a scale run. */
export interface ScaleResult {
  readonly nodes: number;
  readonly links: number;
  readonly seed: number;
  readonly degree: { min: number; median: number; max: number };
  readonly latencyMs: { min: number; median: number; max: number };
  readonly cold: EventResult;
  readonly linkFailures: EventResult[];
  readonly linkRepairs: EventResult[];
  readonly nodeFailures: EventResult[];
  readonly nodeRepairs: EventResult[];
  /** Route candidates (Adj-RIB-In entries) per node after the cold start, mean. */
  readonly candidatesPerNode: number;
  /** Heap growth per node from the cold start, bytes (undefined without --expose-gc). */
  readonly heapPerNode: number | undefined;
  /** Wall-clock ms of the whole run. */
  readonly wallMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs the scenario. Deterministic for given options. */
export function runScale(o: ScaleOptions): ScaleResult {
  const t0 = performance.now();
  const rand = seededRandom(o.seed ^ 0x5eed);
  const g = geoGraph({ nodes: o.nodes, seed: o.seed });
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heap0 = Deno.memoryUsage().heapUsed;
  const sim = new RoutingSim(o.nodes, {
    hysteresisMs: o.hysteresisMs ?? 10,
    flushDelayMs: FLUSH_DELAY_MS,
    worseRouteHoldMs: o.worseRouteHoldMs,
    wire: o.wire,
  });
  const pick = () => Math.floor(rand() * o.nodes);
  // Choose the failures up front so their prefixes are watched for loops.
  const links = [...g.edges].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const failLinks = Array.from({ length: o.linkFailures ?? 5 }, () => {
    return links[Math.floor(rand() * links.length)];
  });
  const hub = g.degree.indexOf(Math.max(...g.degree));
  const failNodes = [hub];
  while (failNodes.length < (o.nodeFailures ?? 3)) {
    const i = pick();
    if (!failNodes.includes(i)) failNodes.push(i);
  }
  const watched = new Set<number>([...failNodes, ...failLinks.flatMap(([a, b]) => [a, b])]);
  const extra = o.loopSample ?? 16;
  for (let k = 0; k < extra && watched.size < o.nodes; k++) watched.add(pick());
  const sources = Array.from({ length: Math.min(o.checkSources ?? 20, o.nodes) }, pick);
  const watch = new LoopWatch(sim, [...watched]);

  const measure = (event: string, act: () => void): EventResult => {
    const before = sim.links.size;
    sim.startRun();
    watch.reset();
    act();
    const stats = sim.runUntilQuiet();
    return {
      event,
      links: before || sim.links.size,
      stats,
      loops: watch.stats(),
      messagesPerLink: stats.messages / (before || sim.links.size),
      problems: checkPaths(sim, sources),
    };
  };

  const cold = measure("cold start", () => {
    for (const [a, b, l] of g.edges) sim.linkUp(a, b, l);
  });
  gc?.();
  const heapPerNode = gc ? (Deno.memoryUsage().heapUsed - heap0) / o.nodes : undefined;
  let candidates = 0;
  for (const n of sim.nodes) {
    for (const v of n.router.table()) candidates += v.candidates;
  }

  const linkFailures: EventResult[] = [], linkRepairs: EventResult[] = [];
  for (const [a, b, l] of failLinks) {
    linkFailures.push(measure(`link ${a}-${b} (${l} ms) down`, () => sim.linkDown(a, b)));
    linkRepairs.push(measure(`link ${a}-${b} up`, () => sim.linkUp(a, b, l)));
  }
  const nodeFailures: EventResult[] = [], nodeRepairs: EventResult[] = [];
  for (const i of failNodes) {
    const mine = g.edges.filter(([a, b]) => a === i || b === i);
    nodeFailures.push(measure(`node ${i} (degree ${mine.length}) down`, () => sim.nodeDown(i)));
    nodeRepairs.push(measure(`node ${i} back`, () => {
      sim.nodes[i].alive = true;
      for (const [a, b, l] of mine) sim.linkUp(a, b, l);
    }));
  }
  const lat = g.edges.map((e) => e[2]);
  return {
    nodes: o.nodes,
    links: g.edges.length,
    seed: o.seed,
    degree: { min: Math.min(...g.degree), median: median(g.degree), max: Math.max(...g.degree) },
    latencyMs: { min: Math.min(...lat), median: median(lat), max: Math.max(...lat) },
    cold,
    linkFailures,
    linkRepairs,
    nodeFailures,
    nodeRepairs,
    candidatesPerNode: candidates / o.nodes,
    heapPerNode,
    wallMs: performance.now() - t0,
  };
}

/**
 * From each source, follows the FIB to every node's prefix: it must reach every live node
 * without a loop, and find no route to a dead one; and every node on the way (the destination
 * included) must accept the source's address from the hop before it (uRPF: the source table
 * makes that hop feasible for it, however asymmetric the routes). Returns the first few
 * problems.
 */
export function checkPaths(sim: RoutingSim, sources: readonly number[]): string[] {
  const problems: string[] = [];
  const live = sources.find((s) => sim.nodes[s].alive);
  if (live === undefined) return problems;
  const reachable = reach(sim, live);
  for (const s of sources) {
    if (!sim.nodes[s].alive) continue;
    for (const d of sim.nodes) {
      const fwd = sim.forwardPath(s, sim.addressOf(d.index));
      const where = `n${s} → n${d.index}`;
      if (fwd === "loop") problems.push(`${where}: forwarding loop`);
      else if (!d.alive || !reachable.has(d.index)) {
        if (fwd.length > 1) problems.push(`${where}: route to an unreachable node`);
      } else if (fwd[fwd.length - 1] !== d.index) problems.push(`${where}: no route`);
      else {
        const src = sim.addressOf(s);
        for (let k = 1; k < fwd.length; k++) {
          const from = sim.nodes[fwd[k - 1]].id;
          const verdict = sim.nodes[fwd[k]].router.sources.checkAddress(src, from);
          if (verdict !== "ok") {
            problems.push(`${where}: n${fwd[k]} finds the source ${verdict} from n${fwd[k - 1]}`);
            break;
          }
        }
      }
      if (problems.length >= 8) return problems;
    }
  }
  return problems;
}

function reach(sim: RoutingSim, from: number): Set<number> {
  const seen = new Set<number>([from]);
  const todo = [from];
  while (todo.length > 0) {
    for (const v of sim.adjacent[todo.pop()!]) {
      if (!seen.has(v)) {
        seen.add(v);
        todo.push(v);
      }
    }
  }
  return seen;
}
