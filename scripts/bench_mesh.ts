/**
 * `deno task bench:mesh`: what the mesh costs compared with the wire under it.
 *
 * Two vmesh nodes in two network namespaces joined by one veth pair. Each run measures, over
 * the mesh (A's TUN address → B's) and directly over the veth (the baseline): iperf3 TCP
 * throughput with 1 and 4 streams, ping RTT (average and p99 of N pings 10 ms apart), and the
 * rate of small UDP packets received (iperf3 -u -b 0 -l 64). Prints the median of the runs,
 * each mesh figure's ratio to the baseline, each node's peak RSS (VmHWM) and the CPU each
 * node used during the 1-stream TCP test. Before any traffic it also measures each node's
 * idle RSS and idle CPU (over 5 s after the mesh converged).
 *
 * Usage: deno task bench:mesh [--runs N] [--quick] [--udp] [--seconds S] [--loss P] [--json]
 *   --runs N     runs to take the median of (default 3)
 *   --quick      one short run (3 s per test, 50 pings)
 *   --udp        send every packet that fits over the UDP data channel (peers[].udp = true;
 *                without it the default sends lone packets over UDP, batches over TLS)
 *   --seconds S  length of each iperf3 test (default 10)
 *   --loss P     drop P per mille of the packets each namespace sends on the underlay
 *                (nftables `numgen random mod 1000 < P drop`; this kernel has no netem),
 *                from after the idle measurement to the end; applies to the baseline too
 *   --json       print the figures as JSON as well
 * @module
 */
