/**
 * The real-node scale scenario of bench:scale and tests/e2e_scale_test.ts: N vmesh nodes in
 * namespaces on a given topology; time to full convergence from the start of the processes,
 * idle CPU / RSS / control-plane bytes per node, and how long a `kill -9`'d node's prefix takes
 * to vanish everywhere and to come back after a restart.
 * @module
 */
import { delay } from "./command.ts";
import { type Mesh, type MeshNode, withMesh } from "./mesh.ts";
import {
  cpuSeconds,
  medianMax,
  rssKiB,
  sessionBytesOut,
  timeUntil,
  wakeups,
} from "./mesh_watch.ts";
import { topology, type TopologyKind } from "./topology.ts";

/** Settings of {@link runMeshScale}. */
export interface MeshScaleOptions {
  readonly nodes: number;
  readonly topology: TopologyKind;
  readonly degree: number;
  readonly seed?: number;
  /** Seconds of idle measurement after convergence (0 skips it). */
  readonly idleSeconds: number;
  /** Seconds to let the mesh settle between convergence and the idle window (default 2). */
  readonly settleSeconds?: number;
  /** Limit for each wait, ms (default 120 000). */
  readonly timeoutMs?: number;
  /** Progress lines go here. */
  readonly log?: (line: string) => void;
}

/** Figures of one run. */
export interface MeshScaleResult {
  readonly nodes: number;
  readonly links: number;
  readonly topology: string;
  /** ms from starting the processes to every node having every other node's prefix. */
  readonly convergedMs: number;
  /** ms from starting the processes to the last node's control socket answering. */
  readonly lastReadyMs: number;
  /** CPU each node had used when its control socket first answered, ms (median and max). */
  readonly startCpuMs: { median: number; max: number };
  /** Idle CPU per node, % of one core. */
  readonly idleCpuPct?: { median: number; max: number };
  /** Context switches of all threads per node per second while idle (how often it woke). */
  readonly idleWakeupsPerSecond?: { median: number; max: number };
  /** VmRSS per node after the idle window, MiB. */
  readonly rssMiB?: { median: number; max: number };
  /** Session bytes sent per node per second while idle. */
  readonly idleBytesPerSecond?: { median: number; max: number };
  readonly victim: string;
  /** ms from kill -9 to the victim's prefix gone from every other node. */
  readonly withdrawnMs: number;
  /** ms from restarting the victim to its prefix back at every other node. */
  readonly restoredMs: number;
}

/** Runs the scenario (root and namespaces required). */
export async function runMeshScale(o: MeshScaleOptions): Promise<MeshScaleResult> {
  const log = o.log ?? (() => {});
  const names = Array.from({ length: o.nodes }, (_, i) => `n${i + 1}`);
  const links = topology(o.topology, o.nodes, o.degree, o.seed ?? 1)
    .map(([a, b]) => [names[a], names[b]] as [string, string]);
  const timeoutMs = o.timeoutMs ?? 120_000;
  log(`creating ${o.nodes} namespaces and ${links.length} links (${o.topology})`);
  return await withMesh({ nodes: names, links, label: "scale" }, async (mesh: Mesh) => {
    const nodes = [...mesh.nodes.values()];
    const everyPrefix = (n: MeshNode, have: Set<string>) =>
      nodes.every((o) => o === n || have.has(o.prefix));
    log("starting the nodes");
    const t0 = performance.now();
    await mesh.start(undefined, { waitReady: false });
    // When each node's control socket first answers, and the CPU it had used by then: what
    // start-up costs before any session can form (many nodes share few cores here).
    // (A node that never answers makes the convergence wait fail, which reports it; here it
    // only leaves NaN.)
    const ready = Promise.all(nodes.map(async (n) => {
      try {
        await n.waitReady(timeoutMs);
        const ms = performance.now() - t0;
        return { ms, cpuMs: (await cpuSeconds(n.pid)) * 1000 };
      } catch {
        return { ms: NaN, cpuMs: NaN };
      }
    }));
    const convergedMs = await timeUntil("every node to have every prefix", nodes, everyPrefix, {
      since: t0,
      timeoutMs,
    });
    const readies = await ready;
    const lastReadyMs = Math.max(...readies.map((r) => r.ms));
    const startCpuMs = medianMax(readies.map((r) => r.cpuMs));
    log(
      `converged ${convergedMs.toFixed(0)} ms after the start, the last node ready after ` +
        `${lastReadyMs.toFixed(0)} ms`,
    );

    let idle: Pick<
      MeshScaleResult,
      "idleCpuPct" | "idleWakeupsPerSecond" | "rssMiB" | "idleBytesPerSecond"
    > = {};
    if (o.idleSeconds > 0) {
      await delay((o.settleSeconds ?? 2) * 1000);
      log(`measuring ${o.idleSeconds} s of idle`);
      const pids = nodes.map((n) => n.pid);
      const c0 = await Promise.all(pids.map(cpuSeconds));
      const w0s = await Promise.all(pids.map(wakeups));
      const b0 = await Promise.all(nodes.map(sessionBytesOut));
      const w0 = performance.now();
      await delay(o.idleSeconds * 1000);
      const c1 = await Promise.all(pids.map(cpuSeconds));
      const w1s = await Promise.all(pids.map(wakeups));
      const b1 = await Promise.all(nodes.map(sessionBytesOut));
      const s = (performance.now() - w0) / 1000;
      const rss = await Promise.all(pids.map(rssKiB));
      idle = {
        idleCpuPct: medianMax(c1.map((c, i) => (c - c0[i]) / s * 100)),
        idleWakeupsPerSecond: medianMax(w1s.map((w, i) => (w - w0s[i]) / s)),
        rssMiB: medianMax(rss.map((k) => (k ?? NaN) / 1024)),
        idleBytesPerSecond: medianMax(b1.map((b, i) => (b - b0[i]) / s)),
      };
    }

    const victim = nodes[Math.floor(nodes.length / 2)];
    const others = nodes.filter((n) => n !== victim);
    log(`kill -9 ${victim.name}`);
    const tk = performance.now();
    victim.signal("SIGKILL");
    const withdrawnMs = await timeUntil(
      `${victim.prefix} to be gone everywhere`,
      others,
      (_, have) => !have.has(victim.prefix),
      { since: tk, timeoutMs },
    );
    log(`withdrawn everywhere after ${withdrawnMs.toFixed(0)} ms`);
    await victim.process!.wait(10_000);
    const tr = performance.now();
    await victim.start({ waitReady: false });
    const restoredMs = await timeUntil(
      `${victim.prefix} to be back everywhere`,
      others,
      (_, have) => have.has(victim.prefix),
      { since: tr, timeoutMs },
    );
    log(`back everywhere ${restoredMs.toFixed(0)} ms after the restart`);
    return {
      nodes: o.nodes,
      links: links.length,
      topology: `${o.topology}, degree ${o.degree}`,
      convergedMs,
      lastReadyMs,
      startCpuMs,
      ...idle,
      victim: victim.name,
      withdrawnMs,
      restoredMs,
    };
  });
}
