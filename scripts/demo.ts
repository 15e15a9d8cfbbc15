/**
 * `deno task demo`: a three-node vmesh in network namespaces on this machine.
 *
 * Makes a throwaway PKI with `vmesh cert`, starts nodes a, b and c (each in its own network
 * namespace, joined in a triangle of veth pairs), shows each node's peers and routes, pings
 * across the mesh, prints commands to try, and waits for Ctrl-C. Everything (processes,
 * namespaces, files) is removed on Ctrl-C, SIGTERM or any error.
 *
 * Usage: deno task demo [--once] [--udp]
 *   --once  tear down right after the show (for CI); exit status 1 if a pair got no reply
 *   --udp   use the UDP data channel between the nodes
 * @module
 */
import { parseArgs } from "node:util";
import { CliPki } from "../tests/_harness/cli_pki.ts";
import { hasProgram, shellQuote } from "../tests/_harness/command.ts";
import { Mesh, type MeshNode } from "../tests/_harness/mesh.ts";
import { cleanupStale, namespaceSupport } from "../tests/_harness/netns.ts";
import { ping } from "../tests/_harness/ping.ts";
import { REPO_ROOT, vmesh } from "../tests/_harness/vmesh_cli.ts";

const { values: opts } = parseArgs({
  args: Deno.args,
  options: {
    once: { type: "boolean", default: false },
    udp: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (opts.help) {
  console.log("usage: deno task demo [--once] [--udp]");
  Deno.exit(0);
}

const bold = (s: string) => Deno.stdout.isTerminal() ? `\x1b[1m${s}\x1b[0m` : s;

/** What is missing on this machine, with the fix. */
async function preflight(): Promise<string[]> {
  const problems: string[] = [];
  const ns = await namespaceSupport();
  if (ns) {
    if (ns.startsWith("needs root")) {
      problems.push(`the demo ${ns}: run it as root, e.g. \`sudo -E deno task demo\``);
    } else if (ns.includes("`ip`")) {
      problems.push(`${ns}: apt-get install iproute2`);
    } else problems.push(ns);
  }
  if (!(await hasProgram("ping"))) {
    problems.push("the `ping` command is not installed: apt-get install iputils-ping");
  }
  return problems;
}

let mesh: Mesh | undefined;
let pkiDir: string | undefined;
let tearingDown: Promise<void> | undefined;

function teardown(): Promise<void> {
  tearingDown ??= (async () => {
    if (mesh) {
      console.log("\nstopping the nodes and removing the namespaces…");
      await mesh.close().catch((e) => console.error(`teardown: ${e.message ?? e}`));
    }
    if (pkiDir) await Deno.remove(pkiDir, { recursive: true }).catch(() => undefined);
  })();
  return tearingDown;
}

let stop!: (signal: string) => void;
const stopped = new Promise<string>((resolve) => stop = resolve);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  Deno.addSignalListener(sig, () => stop(sig));
}
/** Rejects as soon as a stop signal arrives, so setup steps are abandoned. */
function interruptible<T>(p: Promise<T>): Promise<T> {
  return Promise.race([p, stopped.then((s) => Promise.reject(new Interrupted(s)))]);
}
class Interrupted extends Error {
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}`);
  }
}

async function show(node: MeshNode, what: "status" | "routes"): Promise<string> {
  try {
    return await vmesh([what, "--control", node.controlSocket]);
  } catch (e) {
    return `(vmesh ${what} failed: ${e instanceof Error ? e.message : e})\n`;
  }
}

async function main(): Promise<number> {
  const problems = await preflight();
  if (problems.length) {
    console.error("The demo cannot run on this machine:");
    for (const p of problems) console.error(`  - ${p}`);
    return 2;
  }
  await cleanupStale();
  console.log(bold("vmesh demo: three nodes in network namespaces"));
  console.log("making a throwaway PKI with `vmesh cert` …");
  pkiDir = await Deno.makeTempDir({ prefix: `vme-${Deno.pid}-demo-pki-` });
  const pki = await interruptible(CliPki.create(pkiDir, "vnet.test"));
  console.log("creating namespaces, veth links and node configs …");
  mesh = await interruptible(Mesh.create({
    nodes: ["a", "b", "c"],
    links: [["a", "b"], ["b", "c"], ["a", "c"]],
    label: "demo",
    pki,
    udp: opts.udp,
  }));
  const nodes = ["a", "b", "c"].map((n) => mesh!.node(n));
  for (const l of mesh.links) {
    console.log(`  link ${l.a.name}:${l.aIf} ${l.aAddr}  <->  ${l.b.name}:${l.bIf} ${l.bAddr}`);
  }
  console.log("starting the nodes …");
  const t0 = performance.now();
  await interruptible(mesh.start());
  await interruptible(mesh.waitConverged());
  console.log(`all routes in place ${(performance.now() - t0).toFixed(0)} ms after start\n`);

  for (const n of nodes) {
    console.log(bold(`== ${n.fqdn}  (namespace ${n.ns.name}, owns ${n.prefix}) ==`));
    const [st, rt] = await interruptible(Promise.all([show(n, "status"), show(n, "routes")]));
    console.log(st.trimEnd());
    console.log(rt.trimEnd());
    console.log();
  }

  let failures = 0;
  console.log(bold("pings across the mesh"));
  for (const from of nodes) {
    for (const to of nodes) {
      if (from === to) continue;
      let r = await interruptible(ping(from.ns, to.address, { count: 3, intervalS: 0.05 }));
      // The demo shows reachability; a single loss while routes settle right after start-up is
      // shown but does not fail it (tests/e2e_*_test.ts check loss strictly). Routes may still
      // move just after "converged" (the first RTT samples, and uRPF feasibility of asymmetric
      // routes follows within 300 ms), so a pair with no reply at all gets one more try, 1 s
      // later, and the first result is shown too.
      let note = "";
      if (!r.received) {
        await interruptible(new Promise((res) => setTimeout(res, 1000)));
        r = await interruptible(ping(from.ns, to.address, { count: 3, intervalS: 0.05 }));
        note = " (second try, 1 s after none of 3)";
      }
      const rtt = r.replies.length
        ? `rtt ${(r.replies.reduce((s, x) => s + x.rttMs, 0) / r.replies.length).toFixed(2)} ms`
        : "";
      if (!r.received) failures++;
      console.log(
        `  ${from.name} -> ${to.name} (${to.address}): ${r.received ?? 0}/3 replies ${rtt}${note}`,
      );
    }
  }
  console.log();
  if (failures) console.log(`${failures} of 6 pairs got no reply: see the node logs below.`);

  const [a, b, c] = nodes;
  const cli = (...args: string[]) =>
    shellQuote(["deno", "run", "-A", `${REPO_ROOT}/main.ts`, ...args]);
  console.log(bold("Try these in another shell while the demo runs:"));
  console.log(`  ${shellQuote(a.ns.command(["ping", "-6", "-c", "3", c.address]))}`);
  console.log(`  ${cli("status", "--control", a.controlSocket)}`);
  console.log(`  ${cli("routes", "--control", a.controlSocket)}`);
  console.log(`  ${cli("dc", "current", "--control", a.controlSocket)}`);
  // Suggest cutting the link a's route to c uses now, so the route visibly moves.
  const route = await a.route(c.prefix).catch(() => undefined);
  const viaB = route !== undefined && await a.routeVia(route, b).catch(() => false);
  const cut = viaB ? "to-b" : "to-c";
  console.log(
    `  # a reaches c ${viaB ? "through b" : "directly"} now; cut that link and watch a's ` +
      `route to c move (liveness notices in a few seconds), then set it up again:`,
  );
  console.log(`  ${shellQuote(["ip", "-n", a.ns.name, "link", "set", cut, "down"])}`);
  console.log(`  ${shellQuote(["ip", "-n", a.ns.name, "link", "set", cut, "up"])}`);
  if (await hasProgram("iperf3")) {
    console.log("  # TCP throughput across the mesh:");
    console.log(`  ${shellQuote(c.ns.command(["iperf3", "-s", "-1", "-D"]))}`);
    console.log(`  ${shellQuote(a.ns.command(["iperf3", "-c", c.address, "-t", "5"]))}`);
  }
  console.log(`  # a shell inside node b's namespace:  ${shellQuote(b.ns.command(["bash"]))}`);
  console.log(`  # configs and logs: ${mesh.dir}/<node>/{config.json,node.log}`);
  console.log();

  if (opts.once) {
    if (failures) console.error(await mesh.logs());
    return failures ? 1 : 0;
  }
  console.log(bold("The mesh is up. Press Ctrl-C to stop it and remove everything."));
  // Report a node that dies while the demo runs.
  for (const n of nodes) {
    n.process?.done.then((s) => {
      if (!tearingDown) {
        console.error(`\nnode ${n.fqdn} exited (code ${s.code}); its log: ${n.logPath}`);
      }
    });
  }
  const sig = await stopped;
  console.log(`\n${sig} received.`);
  return 0;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  if (e instanceof Interrupted) {
    console.log(`\n${e.message}.`);
    code = 130;
  } else {
    console.error(`demo failed: ${e instanceof Error ? e.message : e}`);
    if (mesh) console.error(await mesh.logs());
    code = 1;
  }
} finally {
  await teardown();
}
Deno.exit(code);
