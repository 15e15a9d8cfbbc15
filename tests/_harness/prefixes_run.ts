/**
 * The real-node "hundred thousand prefixes" scenario of `deno task bench:prefixes` (issue 16):
 * a transit node `t` and a chain `t – a – b – c` of real vmesh nodes in namespaces. Once the
 * chain has converged, `t`'s config gets N more `local_announcements` (/64s in fd01::/16) and a
 * SIGHUP; the run measures the time until `c` has all of them, the RSS growth of every node,
 * then takes them out of the config again (SIGHUP) and measures the time until `c` has none,
 * while 10 ms pings run from `a` and from `t` to `c` (longest gap between replies).
 *
 * The receiving nodes carry the config a transit site's neighbours need: `max_routes_per_peer`
 * and `max_routes_per_origin` above N (docs/routing.md, "Route limits").
 * @module
 */
import { delay } from "./command.ts";
import { type MeshNode, withMesh } from "./mesh.ts";
import { rssKiB } from "./mesh_watch.ts";
import { ContinuousPing, longestGap } from "./ping.ts";

/** Settings of {@link runPrefixes}. */
export interface PrefixesOptions {
  /** Prefixes the transit node announces. */
  readonly prefixes: number;
  /** Limit for each wait, ms (default 300 000). */
  readonly timeoutMs?: number;
  /** Progress lines go here. */
  readonly log?: (line: string) => void;
}

/** Figures of one run. */
export interface PrefixesResult {
  readonly prefixes: number;
  /** ms from the SIGHUP that adds them to `c` having all of them. */
  readonly announcedMs: number;
  /** VmRSS growth per node (t, a, b, c) from before the announcement to after it, MiB. */
  readonly rssGrowthMiB: Record<string, number>;
  /** VmRSS per node after the announcement, MiB. */
  readonly rssMiB: Record<string, number>;
  /** ms from the SIGHUP that removes them to `c` having none. */
  readonly withdrawnMs: number;
  /** Longest gap between ping replies during the withdrawal, ms, per pinging node. */
  readonly pingGapMs: Record<string, number>;
  /** Pings sent and lost during the withdrawal, per pinging node. */
  readonly pingLoss: Record<string, { sent: number; lost: number }>;
}

/** The i-th announced prefix: fd01:0:<i high>:<i low>::/64. */
export function transitPrefix(i: number): string {
  return `fd01:0:${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64`;
}

/** Runs the scenario (root and namespaces required). */
export async function runPrefixes(o: PrefixesOptions): Promise<PrefixesResult> {
  const log = o.log ?? (() => {});
  const n = o.prefixes;
  const timeoutMs = o.timeoutMs ?? 300_000;
  const limits = { max_routes_per_peer: n + 1024, max_routes_per_origin: n + 1024 };
  const names = ["t", "a", "b", "c"];
  const spec = names.map((name) => ({ name, config: limits }));
  const links = [["t", "a"], ["a", "b"], ["b", "c"]] as [string, string][];
  log(`creating the chain ${names.join(" – ")}`);
  return await withMesh({ nodes: spec, links, label: "pre" }, async (mesh) => {
    const nodes = names.map((x) => mesh.node(x));
    const [t, a, , c] = nodes;
    await mesh.start();
    await mesh.waitConverged(undefined, 60_000);
    const base = await routeCount(c);
    const config = JSON.parse(await Deno.readTextFile(t.configPath));
    const own = config.local_announcements;
    const extra = Array.from({ length: n }, (_, i) => ({ prefix: transitPrefix(i), vif: "tun0" }));
    const rss0 = await rssAll(nodes);

    log(`announcing ${n} prefixes from t (config + SIGHUP)`);
    await Deno.writeTextFile(
      t.configPath,
      JSON.stringify({ ...config, local_announcements: [...own, ...extra] }),
    );
    let t0 = performance.now();
    t.signal("SIGHUP");
    await untilCount(c, base + n, timeoutMs);
    const announcedMs = performance.now() - t0;
    log(`c has all ${n} after ${announcedMs.toFixed(0)} ms`);
    await delay(2000); // let garbage settle before reading RSS
    const rss1 = await rssAll(nodes);

    const pings = [
      { from: a, ping: await ContinuousPing.start(a.ns, c.address, `${mesh.dir}/ping-a.log`) },
      { from: t, ping: await ContinuousPing.start(t.ns, c.address, `${mesh.dir}/ping-t.log`) },
    ];
    await delay(1000);
    log(`withdrawing them (config + SIGHUP), pinging c from a and t every 10 ms`);
    await Deno.writeTextFile(t.configPath, JSON.stringify(config));
    t0 = performance.now();
    const from = Date.now() / 1000;
    t.signal("SIGHUP");
    await untilCount(c, base, timeoutMs);
    const withdrawnMs = performance.now() - t0;
    await delay(1000);
    const to = Date.now() / 1000;
    log(`c has none after ${withdrawnMs.toFixed(0)} ms`);
    const pingGapMs: Record<string, number> = {};
    const pingLoss: Record<string, { sent: number; lost: number }> = {};
    for (const { from: node, ping } of pings) {
      const out = await ping.stop();
      const inRange = out.replies.filter((r) => r.at >= from && r.at <= to);
      pingGapMs[node.name] = (longestGap(out.replies, { from, to })?.seconds ?? NaN) * 1000;
      const sent = Math.round((to - from) / 0.01);
      pingLoss[node.name] = { sent, lost: Math.max(0, sent - inRange.length) };
    }
    const mib = (k: number | undefined) => (k ?? NaN) / 1024;
    return {
      prefixes: n,
      announcedMs,
      rssGrowthMiB: Object.fromEntries(names.map((x, i) => [x, mib(rss1[i]) - mib(rss0[i])])),
      rssMiB: Object.fromEntries(names.map((x, i) => [x, mib(rss1[i])])),
      withdrawnMs,
      pingGapMs,
      pingLoss,
    };
  });
}

/** The number of routes `node` has (`status`; NaN while it does not answer). */
async function routeCount(node: MeshNode): Promise<number> {
  try {
    return (await node.status()).routes as number;
  } catch {
    return NaN;
  }
}

async function untilCount(node: MeshNode, want: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const have = await routeCount(node);
    if (have === want) return;
    if (performance.now() > deadline) {
      throw new Error(`${node.name} has ${have} routes, not ${want}, after ${timeoutMs} ms`);
    }
    await delay(25);
  }
}

function rssAll(nodes: readonly MeshNode[]): Promise<(number | undefined)[]> {
  return Promise.all(nodes.map((x) => rssKiB(x.pid)));
}
