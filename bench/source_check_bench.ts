/**
 * Cost of the uRPF source check on the packet path.
 *
 * `deno run -A bench/source_check_bench.ts [sizes…]`: checks/s of `SourceTable.check` as the
 * median (and best) of ROUNDS timed runs of CHECKS checks, next to plain FIB lookups on the
 * same addresses for comparison. Each table has `size` random prefixes, each with one or two
 * of 8 feasible peers; half of the source addresses fall inside a prefix. Then the cost of a
 * full rebuild and of adding/removing one prefix in place (`update`).
 */
import { Fib } from "../src/fib/mod.ts";
import { SourceTable } from "../src/routing/source_table.ts";
import { randomDestinations, randomPrefixes } from "./routing_prefixes.ts";

const DESTS = 1 << 16;
const ROUNDS = 31, CHECKS = 200_000;
const PEERS = Array.from({ length: 8 }, (_, i) => i.toString(16).repeat(64));

function setup(size: number) {
  const prefixes = randomPrefixes(size, size);
  const table = new SourceTable();
  table.rebuild(prefixes.map((prefix, i) => ({
    prefix,
    peers: i % 3 === 0 ? [PEERS[i % 8], PEERS[(i + 1) % 8]] : [PEERS[i % 8]],
    own: i % 97 === 0,
  })));
  const fib = new Fib<number>();
  prefixes.forEach((p, i) => fib.set(p, i));
  return { table, fib, srcs: randomDestinations(prefixes, DESTS, size + 1) };
}

const sizes = Deno.args.length ? Deno.args.map(Number) : [1_000, 100_000];
const tables = sizes.map(setup);
const times = sizes.map(() => ({ check: [] as number[], lookup: [] as number[] }));
let sink = 0;
for (let r = 0; r < ROUNDS; r++) {
  tables.forEach(({ table, fib, srcs }, k) => {
    let at = 0;
    let t0 = performance.now();
    for (let i = 0; i < CHECKS; i++) {
      if (table.check(srcs, at, PEERS[i & 7]) === "ok") sink++;
      at = (at + 16) & (DESTS * 16 - 1);
    }
    times[k].check.push(performance.now() - t0);
    at = 0;
    t0 = performance.now();
    for (let i = 0; i < CHECKS; i++) {
      if (fib.lookup(srcs, at) !== undefined) sink++;
      at = (at + 16) & (DESTS * 16 - 1);
    }
    times[k].lookup.push(performance.now() - t0);
  });
}
const rate = (ms: number) => `${(CHECKS / ms / 1000).toFixed(1)} M/s`;
const ns = (ms: number) => `${(ms * 1e6 / CHECKS).toFixed(0)} ns`;
sizes.forEach((size, k) => {
  const c = times[k].check.sort((a, b) => a - b), l = times[k].lookup.sort((a, b) => a - b);
  const mc = c[c.length >> 1], ml = l[l.length >> 1];
  console.log(
    `${size} prefixes: check median ${rate(mc)} (${ns(mc)}/packet), best ${rate(c[0])}; ` +
      `FIB lookup median ${rate(ml)} (${ns(ml)})`,
  );
});
const t0 = performance.now();
for (const { table } of tables) table.rebuild([]);
if (sink < 0) console.log(sink, t0);
for (const size of sizes) {
  const prefixes = randomPrefixes(size, size).map((prefix, i) => ({
    prefix,
    peers: [PEERS[i % 8]],
    own: false,
  }));
  const table = new SourceTable();
  let t = performance.now();
  table.rebuild(prefixes);
  const rebuildMs = performance.now() - t;
  const extra = randomPrefixes(1000, size + 7);
  t = performance.now();
  for (const p of extra) table.update(p, [PEERS[1]], false);
  for (const p of extra) table.update(p, [], false);
  const updateUs = (performance.now() - t) * 1000 / (2 * extra.length);
  console.log(
    `${size} prefixes: rebuild ${rebuildMs.toFixed(1)} ms; one prefix added or removed ` +
      `${updateUs.toFixed(1)} µs`,
  );
}
