/**
 * `deno task bench:scale`: what N real vmesh nodes cost, in network namespaces (root).
 *
 * Starts N nodes (tests/_harness/mesh.ts) on a ring with chords or a random graph and reports:
 * time from starting the processes to every node having every other node's prefix; idle CPU
 * per node (median and max over `--idle` seconds after convergence, from /proc/<pid>/stat) and
 * how often each node woke (context switches of all its threads per second);
 * RSS per node (VmRSS); control-plane bytes sent per node per second while idle (session
 * counters of `status`); the time until a `kill -9`'d node's prefix is gone from every other
 * node; and the time until it is back everywhere after the node is restarted.
 *
 * `--topology hub` measures one real node with N − 1 peers instead (tests/_harness/hub_run.ts):
 * the hub's idle CPU and RSS alone and with every session (so per session), and after a
 * restart of the hub the time until every peer's session and every route is back, the slowest
 * peer's wait and the hub's handshake failures. The peers are lightweight (hub_peers.ts: the
 * real session and routing code, 25 peers per process, no TUN/DC/UDP).
 *
 * Usage: deno task bench:scale [--nodes N] [--topology ring-chords|random|hub] [--degree D]
 *                              [--idle S] [--seed S] [--kill] [--json]
 *   --nodes     how many nodes (default 24; with hub: the hub and N − 1 peers)
 *   --topology  ring-chords (default: ring plus chords, D neighbours each), random or hub
 *   --kill      hub: restart the hub with kill -9 instead of SIGTERM
 *   --degree    neighbours per node (default 4; even for ring-chords)
 *   --idle      seconds of idle measurement (default 10)
 *   --seed      seed of the random topology (default 1)
 *   --json      print the figures as JSON as well
 * Run it on a quiet machine: the figures are timings.
 * @module
 */
import { parseArgs } from "node:util";
import { namespaceSupport } from "../tests/_harness/netns.ts";
import { type HubResult, runHub } from "../tests/_harness/hub_run.ts";
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
    kill: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
const usage = "usage: deno task bench:scale [--nodes N] [--topology ring-chords|random|hub] " +
  "[--degree D] [--idle S] [--seed S] [--kill] [--json]";
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
const hubMode = args.topology === "hub";
const maxNodes = hubMode ? 1001 : 200;
if (!Number.isInteger(nodes) || nodes < 3 || nodes > maxNodes) {
  fail(`--nodes ${args.nodes}: 3 to ${maxNodes}`);
}
if (args.topology !== "ring-chords" && args.topology !== "random" && !hubMode) {
  fail(`--topology ${args.topology}: use ring-chords, random or hub`);
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

const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
const cores = cpuinfo.split("\n").filter((l) => l.startsWith("processor")).length;
if (hubMode) {
  const h = await runHub({
    peers: nodes - 1,
    idleSeconds: idle,
    stopSignal: args.kill ? "SIGKILL" : "SIGTERM",
    log: (line) => console.error(`  ${line}`),
  });
  printHub(h, cores);
  if (args.json) console.log(JSON.stringify(h, null, 2));
  Deno.exit(0);
}

const r = await runMeshScale({
  nodes,
  topology: args.topology as TopologyKind,
  degree,
  seed,
  idleSeconds: idle,
  log: (line) => console.error(`  ${line}`),
});
const mm = (x: { median: number; max: number } | undefined, digits: number, unit: string) =>
  x === undefined ? "–" : `${x.median.toFixed(digits)} / ${x.max.toFixed(digits)} ${unit}`;
console.log(
  `${r.nodes} nodes, ${r.links} links (${r.topology}), ${cores} cores, Deno ${Deno.version.deno}`,
);
console.log("| measurement | result |");
console.log("| --- | --- |");
console.log(`| start → every node has every prefix | ${(r.convergedMs / 1000).toFixed(2)} s |`);
console.log(
  `| start → the last node's control socket answers | ${(r.lastReadyMs / 1000).toFixed(2)} s |`,
);
console.log(
  `| CPU per node until its control socket answers, median / max | ${mm(r.startCpuMs, 0, "ms")} |`,
);
console.log(`| idle CPU per node, median / max | ${mm(r.idleCpuPct, 2, "% of a core")} |`);
console.log(
  `| idle wakeups per node (all threads), median / max | ${mm(r.idleWakeupsPerSecond, 1, "/s")} |`,
);
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

function printHub(h: HubResult, cores: number): void {
  const f = (x: number | undefined, d: number) => x === undefined ? "–" : x.toFixed(d);
  console.log(
    `hub with ${h.peers} peers (${h.workers} peer processes), ${cores} cores, ` +
      `Deno ${Deno.version.deno}`,
  );
  console.log("| measurement | result |");
  console.log("| --- | --- |");
  console.log(`| peers ready → every session up, every route everywhere | ${h.initialMs} ms |`);
  console.log(
    `| hub idle CPU alone / with ${h.peers} peers / per session | ${f(h.alone?.cpuPct, 2)} / ` +
      `${f(h.loaded?.cpuPct, 2)} / ${f(h.perSession?.cpuPct, 3)} % of a core |`,
  );
  console.log(
    `| hub RSS alone / with ${h.peers} peers / per session | ${f(h.alone?.rssMiB, 0)} / ` +
      `${f(h.loaded?.rssMiB, 0)} MiB / ${f(h.perSession?.rssKiB, 0)} KiB |`,
  );
  console.log(`| hub restart (${h.stopSignal}) → control socket answers | ${h.hubReadyMs} ms |`);
  console.log(`| hub restart → every session back | ${h.sessionsBackMs} ms |`);
  console.log(
    `| hub's control socket answers → every session back | ${h.sessionsBackMs - h.hubReadyMs} ms |`,
  );
  console.log(`| hub restart → every peer has every route | ${h.routesBackMs} ms |`);
  console.log(
    `| hub restart → a peer's session up, median / max | ${h.perPeerUpMs.median} / ` +
      `${h.perPeerUpMs.max} ms |`,
  );
  console.log(`| sessions per second while reconnecting | ${h.handshakesPerSecond.toFixed(0)} |`);
  console.log(
    `| hub handshake failures after the restart | ${JSON.stringify(h.hubFailures)} |`,
  );
  console.log(`| peers' failed dials (whole run) | ${JSON.stringify(h.peerFailures)} |`);
  console.log(
    `| peer processes' event-loop stalls > 0.5 s: count, longest | ${h.peerStalls.count}, ` +
      `${h.peerStalls.maxMs} ms |`,
  );
  console.log(`| hub RSS after the restart | ${f(h.rssAfterMiB, 0)} MiB |`);
}
