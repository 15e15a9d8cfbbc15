/**
 * `deno run -A --v8-flags=--expose-gc scripts/bench_prefixes.ts [--prefixes N] [--quota Q]`:
 * the routing cost of a transit site, in process (sans-IO, the real Router and wire codec).
 *
 * Node 0 of a chain 0–1–2–3 (links of 10 ms RTT) announces N /64 prefixes (default 100 000). It
 * reports the wall-clock time until node 3 has all of them (CPU of four routers in one thread,
 * so an upper bound for one node's share) and the simulated time, the payloads per link, the heap
 * growth per node, then the same for withdrawing all of them. Real nodes add the session, TLS
 * and the TUN; this measures what the routing core itself costs. `--quota Q` sets the routers'
 * per-origin limit (`maxRoutesPerOrigin`, default 16 384): N above it is refused past the first
 * hop, which this script reports.
 *
 * `deno task bench:prefixes [--prefixes N]` (= this script with `--real`, root): the same with
 * real nodes in network namespaces (tests/_harness/prefixes_run.ts): a transit node `t` gets N
 * more `local_announcements` by config reload and announces them down the chain t – a – b – c;
 * reports the time until `c` has them all, the RSS growth per node, and for the withdrawal
 * (config reload again) the time until `c` has none and the longest gap of 10 ms pings from `a`
 * and from `t` to `c` meanwhile.
 * @module
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { RoutingSim } from "../tests/_harness/routing_sim.ts";
import { namespaceSupport } from "../tests/_harness/netns.ts";
import { runPrefixes } from "../tests/_harness/prefixes_run.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    prefixes: { type: "string", default: "100000" },
    slice: { type: "string", default: "4096" },
    quota: { type: "string" },
    real: { type: "boolean", default: false },
  },
});
const n = Number(args.prefixes);
if (!Number.isInteger(n) || n < 1 || n > 1_000_000) {
  console.error(`--prefixes ${args.prefixes}: a whole number from 1 to 1 000 000`);
  Deno.exit(2);
}
if (args.real) {
  const why = await namespaceSupport();
  if (why !== undefined) {
    console.error(`bench:prefixes needs network namespaces: ${why}`);
    Deno.exit(1);
  }
  const r = await runPrefixes({ prefixes: n, log: (line) => console.error(`  ${line}`) });
  const per = (x: Record<string, number>, digits: number) =>
    Object.entries(x).map(([k, v]) => `${k} ${v.toFixed(digits)}`).join(", ");
  console.log(`${n} prefixes from t down the chain t – a – b – c (real nodes, namespaces)`);
  console.log(`announce: c has all after ${(r.announcedMs / 1000).toFixed(2)} s`);
  console.log(`RSS growth per node, MiB: ${per(r.rssGrowthMiB, 0)} (RSS: ${per(r.rssMiB, 0)})`);
  console.log(`withdraw: c has none after ${(r.withdrawnMs / 1000).toFixed(2)} s`);
  console.log(`longest ping gap to c during the withdrawal, ms: ${per(r.pingGapMs, 0)}`);
  console.log(
    `pings lost: ${Object.entries(r.pingLoss).map(([k, v]) => `${k} ${v.lost}/${v.sent}`)}`,
  );
  Deno.exit(0);
}
const quota = args.quota === undefined ? undefined : Number(args.quota);
const gc = (globalThis as { gc?: () => void }).gc;
const heap = () => {
  gc?.();
  return Deno.memoryUsage().heapUsed;
};

const sim = new RoutingSim(4, {
  hysteresisMs: 10,
  flushDelayMs: 10,
  maxRoutesPerOrigin: quota,
  maxRoutesPerPeer: Math.max(65536, n + 16),
  flushSlice: Number(args.slice),
});
for (let i = 0; i < 3; i++) sim.linkUp(i, i + 1, 10);
sim.runUntilQuiet();
const prefixes = Array.from({ length: n }, (_, i) => {
  const addr = new Uint8Array(16);
  addr[0] = 0xfd;
  addr[1] = 0x01;
  addr[4] = (i >> 16) & 0xff;
  addr[5] = (i >> 8) & 0xff;
  addr[6] = i & 0xff;
  return { addr, len: 64 };
});
/**
 * FIB lookups per second at node 3, over 4096 addresses in the base prefixes (fd00:0..3::/48)
 * or in the announced ones.
 */
