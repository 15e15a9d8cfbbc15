/**
 * Link lists for meshes of N nodes (indexes 0..N-1), for bench:scale and the scale e2e test.
 * @module
 */
import { seededRandom } from "./random.ts";

/** The topologies bench:scale knows. */
export type TopologyKind = "ring-chords" | "random";

/**
 * A ring with chords: each node links to the nodes 1, 2, ... `degree / 2` places ahead, so every
 * node has `degree` neighbours (degree 4: the ring plus chords that skip one). `degree` must be
 * even and below n.
 */
export function ringChords(n: number, degree: number): [number, number][] {
  if (degree % 2 !== 0 || degree < 2 || degree >= n) {
    throw new RangeError(`ring-chords degree ${degree}: use an even number from 2 to ${n - 1}`);
  }
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    for (let k = 1; k <= degree / 2; k++) out.push([i, (i + k) % n]);
  }
  return out;
}

/**
 * A connected random graph where each node has about `degree` neighbours: a random spanning
 * tree, then random links between nodes still below `degree` until none can be added.
 */
export function randomDegree(n: number, degree: number, seed: number): [number, number][] {
  if (degree < 1 || degree >= n) throw new RangeError(`degree ${degree}: use 1 to ${n - 1}`);
  const rand = seededRandom(seed);
  const deg = new Array<number>(n).fill(0);
  const has = new Set<string>();
  const out: [number, number][] = [];
  const add = (a: number, b: number) => {
    const k = a < b ? `${a}-${b}` : `${b}-${a}`;
    if (a === b || has.has(k)) return false;
    has.add(k);
    out.push([a, b]);
    deg[a]++;
    deg[b]++;
    return true;
  };
  for (let i = 1; i < n; i++) add(i, Math.floor(rand() * i));
  for (let tries = 0; tries < n * degree * 20; tries++) {
    const a = Math.floor(rand() * n), b = Math.floor(rand() * n);
    if (deg[a] < degree && deg[b] < degree) add(a, b);
  }
  return out;
}

/** Builds the named topology. */
export function topology(
  kind: TopologyKind,
  n: number,
  degree: number,
  seed = 1,
): [number, number][] {
  return kind === "ring-chords" ? ringChords(n, degree) : randomDegree(n, degree, seed);
}
