/**
 * FIB benchmarks: `deno bench -A bench/fib_bench.ts`.
 * Each lookup iteration does BATCH lookups, so lookups/s = BATCH / (time per iteration);
 * each insert iteration inserts BATCH prefixes into a fresh table.
 */
import { Fib } from "../src/routing/fib.ts";
import { randomDestinations, randomPrefixes } from "./routing_prefixes.ts";

const BATCH = 10_000;
const DESTS = 1 << 16;

for (const size of [1_000, 100_000, 200_000, 1_000_000]) {
  const prefixes = randomPrefixes(size, size);
  const fib = new Fib<number>();
  prefixes.forEach((p, i) => fib.set(p, i));
  const dests = randomDestinations(prefixes, DESTS, size + 1);
  let at = 0, sink = 0;
  Deno.bench({
    name: `lookup ×${BATCH}, ${size} prefixes`,
    group: "lookup",
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