const lookupRate = (announced: boolean) => {
  const fib = sim.nodes[3].router.fib;
  const addrs = new Uint8Array(4096 * 16);
  for (let k = 0; k < 4096; k++) {
    const i = (k * 2654435761) % n;
    if (announced) {
      addrs.set([0xfd, 0x01, 0, 0, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff], k * 16);
    } else addrs.set([0xfd, 0x00, 0, k % 4, 0, 0, 0, 0, k & 0xff], k * 16);
    addrs[k * 16 + 15] = 1;
  }
  let count = 0, hits = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 500) {
    for (let k = 0; k < 4096; k++) if (fib.lookup(addrs, k * 16) !== undefined) hits++;
    count += 4096;
  }
  if (hits !== count) throw new Error(`FIB lookups: ${count - hits} of ${count} missed`);
  return count / ((performance.now() - t0) / 1000);
};
const rate0 = lookupRate(false);
const h0 = heap();
sim.startRun();
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
let c = cpu();
let t = performance.now();
for (const p of prefixes) sim.nodes[0].router.addLocal(p, "tun0");
sim.kick(0);
const up = sim.runUntilQuiet();
const upWall = performance.now() - t;
const upCpu = cpu() - c;
const h1 = heap();
const have = sim.nodes.map((node) => node.router.table().length - 4);
const rate1 = lookupRate(false);
const rate2 = lookupRate(true);
t = performance.now();
c = cpu();
sim.startRun();
for (const p of prefixes) sim.nodes[0].router.removeLocal(p);
sim.kick(0);
const down = sim.runUntilQuiet();
const downWall = performance.now() - t;
const downCpu = cpu() - c;
const left = sim.nodes.map((node) => node.router.table().length - 4);

console.log(
  `${n} prefixes announced by node 0 of a chain of 4 (quota per origin ${quota ?? "default"})`,
);
console.log(`routes held by nodes 0..3: ${have.join(", ")}`);
console.log(
  `announce: ${(upWall / 1000).toFixed(2)} s wall, ${upCpu.toFixed(2)} s CPU ` +
    `(4 routers, one thread), ` +
    `${up.convergenceMs.toFixed(0)} ms simulated, ${up.messages} payloads ` +
    `(${(up.messages / 3).toFixed(0)} per link), ${(up.bytes / 1e6).toFixed(1)} MB; ` +
    `longest step ${up.longestStepMs.toFixed(0)} ms wall, ${up.longestStepCpuMs.toFixed(0)} ms CPU`,
);
console.log(
  `heap growth: ${((h1 - h0) / 4 / 2 ** 20).toFixed(0)} MiB per node ` +
    `(${((h1 - h0) / 4 / n).toFixed(0)} B per route per node)`,
);
console.log(
  `withdraw: ${(downWall / 1000).toFixed(2)} s wall, ${downCpu.toFixed(2)} s CPU, ` +
    `${down.convergenceMs.toFixed(0)} ms ` +
    `simulated, ${down.messages} payloads; longest step ${
      down.longestStepMs.toFixed(0)
    } ms wall, ` +
    `${down.longestStepCpuMs.toFixed(0)} ms CPU; ` +
    `routes left: ${left.join(", ")}`,
);
console.log(
  `FIB lookups at node 3, M/s: ${(rate0 / 1e6).toFixed(1)} to the base prefixes with 4 routes, ` +
    `${(rate1 / 1e6).toFixed(1)} to them with ${n + 4} routes, ` +
    `${(rate2 / 1e6).toFixed(1)} to the announced prefixes`,
);
