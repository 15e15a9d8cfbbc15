/**
 * `deno task bench:idle`: what an idle node costs, counted rather than timed, in network
 * namespaces (root).
 *
 * Starts N nodes (default 5) on a full mesh (each node has N − 1 peers; `--degree D` for a ring
 * with chords instead), waits for convergence and a settling time, then measures each node over
 * `--idle` seconds (default 60): CPU time from /proc/<pid>/stat (ms per minute), context switches
 * of all its threads from /proc/<pid>/task/<tid>/status (wakeups per second, also by thread
 * name), session bytes sent per second, and at the end its memory (VmRSS and /proc/<pid>/
 * smaps_rollup: anonymous vs file-backed). Counts like wakeups do not depend on how busy the
 * machine is, unlike CPU percentages: compare two builds with the same command in the same
 * window (run one copy of the repository beside the other).
 *
 * Usage: deno task bench:idle [--nodes N] [--degree D] [--idle S] [--settle S] [--udp M] [--json]
 *   --udp   `peers[].udp` of every link: auto (default, as a config that does not mention it) or
 *           off (TLS only: no UDP channel and no UDP keepalives)
 * @module
 */
import { parseArgs } from "node:util";
import { delay } from "../tests/_harness/command.ts";
import { type LinkSpec, withMesh } from "../tests/_harness/mesh.ts";
import {
  contextSwitches,
  cpuSeconds,
  medianMax,
  sessionBytesOut,
} from "../tests/_harness/mesh_watch.ts";
import { namespaceSupport } from "../tests/_harness/netns.ts";
import { topology } from "../tests/_harness/topology.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    nodes: { type: "string", default: "5" },
    degree: { type: "string" },
    idle: { type: "string", default: "60" },
    settle: { type: "string", default: "5" },
    udp: { type: "string", default: "auto" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
const usage =
  "usage: deno task bench:idle [--nodes N] [--degree D] [--idle S] [--settle S] [--json]";
if (args.help) {
  console.log(usage);
  Deno.exit(0);
}
const n = Number(args.nodes), idle = Number(args.idle), settle = Number(args.settle);
const degree = args.degree === undefined ? n - 1 : Number(args.degree);
const fail = (msg: string) => {
  console.error(`${msg}\n${usage}`);
  Deno.exit(2);
};
if (!Number.isInteger(n) || n < 2 || n > 64) fail(`--nodes ${args.nodes}: 2 to 64`);
if (!Number.isInteger(degree) || degree < 1 || degree >= n) fail(`--degree: 1 to ${n - 1}`);
if (degree !== n - 1 && degree % 2 !== 0) {
  fail(`--degree ${degree}: a ring with chords needs an even degree`);
}
if (!Number.isFinite(idle) || idle < 1 || idle > 3600) fail(`--idle ${args.idle}: 1 to 3600 s`);
if (args.udp !== "auto" && args.udp !== "off") fail(`--udp ${args.udp}: auto or off`);
if (!Number.isFinite(settle) || settle < 0 || settle > 600) {
  fail(`--settle ${args.settle}: 0 to 600 s`);
}
const why = await namespaceSupport();
if (why !== undefined) {
  console.error(`bench:idle needs network namespaces: ${why}`);
  Deno.exit(1);
}

/** Fields of /proc/<pid>/smaps_rollup and VmRSS, KiB. */
async function memory(pid: number): Promise<Record<string, number>> {
  const roll = await Deno.readTextFile(`/proc/${pid}/smaps_rollup`);
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kib = (text: string, key: string) =>
    Number(text.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"))?.[1] ?? NaN);
  return {
    rss: kib(status, "VmRSS"),
    hwm: kib(status, "VmHWM"),
    anon: kib(roll, "Anonymous"),
    file: kib(status, "RssFile"),
  };
}

const names = Array.from({ length: n }, (_, i) => `i${i + 1}`);
const pairs = degree === n - 1
  ? names.flatMap((a, i) => names.slice(i + 1).map((b) => [a, b] as [string, string]))
  : topology("ring-chords", n, degree, 1).map(([a, b]) => [names[a], names[b]] as [string, string]);
// The harness writes `udp` into peers[] as given; "off" is a config value it has no flag for.
const links = pairs.map(([a, b]) => ({ a, b, udp: args.udp === "off" ? "off" : false }));
const result = await withMesh({
  nodes: names,
  links: links as unknown as LinkSpec[],
  label: "idl",
}, async (mesh) => {
  await mesh.start();
  await mesh.waitConverged(undefined, 120_000);
  await delay(settle * 1000);
  const nodes = [...mesh.nodes.values()];
  const pids = nodes.map((x) => x.pid);
  const c0 = await Promise.all(pids.map(cpuSeconds));
  const s0 = await Promise.all(pids.map(contextSwitches));
  const b0 = await Promise.all(nodes.map(sessionBytesOut));
  const t0 = performance.now();
  await delay(idle * 1000);
  const c1 = await Promise.all(pids.map(cpuSeconds));
  const s1 = await Promise.all(pids.map(contextSwitches));
  const b1 = await Promise.all(nodes.map(sessionBytesOut));
  const secs = (performance.now() - t0) / 1000;
  const mem = await Promise.all(pids.map(memory));
  const byThread = new Map<string, number[]>();
  const wakeups = s1.map((m, i) => {
    let sum = 0;
    for (const [k, v] of m) {
      const d = v - (s0[i].get(k) ?? 0);
      sum += d;
      byThread.set(k, [...byThread.get(k) ?? [], d / secs]);
    }
    return sum / secs;
  });
  return {
    nodes: n,
    peersPerNode: degree,
    udp: args.udp,
    seconds: Math.round(secs),
    cpuMsPerMinute: medianMax(c1.map((c, i) => (c - c0[i]) * 1000 / secs * 60)),
    wakeupsPerSecond: medianMax(wakeups),
    wakeupsPerSecondByThread: Object.fromEntries(
      [...byThread].map(([k, v]) => [k, medianMax(v).median]),
    ),
    bytesPerSecond: medianMax(b1.map((b, i) => (b - b0[i]) / secs)),
    memoryKiB: Object.fromEntries(
      Object.keys(mem[0]).map((k) => [k, medianMax(mem.map((m) => m[k])).median]),
    ),
  };
});

const r = result;
const f = (x: { median: number; max: number }, d = 1) =>
  `${x.median.toFixed(d)} / ${x.max.toFixed(d)}`;
console.log(
  `${r.nodes} nodes, ${r.peersPerNode} peers each, UDP ${r.udp}, ${r.seconds} s idle (median / max)`,
);
console.log(
  `  CPU ms per minute   ${f(r.cpuMsPerMinute, 0)}  (${
    (r.cpuMsPerMinute.median / 600).toFixed(2)
  } % of a core)`,
);
console.log(`  wakeups per second  ${f(r.wakeupsPerSecond)}`);
for (const [k, v] of Object.entries(r.wakeupsPerSecondByThread)) {
  if (v >= 0.05) console.log(`    ${k.padEnd(18)} ${v.toFixed(1)}`);
}
console.log(`  bytes sent per s    ${f(r.bytesPerSecond, 0)}`);
const mk = r.memoryKiB;
console.log(
  `  memory MiB          RSS ${(mk.rss / 1024).toFixed(1)}, peak ${(mk.hwm / 1024).toFixed(1)}, ` +
    `anonymous ${(mk.anon / 1024).toFixed(1)}, file ${(mk.file / 1024).toFixed(1)}`,
);
if (args.json) console.log(JSON.stringify(r));
