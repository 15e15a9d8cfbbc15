/**
 * `deno task bench:scale`: what N real vmesh nodes cost, in network namespaces (root).
 *
 * Starts N nodes (tests/_harness/mesh.ts) on a ring with chords or a random graph and reports:
 * time from starting the processes to every node having every other node's prefix; idle CPU
 * per node (median and max over `--idle` seconds after convergence, from /proc/<pid>/stat);
 * RSS per node (VmRSS); control-plane bytes sent per node per second while idle (session
 * counters of `status`); the time until a `kill -9`'d node's prefix is gone from every other
 * node; and the time until it is back everywhere after the node is restarted.
 *
 * Usage: deno task bench:scale [--nodes N] [--topology ring-chords|random] [--degree D]
 *                              [--idle S] [--seed S] [--json]
 *   --nodes     how many nodes (default 24)
 *   --topology  ring-chords (default: ring plus chords, D neighbours each) or random
 *   --degree    neighbours per node (default 4; even for ring-chords)
 *   --idle      seconds of idle measurement (default 10)
 *   --seed      seed of the random topology (default 1)
 *   --json      print the figures as JSON as well
 * Run it on a quiet machine: the figures are timings.
 * @module
 */
import { parseArgs } from "node:util";
import { namespaceSupport } from "../tests/_harness/netns.ts";
import { runMeshScale } from "../tests/_harness/scale_run.ts";
import type { TopologyKind } from "../tests/_harness/topology.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    nodes: { type: "string", default: "24" },
    topology: { type: "string", default: "ring-chords" },
    degree: { type: "string", default: "4" },
    idle: { type: "string", default: "10" },
    seed: { type: "string", default: "1" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
const usage = "usage: deno task bench:scale [--nodes N] [--topology ring-chords|random] " +
  "[--degree D] [--idle S] [--seed S] [--json]";
if (args.help) {
  console.log(usage);
  Deno.exit(0);
}
const nodes = Number(args.nodes), degree = Number(args.degree), idle = Number(args.idle);
const seed = Number(args.seed);
const fail = (msg: string) => {
  console.error(`${msg}\n${usage}`);
  Deno.exit(2);
};
if (!Number.isInteger(nodes) || nodes < 3 || nodes > 200) fail(`--nodes ${args.nodes}: 3 to 200`);
if (args.topology !== "ring-chords" && args.topology !== "random") {
  fail(`--topology ${args.topology}: use ring-chords or random`);
}
if (!Number.isInteger(degree) || degree < 1 || degree >= nodes) {
  fail(`--degree ${args.degree}: a whole number from 1 to ${nodes - 1}`);
}
if (args.topology === "ring-chords" && degree % 2 !== 0) {
  fail(`--degree ${degree}: ring-chords needs an even degree`);
}
if (!Number.isFinite(idle) || idle < 0 || idle > 600) fail(`--idle ${args.idle}: 0 to 600 s`);
if (!Number.isInteger(seed) || seed < 0) fail(`--seed ${args.seed}: a whole number ≥ 0`);
const why = await namespaceSupport();
if (why !== undefined) {
  console.error(`bench:scale needs network namespaces: ${why}`);
  Deno.exit(1);
}

const r = await runMeshScale({
  nodes,
  topology: args.topology as TopologyKind,
  degree,
  seed,
  idleSeconds: idle,
  log: (line) => console.error(`  ${line}`),
});
const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
const cores = cpuinfo.split("\n").filter((l) => l.startsWith("processor")).length;
const mm = (x: { median: number; max: number } | undefined, digits: number, unit: string) =>
  x === undefined ? "–" : `${x.median.toFixed(digits)} / ${x.max.toFixed(digits)} ${unit}`;
console.log(
  `${r.nodes} nodes, ${r.links} links (${r.topology}), ${cores} cores, Deno ${Deno.version.deno}`,
);
console.log("| measurement | result |");
console.log("| --- | --- |");
console.log(`| start → every node has every prefix | ${(r.convergedMs / 1000).toFixed(2)} s |`);
console.log(`| idle CPU per node, median / max | ${mm(r.idleCpuPct, 2, "% of a core")} |`);
console.log(`| RSS per node, median / max | ${mm(r.rssMiB, 0, "MiB")} |`);
console.log(
  `| control-plane bytes sent per node while idle, median / max | ${
    mm(r.idleBytesPerSecond, 0, "B/s")
  } |`,
);
console.log(
  `| kill -9 ${r.victim} → its prefix gone everywhere | ${r.withdrawnMs.toFixed(0)} ms |`,
);
console.log(`| restart ${r.victim} → its prefix back everywhere | ${r.restoredMs.toFixed(0)} ms |`);
if (args.json) console.log(JSON.stringify(r, null, 2));
