/**
 * FIB benchmarks.
 *
 * `deno bench -A bench/fib_bench.ts`: lookups (each iteration does BATCH lookups, so
 * lookups/s = BATCH / time per iteration), insert + delete of BATCH prefixes into a full table,
 * and building tables from empty.
 *
 * `deno run -A bench/fib_bench.ts [sizes…]`: lookups/s as the median (and best) of ROUNDS
 * timed runs of LOOKUPS lookups, the sizes taking turns in each round, so that load from other
 * processes on the machine spreads over all sizes instead of skewing one.
 */
import { Fib } from "../src/fib/mod.ts";
import { randomDestinations, randomPrefixes } from "./routing_prefixes.ts";

const BATCH = 10_000;
const DESTS = 1 << 16;
const LOOKUP_SIZES = [1_000, 100_000, 200_000, 1_000_000];

/** A table of `size` random prefixes and DESTS destinations, half of them inside a prefix. */
function setup(size: number): { fib: Fib<number>; dests: Uint8Array } {
  const prefixes = randomPrefixes(size, size);
  const fib = new Fib<number>();
  prefixes.forEach((p, i) => fib.set(p, i));
  return { fib, dests: randomDestinations(prefixes, DESTS, size + 1) };
}

function medians(sizes: number[]): void {
  const ROUNDS = 31, LOOKUPS = 200_000;
  const tables = sizes.map(setup);
  const times: number[][] = sizes.map(() => []);
  let sink = 0;
  for (let r = 0; r < ROUNDS; r++) {
    tables.forEach(({ fib, dests }, k) => {
      let at = 0;
      const t0 = performance.now();
      for (let i = 0; i < LOOKUPS; i++) {
        if (fib.lookup(dests, at) !== undefined) sink++;
        at = (at + 16) & (DESTS * 16 - 1);
      }
      times[k].push(performance.now() - t0);
    });
  }
  sizes.forEach((size, k) => {
    const t = times[k].sort((a, b) => a - b);
    const rate = (ms: number) => `${(LOOKUPS / ms / 1000).toFixed(1)} M/s`;
    console.log(`${size} prefixes: median ${rate(t[t.length >> 1])}, best ${rate(t[0])}`);
  });
  if (sink < 0) console.log(sink);
}

if (import.meta.main) {
  medians(Deno.args.length > 0 ? Deno.args.map(Number) : LOOKUP_SIZES);
} else {
  for (const size of LOOKUP_SIZES) {
    const { fib, dests } = setup(size);
    let at = 0, sink = 0;
    Deno.bench({
      name: `lookup ×${BATCH}, ${size} prefixes`,
      group: "lookup",
      n: 1000,
      warmup: 100,
      fn() {
        for (let i = 0; i < BATCH; i++) {
          if (fib.lookup(dests, at) !== undefined) sink++;
          at = (at + 16) & (DESTS * 16 - 1);
        }
      },
    });
    if (sink < 0) console.log(sink);
  }

  for (const size of [1_000, 100_000, 1_000_000]) {
    const prefixes = randomPrefixes(size, size);
    const fib = new Fib<number>();
    prefixes.forEach((p, i) => fib.set(p, i));
    const extra = randomPrefixes(BATCH, size + 7);
    Deno.bench({
      name: `insert + delete ×${BATCH} into a table of ${size}`,
      group: "update",
      n: 100,
      fn() {
        for (let i = 0; i < BATCH; i++) fib.set(extra[i], i);
        for (let i = 0; i < BATCH; i++) fib.delete(extra[i]);
      },
    });
  }

  for (const size of [1_000, 100_000, 1_000_000]) {
    const prefixes = randomPrefixes(size, size);
    Deno.bench({
      name: `build a table of ${size} prefixes from empty`,
      group: "build",
      n: size >= 1_000_000 ? 3 : size >= 100_000 ? 10 : 200,
      fn() {
        const fib = new Fib<number>();
        for (let i = 0; i < size; i++) fib.set(prefixes[i], i);
      },
    });
  }
}
