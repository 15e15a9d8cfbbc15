/**
 * Random geometric graphs for the routing simulation: nodes at random places on a square
 * "world", each linked to nearby nodes, with link latencies from distance.
 *
 * Construction (seeded, deterministic): N points uniform in a square of `worldKm` sides. Each node
 * draws a target degree in [minDegree, maxDegree] and links to its nearest nodes that still have
 * room (degree < maxDegree) until it reaches its target. Components left apart are then joined by
 * their closest pair of nodes, so the graph is connected; no node ends above maxDegree except
 * when a join needs it (counted in `overDegree`). Latency is a round-trip time: 1 ms per 100 km
 * of straight line (light in fibre, there and back) times a route-inflation factor of 1.5,
 * clamped to [1, 150] ms.
 * @module
 */
import { seededRandom } from "./random.ts";

/** Settings of {@link geoGraph}. */
export interface GeoOptions {
  readonly nodes: number;
  readonly seed: number;
  /** Fewest links per node (default 3). */
  readonly minDegree?: number;
  /** Most links per node (default 8). */
  readonly maxDegree?: number;
  /** Side of the square world, km (default 12 000). */
  readonly worldKm?: number;
}

/** A generated graph. */
export interface GeoGraph {
  /** [a, b, RTT ms] with a < b. */
  readonly edges: [number, number, number][];
  readonly degree: number[];
  /** Nodes whose degree had to exceed maxDegree to join components. */
  readonly overDegree: number;
}

/** Builds a connected random geometric graph. See the module documentation. */
export function geoGraph(o: GeoOptions): GeoGraph {
  const n = o.nodes, minD = o.minDegree ?? 3, maxD = o.maxDegree ?? 8;
  const world = o.worldKm ?? 12_000;
  const rand = seededRandom(o.seed);
  const xs = new Float64Array(n), ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = rand() * world;
    ys[i] = rand() * world;
  }
  const dist = (a: number, b: number) => Math.hypot(xs[a] - xs[b], ys[a] - ys[b]);
  const rtt = (a: number, b: number) =>
    Math.round(Math.min(150, Math.max(1, dist(a, b) / 100 * 1.5)) * 10) / 10;
  const degree = new Array<number>(n).fill(0);
  const has = new Set<number>();
  const edges: [number, number, number][] = [];
  const add = (a: number, b: number) => {
    const [x, y] = a < b ? [a, b] : [b, a];
    if (x === y || has.has(x * n + y)) return false;
    has.add(x * n + y);
    edges.push([x, y, rtt(x, y)]);
    degree[x]++;
    degree[y]++;
    return true;
  };
  const target = Array.from({ length: n }, () => minD + Math.floor(rand() * (maxD - minD + 1)));
  // Nearest neighbours by sorting; O(n² log n) is fine for a few thousand nodes.
  for (let i = 0; i < n; i++) {
    if (degree[i] >= target[i]) continue;
    const order = Array.from({ length: n }, (_, j) => j)
      .filter((j) => j !== i)
      .sort((a, b) => dist(i, a) - dist(i, b));
    for (const j of order) {
      if (degree[i] >= target[i]) break;
      if (degree[j] < maxD) add(i, j);
    }
  }
  // Join components by their closest pair until connected.
  let overDegree = 0;
  for (;;) {
    const comp = components(n, edges);
    const ids = new Set(comp);
    if (ids.size <= 1) break;
    let best: [number, number] | undefined, bestD = Infinity;
    for (let a = 0; a < n; a++) {
      if (comp[a] !== comp[0]) continue;
      for (let b = 0; b < n; b++) {
        if (comp[b] === comp[0]) continue;
        const d = dist(a, b) + (degree[a] >= maxD || degree[b] >= maxD ? 1e9 : 0);
        if (d < bestD) [bestD, best] = [d, [a, b]];
      }
    }
    const [a, b] = best!;
    if (degree[a] >= maxD) overDegree++;
    if (degree[b] >= maxD) overDegree++;
    add(a, b);
  }
  return { edges, degree, overDegree };
}

function components(n: number, edges: readonly [number, number, number][]): number[] {
  const parent = Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (const [a, b] of edges) parent[find(a)] = find(b);
  return parent.map((_, i) => find(i));
}
