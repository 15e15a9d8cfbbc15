/**
 * Mesh-wide route observations over the control sockets, and process figures from /proc: what
 * bench:scale and the scale e2e test measure.
 * @module
 */
import { delay } from "./command.ts";
import type { MeshNode } from "./mesh_node.ts";

/** The prefixes `node` has a route for (empty when its control socket does not answer). */
export async function routePrefixes(node: MeshNode): Promise<Set<string>> {
  try {
    return new Set((await node.routes()).map((r) => r.prefix));
  } catch {
    return new Set();
  }
}

/**
 * Polls every `intervalMs` until `done` holds for the route sets of all `nodes` at once.
 * @returns ms from `since` (performance.now()) to the poll that saw it
 * @throws {Error} naming `what` after `timeoutMs`
 */
export async function timeUntil(
  what: string,
  nodes: readonly MeshNode[],
  done: (node: MeshNode, prefixes: Set<string>) => boolean,
  { since = performance.now(), timeoutMs = 60_000, intervalMs = 50 } = {},
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const sets = await Promise.all(nodes.map(routePrefixes));
    const now = performance.now();
    const missing = nodes.filter((n, i) => !done(n, sets[i]));
    if (missing.length === 0) return now - since;
    if (now > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms at ${missing.map((n) => n.name)}`);
    }
    await delay(intervalMs);
  }
}

/** CPU time (user + system, all threads) of `pid` in seconds, from /proc/<pid>/stat. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
}
const CLK_TCK = 100;

/**
 * Context switches (voluntary + involuntary) of every thread of `pid` so far, summed by thread
 * name (threads of one kind, such as tokio workers, under one name): how often it woke.
 */
export async function contextSwitches(pid: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const t of Deno.readDir(`/proc/${pid}/task`)) {
    try {
      const comm = (await Deno.readTextFile(`/proc/${pid}/task/${t.name}/comm`)).trim();
      const st = await Deno.readTextFile(`/proc/${pid}/task/${t.name}/status`);
      const v = Number(st.match(/^voluntary_ctxt_switches:\s+(\d+)/m)?.[1] ?? 0);
      const nv = Number(st.match(/^nonvoluntary_ctxt_switches:\s+(\d+)/m)?.[1] ?? 0);
      const name = comm.replace(/[\d-]+$/, "");
      out.set(name, (out.get(name) ?? 0) + v + nv);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e; // a thread that just ended
    }
  }
  return out;
}

/** All context switches of `pid` so far (see {@link contextSwitches}). */
export async function wakeups(pid: number): Promise<number> {
  let sum = 0;
  for (const v of (await contextSwitches(pid)).values()) sum += v;
  return sum;
}

/** Current resident set (`VmRSS`) of `pid` in KiB, or `undefined` when it is gone. */
export async function rssKiB(pid: number): Promise<number | undefined> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`).catch(() => "");
  const m = status.match(/^VmRSS:\s+(\d+)\s+kB/m);
  return m ? Number(m[1]) : undefined;
}

/** Sum of bytes sent on all of `node`'s sessions (`status` peers[].bytesOut). */
export async function sessionBytesOut(node: MeshNode): Promise<number> {
  const st = await node.status();
  return st.peers.reduce((s, p) => s + (typeof p.bytesOut === "number" ? p.bytesOut : 0), 0);
}

/** Median and maximum of a list of numbers. */
export function medianMax(xs: readonly number[]): { median: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)] ?? NaN, max: s[s.length - 1] ?? NaN };
}