import { parseArgs } from "node:util";
import { CliPki } from "../tests/_harness/cli_pki.ts";
import { hasProgram, run, waitFor } from "../tests/_harness/command.ts";
import { iperfClient, type IperfReport, IperfServer } from "../tests/_harness/iperf.ts";
import { Mesh } from "../tests/_harness/mesh.ts";
import { cleanupStale, namespaceSupport, type Netns } from "../tests/_harness/netns.ts";
import { percentile, ping } from "../tests/_harness/ping.ts";
import { peakRssKiB } from "../tests/_harness/process.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "3" },
    quick: { type: "boolean", default: false },
    udp: { type: "boolean", default: false },
    seconds: { type: "string", default: "10" },
    loss: { type: "string", default: "0" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (args.help) {
  console.log(
    "usage: deno task bench:mesh [--runs N] [--quick] [--udp] [--seconds S] [--loss P] [--json]",
  );
  Deno.exit(0);
}
const runs = args.quick ? 1 : Number(args.runs);
const seconds = args.quick ? 3 : Number(args.seconds);
const pings = args.quick ? 50 : 200;
if (!Number.isInteger(runs) || runs < 1 || runs > 50) {
  console.error(`--runs ${args.runs}: use a whole number from 1 to 50`);
  Deno.exit(2);
}
if (!Number.isFinite(seconds) || seconds < 1 || seconds > 600) {
  console.error(`--seconds ${args.seconds}: use a number from 1 to 600`);
  Deno.exit(2);
}
const lossPermille = Number(args.loss);
if (!Number.isInteger(lossPermille) || lossPermille < 0 || lossPermille > 999) {
  console.error(`--loss ${args.loss}: use a whole number of per mille from 0 to 999`);
  Deno.exit(2);
}

/** One run's figures for one path. */
interface Figures {
  tcp1Gbps: number;
  tcp4Gbps: number;
  pingAvgMs: number;
  pingP99Ms: number;
  udp64Kpps: number;
}

const LABELS: Record<keyof Figures, [string, "higher" | "lower"]> = {
  tcp1Gbps: ["TCP, 1 stream (Gbit/s)", "higher"],
  tcp4Gbps: ["TCP, 4 streams (Gbit/s)", "higher"],
  pingAvgMs: [`ping RTT avg (ms)`, "lower"],
  pingP99Ms: [`ping RTT p99 (ms)`, "lower"],
  udp64Kpps: ["UDP 64 B received (kpps)", "higher"],
};

/** Runs one iperf3 test; on failure retries once (with a fresh server) and says so. */
async function iperfTest(
  from: Netns,
  to: Netns,
  addr: string,
  server: { current: IperfServer },
  logPath: string,
  testArgs: string[],
): Promise<IperfReport> {
  const opts = { timeoutMs: seconds * 1000 + 60_000 };
  // iperf3 refuses a new test while the previous one still has connections open (its tail
  // may still be queued in the nodes): wait until the server side is idle.
  await waitFor("the iperf3 server to be idle", async () => {
    const r = await to.exec([
      "ss",
      "-Htn",
      "state",
      "established",
      `sport = :${server.current.port}`,
    ]);
    return r.code === 0 && r.stdout.trim() === "";
  }, { timeoutMs: 30_000, intervalMs: 100 });
  try {
    return await iperfClient(from, addr, testArgs, opts);
  } catch (e) {
    if (interrupted) throw e;
    retries++;
    console.warn(`  iperf3 ${testArgs.join(" ")} to ${addr} failed, retrying once: ${e}`);
    await server.current.stop();
    server.current = await IperfServer.start(to, logPath);
    return await iperfClient(from, addr, testArgs, opts);
  }
}

/** CPU time (user + system, all threads) of `pid` in seconds, from /proc/<pid>/stat. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
}
const CLK_TCK = 100;

/** Current resident set (`VmRSS`) of `pid` in KiB, or `undefined` when it is gone. */
async function rssKiB(pid: number): Promise<number | undefined> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`).catch(() => "");
  const m = status.match(/^VmRSS:\s+(\d+)\s+kB/m);
  return m ? Number(m[1]) : undefined;
}

/** CPU used by each of `pids` over `ms` of wall time, as a fraction of one core. */
async function cpuOver(pids: number[], ms: number): Promise<number[]> {
  const c0 = await Promise.all(pids.map(cpuSeconds));
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const wall = (performance.now() - w0) / 1000;
  const c1 = await Promise.all(pids.map(cpuSeconds));
  return c1.map((c, i) => (c - c0[i]) / wall);
}

/**
 * Drops `permille` of the packets `ns` sends on `ifname` (both directions of the link are
 * covered when every namespace gets the rule for its own end).
 */
async function addUnderlayLoss(ns: Netns, ifname: string, permille: number): Promise<void> {
  const table = `vme_bench_loss`;
  await ns.execOk(["nft", "add", "table", "inet", table]);
  await ns.execOk([
    "nft",
    "add chain inet " + table + " out { type filter hook output priority 0 ; policy accept ; }",
  ]);
  await ns.execOk([
    "nft",
    "add",
    "rule",
    "inet",
    table,
    "out",
    "oifname",
    ifname,
    "numgen",
    "random",
    "mod",
    "1000",
    "<",
    String(permille),
    "drop",
  ]);
}

/** Node CPU use (fraction of one core) during the 1-stream TCP test over the mesh, per run. */
const cpuTcp1: number[][] = [];

async function measure(
  from: Netns,
  to: Netns,
  addr: string,
  label: string,
  nodePids: number[] = [],
): Promise<Figures> {
  const logPath = `${logDir}/iperf-${label}.log`;
  // Ping first, on an idle path: after a UDP flood the nodes may still be draining queues.
  const p = await ping(from, addr, { count: pings, intervalS: 0.01, waitS: 1 });
  if (p.replies.length < pings * 0.9) {
    throw new Error(`${label}: only ${p.replies.length} of ${pings} pings answered`);
  }
  const server = { current: await IperfServer.start(to, logPath) };
  try {
    const t = String(seconds);
    const run = (testArgs: string[]) => iperfTest(from, to, addr, server, logPath, testArgs);
    const cpu0 = await Promise.all(nodePids.map(cpuSeconds));
    const w0 = performance.now();
    const tcp1 = await run(["-t", t]);
    if (nodePids.length) {
      const wall = (performance.now() - w0) / 1000;
      const cpu1 = await Promise.all(nodePids.map(cpuSeconds));
      cpuTcp1.push(cpu1.map((c, i) => (c - cpu0[i]) / wall));
    }
    const tcp4 = await run(["-t", t, "-P", "4"]);
    // With --loss, a UDP flood straight onto the lossy veth fails (nftables' drop on output
    // makes sendto() return EPERM, which ends iperf3): no baseline small-packet figure then.
    const udp = lossPermille && nodePids.length === 0
      ? undefined
      : await run(["-u", "-b", "0", "-l", "64", "-t", t]);
    const rtts = p.replies.map((r) => r.rttMs);
    const ur = udp?.end.sum_received;
    return {
      tcp1Gbps: tcp1.end.sum_received!.bits_per_second / 1e9,
      tcp4Gbps: tcp4.end.sum_received!.bits_per_second / 1e9,
      pingAvgMs: rtts.reduce((s, x) => s + x, 0) / rtts.length,
      pingP99Ms: percentile(rtts, 99),
      udp64Kpps: ur ? ((ur.packets ?? 0) - (ur.lost_packets ?? 0)) / ur.seconds / 1e3 : NaN,
    };
  } finally {
    await server.current.stop();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function machine(): Promise<string> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const model = cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1] ?? "unknown CPU";
  const mem = (await Deno.readTextFile("/proc/meminfo").catch(() => "")).match(
    /^MemTotal:\s+(\d+)/m,
  );
  const kernel = (await run(["uname", "-r"])).stdout.trim();
  const iperf = (await run(["iperf3", "--version"])).stdout.split("\n")[0].trim();
  return `${model}, ${navigator.hardwareConcurrency} cores, ` +
    `${mem ? (Number(mem[1]) / 1048576).toFixed(0) : "?"} GiB RAM, Linux ${kernel}, ` +
    `Deno ${Deno.version.deno}, ${iperf}`;
}

const fmt = (x: number) =>
  Number.isNaN(x)
    ? "–"
    : x >= 100
    ? x.toFixed(0)
    : x >= 10
    ? x.toFixed(1)
    : x >= 0.1
    ? x.toFixed(2)
    : x.toFixed(3);

let mesh: Mesh | undefined;
let pkiDir: string | undefined;
let logDir = "";
let interrupted = false;
let retries = 0;
const onSignal = () => {
  interrupted = true;
  console.error("\ninterrupted: tearing down …");
  const done = mesh?.close() ?? Promise.resolve();
  done.finally(async () => {
    if (pkiDir) await Deno.remove(pkiDir, { recursive: true }).catch(() => undefined);
    Deno.exit(130);
  });
};
Deno.addSignalListener("SIGINT", onSignal);
Deno.addSignalListener("SIGTERM", onSignal);

async function main(): Promise<number> {
  const missing = await namespaceSupport();
  if (missing) {
    console.error(`bench:mesh cannot run: ${missing}`);
    return 2;
  }
  for (const p of ["iperf3", "ping", "ss"]) {
    if (!(await hasProgram(p))) {
      console.error(`bench:mesh needs \`${p}\`: apt-get install iperf3 iputils-ping iproute2`);
      return 2;
    }
  }
  await cleanupStale();
  pkiDir = await Deno.makeTempDir({ prefix: `vme-${Deno.pid}-bench-pki-` });
  const pki = await CliPki.create(pkiDir);
  mesh = await Mesh.create({
    nodes: ["a", "b"],
    links: [["a", "b"]],
    label: "bench",
    pki,
    udp: args.udp,
  });
  logDir = mesh.dir;
  const [a, b] = [mesh.node("a"), mesh.node("b")];
  await mesh.start();
  await mesh.waitConverged();
  const link = mesh.link("a", "b");
  console.log(
    `bench:mesh: ${runs} run(s), ${seconds} s per iperf3 test, ${pings} pings, ` +
      `data channel ${
        args.udp ? "UDP (udp: true)" : "default (lone packets over UDP, batches over TLS)"
      }` +
      (lossPermille ? `, ${lossPermille / 10} % underlay loss each way` : ""),
  );
  // Idle figures first, before any traffic has grown buffers or heaps.
  await new Promise((r) => setTimeout(r, 2000));
  const idleCpu = await cpuOver([a.pid, b.pid], 5000);
  const idleRss = await Promise.all([a, b].map((n) => rssKiB(n.pid)));
  if (lossPermille) {
    await addUnderlayLoss(a.ns, link.aIf, lossPermille);
    await addUnderlayLoss(b.ns, link.bIf, lossPermille);
  }
  const base: Figures[] = [];
  const over: Figures[] = [];
  for (let i = 1; i <= runs && !interrupted; i++) {
    console.log(`run ${i}/${runs}: veth baseline …`);
    base.push(await measure(a.ns, b.ns, link.bAddr, `veth-${i}`));
    console.log(`run ${i}/${runs}: mesh …`);
    over.push(await measure(a.ns, b.ns, b.address, `mesh-${i}`, [a.pid, b.pid]));
    for (const n of [a, b]) {
      if (!n.running) throw new Error(`node ${n.fqdn} died during the bench:\n${await n.log()}`);
    }
  }
  const rss = await Promise.all([a, b].map((n) => peakRssKiB(n.pid)));
  // Which channel really carried the data (the UDP channel falls back to TLS when unusable).
  const peer = (await a.status()).peers.find((p) => p.name === b.fqdn) as
    | { packetsOut?: number; udp?: { state: string; stats: { txPackets: number } | null } | null }
    | undefined;
  // Counters are per session: a session that went down and came back started from zero.
  const downLines = await Promise.all(
    [a, b].map(async (n) => (await n.log()).split("\n").filter((l) => l.includes("session down"))),
  );
  const [downA, downB] = downLines.map((l) => l.length);
  const stability = downA + downB === 0
    ? "The A–B session stayed up for the whole bench."
    : `Warning: the A–B session went down during the bench (${downA} time(s) in a's log, ` +
      `${downB} in b's); figures after a reconnect include the outage:\n  ` +
      downLines.flat().slice(0, 6).join("\n  ");
  const carried = `A→B packets since the session (re)started: ` +
    `${peer?.packetsOut ?? "?"} over TLS, ` +
    (peer?.udp
      ? `${peer.udp.stats?.txPackets ?? 0} over the UDP channel (state ${peer.udp.state})`
      : "no UDP channel");
  const desc = await machine();
  const rows: string[] = [
    "| metric | veth (baseline) | vmesh | vmesh / baseline |",
    "|---|---:|---:|---:|",
  ];
  const result: Record<string, unknown> = {
    machine: desc,
    runs,
    seconds,
    pings,
    udp: args.udp,
    lossPermille,
  };
  for (const key of Object.keys(LABELS) as (keyof Figures)[]) {
    const bm = median(base.map((f) => f[key]));
    const mm = median(over.map((f) => f[key]));
    const ratio = Number.isNaN(bm) ? "–" : (mm / bm).toFixed(2);
    rows.push(`| ${LABELS[key][0]} | ${fmt(bm)} | ${fmt(mm)} | ${ratio} |`);
    result[key] = { baseline: bm, mesh: mm, ratio: mm / bm, all: over.map((f) => f[key]) };
  }
  rows.push(
    `| peak RSS (VmHWM) of node a / b (MiB) | – | ${
      rss.map((k) => k === undefined ? "?" : (k / 1024).toFixed(0)).join(" / ")
    } | – |`,
  );
  rows.push(
    `| idle RSS (VmRSS) of node a / b (MiB) | – | ${
      idleRss.map((k) => k === undefined ? "?" : (k / 1024).toFixed(0)).join(" / ")
    } | – |`,
  );
  rows.push(
    `| idle CPU of node a / b (% of a core) | – | ${
      idleCpu.map((c) => (c * 100).toFixed(2)).join(" / ")
    } | – |`,
  );
  result.idleRssKiB = { a: idleRss[0], b: idleRss[1] };
  result.idleCpu = { a: idleCpu[0], b: idleCpu[1] };
  const cpu = [0, 1].map((i) => median(cpuTcp1.map((r) => r[i])));
  rows.push(
    `| node CPU during TCP 1 stream, a / b (cores) | – | ${
      cpu.map((c) => c.toFixed(2)).join(" / ")
    } | – |`,
  );
  result.cpuTcp1 = { a: cpu[0], b: cpu[1] };
  result.peakRssKiB = { a: rss[0], b: rss[1] };
  result.carried = carried;
  result.sessionDown = { a: downA, b: downB };
  result.retries = retries;
  console.log(`\nMachine: ${desc}`);
  console.log(
    `Median of ${runs} run(s); data channel: ${args.udp ? "UDP (udp: true)" : "default (auto)"}` +
      (lossPermille ? `; ${lossPermille / 10} % of underlay packets dropped each way` : "") +
      ".\n",
  );
  console.log(rows.join("\n"));
  console.log(`\n${carried}\n${stability}`);
  if (retries) console.log(`${retries} iperf3 test(s) failed once and were retried.`);
  if (args.json) console.log(JSON.stringify(result, null, 2));
  return 0;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  if (!interrupted) {
    console.error(`bench:mesh failed: ${e instanceof Error ? e.message : e}`);
    if (mesh) console.error(await mesh.logs());
  }
} finally {
  await mesh?.close().catch((e) => console.error(`teardown: ${e}`));
  if (pkiDir) await Deno.remove(pkiDir, { recursive: true }).catch(() => undefined);
}
Deno.exit(code);
