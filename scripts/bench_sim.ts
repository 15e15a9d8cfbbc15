/**
 * `deno task bench:sim`: how routing convergence grows with the mesh, in simulation.
 *
 * Real `Router`s (src/routing) on a seeded random geometric graph (degree 3–8, RTT 1–150 ms
 * from distance), sans-IO with a simulated clock (tests/_harness/sim_scale.ts). Per size: cold
 * start, five link failures and three node failures (the highest-degree node first), each
 * repaired before the next, with transient forwarding loops watched for a sample of prefixes.
 * Prints one table row per size and checks the goals at the largest size.
 *
 * Usage: deno task bench:sim [--nodes N[,N...]] [--seed S] [--links K] [--fail-nodes K] [--wire]
 *                            [--json]
 *   --nodes       sizes to run (default 50,200,1000)
 *   --seed        graph and event seed (default 1)
 *   --links K     link failures per size (default 5)
 *   --fail-nodes K  node failures per size (default 3)
 *   --wire        run every payload through the wire codec (same figures, about twice the CPU)
 *   --json        print the full results as JSON instead of the table
 * @module
 */
import { parseArgs } from "node:util";
import { type EventResult, runScale, type ScaleResult } from "../tests/_harness/sim_scale.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    nodes: { type: "string", default: "50,200,1000" },
    seed: { type: "string", default: "1" },
    links: { type: "string", default: "5" },
    "fail-nodes": { type: "string", default: "3" },
    wire: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (args.help) {
  console.log(
    "usage: deno task bench:sim [--nodes N[,N...]] [--seed S] [--links K] [--fail-nodes K] " +
      "[--wire] [--json]",
  );
  Deno.exit(0);
}
const sizes = args.nodes.split(",").map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 4 || n > 5000)) {
  console.error(`--nodes ${args.nodes}: use whole numbers from 4 to 5000, comma-separated`);
  Deno.exit(2);
}
const seed = Number(args.seed);
if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
  console.error(`--seed ${args.seed}: use a whole number from 0 to 4294967295`);
  Deno.exit(2);
}

const linkFailures = Number(args.links), nodeFailures = Number(args["fail-nodes"]);
for (const [flag, v] of [["--links", linkFailures], ["--fail-nodes", nodeFailures]] as const) {
  if (!Number.isInteger(v) || v < 1 || v > 100) {
    console.error(`${flag} ${v}: use a whole number from 1 to 100`);
    Deno.exit(2);
  }
}

/** Goals at the largest size (issue 16). */
const GOAL_FAILURE_MS = 1000;
const GOAL_MESSAGES_PER_LINK = 5;

const results: ScaleResult[] = [];
for (const n of sizes) {
  if (!args.json) console.error(`simulating ${n} nodes (seed ${seed}) ...`);
  results.push(runScale({ nodes: n, seed, linkFailures, nodeFailures, wire: args.wire }));
}

if (args.json) {
  console.log(JSON.stringify(results, null, 2));
} else {
  printTable(results);
}
const last = results[results.length - 1];
const failures = [...last.linkFailures, ...last.nodeFailures];
const worstMs = Math.max(...failures.map((e) => e.stats.convergenceMs));
const worstMsgs = Math.max(...failures.map((e) => e.messagesPerLink));
const all = [last.cold, ...failures, ...last.linkRepairs, ...last.nodeRepairs];
const open = all.reduce((s, e) => s + e.loops.open, 0);
const problems = all.flatMap((e) => e.problems);
const verdict = [
  `failure re-convergence ${fmtMs(worstMs)} (goal ≤ ${GOAL_FAILURE_MS} ms)`,
  `${worstMsgs.toFixed(2)} messages per link per event (goal ≤ ${GOAL_MESSAGES_PER_LINK})`,
  `${open} loops open after convergence, ${problems.length} path problems`,
];
const ok = worstMs <= GOAL_FAILURE_MS && worstMsgs <= GOAL_MESSAGES_PER_LINK && open === 0 &&
  problems.length === 0;
console.error(`${ok ? "goals met" : "GOALS MISSED"} at ${last.nodes} nodes: ${verdict.join("; ")}`);
for (const p of problems.slice(0, 8)) console.error(`  ${p}`);
if (!ok) Deno.exit(1);

function printTable(rs: ScaleResult[]): void {
  const rows = [[
    "nodes",
    "links",
    "RTT med/max",
    "cold start",
    "msg/link",
    "link fail (max)",
    "msg/link (max)",
    "node fail (max)",
    "msg/link (max)",
    "repairs (max)",
    "loops >0 ms (longest)",
    "RIB/node",
    "wall",
  ]];
  for (const r of rs) {
    const fails = [...r.linkFailures, ...r.nodeFailures];
    const repairs = [...r.linkRepairs, ...r.nodeRepairs];
    const all = [r.cold, ...fails, ...repairs];
    const lasting = all.reduce((s, e) => s + e.loops.lasting, 0);
    const longest = Math.max(...all.map((e) => e.loops.maxDurationMs));
    rows.push([
      String(r.nodes),
      String(r.links),
      `${r.latencyMs.median}/${r.latencyMs.max} ms`,
      fmtMs(r.cold.stats.convergenceMs),
      r.cold.messagesPerLink.toFixed(1),
      fmtMs(maxOf(r.linkFailures, (e) => e.stats.convergenceMs)),
      maxOf(r.linkFailures, (e) => e.messagesPerLink).toFixed(2),
      fmtMs(maxOf(r.nodeFailures, (e) => e.stats.convergenceMs)),
      maxOf(r.nodeFailures, (e) => e.messagesPerLink).toFixed(2),
      fmtMs(maxOf(repairs, (e) => e.stats.convergenceMs)),
      `${lasting} (${fmtMs(longest)})`,
      r.heapPerNode === undefined
        ? `${r.candidatesPerNode.toFixed(0)} routes`
        : `${(r.heapPerNode / 1024).toFixed(0)} KiB, ${r.candidatesPerNode.toFixed(0)} routes`,
      `${(r.wallMs / 1000).toFixed(1)} s`,
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((x, c) => x.padEnd(widths[c])).join("  "));
  console.log("");
  for (const r of rs) {
    console.log(`${r.nodes} nodes, events:`);
    for (
      const e of [r.cold, ...r.linkFailures, ...r.linkRepairs, ...r.nodeFailures, ...r.nodeRepairs]
    ) {
      console.log(`  ${describe(e)}`);
    }
  }
}

function describe(e: EventResult): string {
  return `${e.event}: ${fmtMs(e.stats.convergenceMs)}, ${e.stats.messages} messages ` +
    `(${e.messagesPerLink.toFixed(2)}/link, max ${e.stats.maxLinkMessages} on one link), ` +
    `${e.stats.entries} entries, loops ${e.loops.formed} formed / ${e.loops.lasting} > 0 ms ` +
    `(longest ${fmtMs(e.loops.maxDurationMs)}, open ${e.loops.open})`;
}

function maxOf<T>(xs: T[], f: (x: T) => number): number {
  return Math.max(...xs.map(f));
}

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}
