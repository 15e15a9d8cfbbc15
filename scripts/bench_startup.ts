/**
 * `deno task bench:startup`: what starting a node costs, on a chain A–B–C of real nodes in
 * network namespaces (root).
 *
 * Each round starts the three nodes together and reports, per node, the CPU time (user +
 * system, all threads, from /proc/<pid>/stat) it had used when its control socket first
 * answered, and the wall time from the start until the first echo reply from C to A
 * (ping -W 0.2 in a loop, as tests/e2e_chain_test.ts measures it), and the CPU each node had
 * used by then. With `--repo dir1,dir2` the rounds alternate between checkouts (before/after
 * comparisons in one run, interleaved, so both see the same load).
 *
 * Usage: deno task bench:startup [--rounds N] [--repo dir[,dir…]] [--json]
 *   --rounds  rounds per checkout (default 10)
 *   --repo    checkouts whose main.ts and deno.json the nodes run (default this one); `dir:file`
 *             runs `file` in `dir` instead of main.ts (e.g. a bundle)
 *   --json    print the figures as JSON as well
 * CPU figures hold on a busy machine; wall times do not (say the load with them).
 * @module
 */
import { parseArgs } from "node:util";
import { waitFor } from "../tests/_harness/command.ts";
import { withMesh } from "../tests/_harness/mesh.ts";
import { cpuSeconds } from "../tests/_harness/mesh_watch.ts";
import { namespaceSupport } from "../tests/_harness/netns.ts";
import { ping } from "../tests/_harness/ping.ts";
import { REPO_ROOT, setNodeRoot } from "../tests/_harness/vmesh_cli.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "10" },
    repo: { type: "string", default: REPO_ROOT },
    json: { type: "boolean", default: false },
  },
});
const rounds = Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 1000) {
  throw new TypeError(`--rounds must be an integer 1..1000, not ${args.rounds}`);
}
// dir or dir:entry (a bundle in dir, run with dir/deno.json)
const repos = args.repo.split(",").filter((r) => r !== "");
const rootOf = (r: string) => r.split(":")[0];
const entryOf = (r: string) => r.split(":")[1];
for (const r of repos) await Deno.stat(`${rootOf(r)}/${entryOf(r) ?? "main.ts"}`);
const unsupported = await namespaceSupport();
if (unsupported) {
  console.error(`bench:startup needs root and network namespaces: ${unsupported}`);
  Deno.exit(1);
}

/** One round's figures. */
interface Round {
  repo: string;
  /** Per node (A, B, C): CPU ms when its control socket first answered. */
  readyCpuMs: number[];
  /** Per node: ms from the start until its control socket answered. */
  readyMs: number[];
  /** Start → first echo reply C→A, ms. */
  firstReplyMs: number;
  /** Per node: CPU ms when the first reply came. */
  replyCpuMs: number[];
}

const results: Round[] = [];
const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

await withMesh(
  { nodes: ["a", "b", "c"], links: [["a", "b"], ["b", "c"]], label: "sup" },
  async (mesh) => {
    const nodes = ["a", "b", "c"].map((n) => mesh.node(n));
    const [a, , c] = nodes;
    for (let i = 0; i < rounds; i++) {
      for (const repo of repos) {
        setNodeRoot(rootOf(repo), entryOf(repo));
        const t0 = performance.now();
        await mesh.start(undefined, { waitReady: false });
        const ready = Promise.all(nodes.map(async (n) => {
          await n.waitReady();
          return { ms: performance.now() - t0, cpuMs: (await cpuSeconds(n.pid)) * 1000 };
        }));
        await waitFor("the first echo reply from C to A", async () => {
          return (await ping(a.ns, c.address, { count: 1, waitS: 0.2 })).received === 1;
        }, { timeoutMs: 60_000, intervalMs: 0 });
        const firstReplyMs = performance.now() - t0;
        const replyCpuMs = await Promise.all(
          nodes.map(async (n) => (await cpuSeconds(n.pid)) * 1000),
        );
        const r = await ready;
        for (const n of nodes) await n.stop();
        const round: Round = {
          repo,
          readyCpuMs: r.map((x) => x.cpuMs),
          readyMs: r.map((x) => x.ms),
          firstReplyMs,
          replyCpuMs,
        };
        results.push(round);
        console.log(
          `${repo}: ready CPU ${round.readyCpuMs.map((x) => x.toFixed(0)).join("/")} ms, ready ` +
            `${round.readyMs.map((x) => x.toFixed(0)).join("/")} ms, first reply ` +
            `${firstReplyMs.toFixed(0)} ms, CPU then ${
              replyCpuMs.map((x) => x.toFixed(0)).join("/")
            } ms`,
        );
      }
    }
  },
);

const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
console.log(`\nload average at the end: ${load}; medians over ${rounds} rounds per checkout`);
console.log(
  "| checkout | CPU until control socket answers, per node | control sockets answer | start → first reply C→A | CPU per node until then |",
);
console.log("| --- | --- | --- | --- | --- |");
for (const repo of repos) {
  const rs = results.filter((r) => r.repo === repo);
  const all = (f: (r: Round) => number[]) => median(rs.flatMap(f));
  console.log(
    `| ${repo} | ${all((r) => r.readyCpuMs).toFixed(0)} ms | ` +
      `${median(rs.map((r) => Math.max(...r.readyMs))).toFixed(0)} ms | ` +
      `${median(rs.map((r) => r.firstReplyMs)).toFixed(0)} ms | ` +
      `${all((r) => r.replyCpuMs).toFixed(0)} ms |`,
  );
}
if (args.json) console.log(JSON.stringify({ load, results }));
