/**
 * Scenario 2: a diamond A–B–D, A–C–D. A pings D every 10 ms; the node carrying the traffic
 * is found from interface byte counters and then killed (SIGKILL) or frozen (SIGSTOP). The
 * longest silence between replies bounds the failover time.
 */
import { assert } from "./_harness/assert.ts";
import { delay, waitFor } from "./_harness/command.ts";
import { e2eTest } from "./_harness/e2e.ts";
import { type Mesh, type MeshNode, withMesh } from "./_harness/mesh.ts";
import type { LinkCounters } from "./_harness/netns.ts";
import { ContinuousPing, longestGap, type PingOutput } from "./_harness/ping.ts";

/** Bytes A sent and received on each of its links during `ms`, by neighbour name. */
async function trafficFrom(
  a: MeshNode,
  ms: number,
): Promise<Map<string, { tx: number; rx: number }>> {
  const before = new Map<string, LinkCounters>();
  for (const ifname of a.interfaces.keys()) before.set(ifname, await a.ns.counters(ifname));
  await delay(ms);
  const out = new Map<string, { tx: number; rx: number }>();
  for (const [ifname, peer] of a.interfaces) {
    const c = await a.ns.counters(ifname);
    const b = before.get(ifname)!;
    out.set(peer, { tx: c.txBytes - b.txBytes, rx: c.rxBytes - b.rxBytes });
  }
  return out;
}

async function failover(mesh: Mesh, signal: "SIGKILL" | "SIGSTOP", limitS: number) {
  const [a, b, c, d] = ["a", "b", "c", "d"].map((n) => mesh.node(n));
  await mesh.start();
  await mesh.waitConverged();
  // Both ways round the diamond must be known before one is cut.
  for (const [from, to] of [[a, d], [d, a]]) {
    await waitFor(`${from.name} to know two routes to ${to.name}`, async () => {
      const r = await from.route(to.prefix);
      return (r?.candidates as number | undefined ?? 0) >= 2;
    });
  }
  const pinger = await ContinuousPing.start(a.ns, d.address, `${mesh.dir}/ping.log`);
  let out: PingOutput;
  let killedAt = 0;
  let victim: MeshNode | undefined;
  let stoppedAt = 0;
  try {
    // Find the node carrying A's echo requests while the ping runs (100 per second, about
    // 150 bytes each with framing: far above the keepalives).
    let traffic = new Map<string, { tx: number; rx: number }>();
    await waitFor("ping traffic to flow through B or C", async () => {
      traffic = await trafficFrom(a, 500);
      return Math.max(...[...traffic.values()].map((t) => t.tx)) > 5000;
    }, { timeoutMs: 15_000, intervalMs: 0 });
    victim = traffic.get("b")!.tx >= traffic.get("c")!.tx ? b : c;
    const seen = [...traffic].map(([k, v]) => `${k} tx ${v.tx} B rx ${v.rx} B`).join(", ");
    console.log(`failover: A's links over 0.5 s: ${seen}; sending ${signal} to ${victim.name}`);
    killedAt = Date.now() / 1000;
    victim.signal(signal);
    console.log(`failover: ${signal} sent at ${new Date(killedAt * 1000).toISOString()}`);
    // Watch for a fixed window well past the limit; silence up to its end counts as a gap.
    await delay(limitS * 1000 + 2000);
  } finally {
    stoppedAt = Date.now() / 1000;
    out = await pinger.stop();
    if (signal === "SIGSTOP") victim?.signal("SIGCONT");
  }
  const afterKill = out.replies.filter((r) => r.at > killedAt);
  assert(afterKill.length > 10, `only ${afterKill.length} replies after ${signal}`);
  // The silence from the last reply to the end counts too (replies that never resumed).
  const gap = longestGap(out.replies, { to: stoppedAt })!;
  console.log(
    `failover (${signal}): longest gap ${(gap.seconds * 1000).toFixed(0)} ms between ` +
      `icmp_seq ${gap.before.seq} and ${gap.after.seq < 0 ? "the end" : gap.after.seq}; ` +
      `${out.replies.length} replies of ` +
      `${out.transmitted} sent`,
  );
  assert(
    gap.seconds < limitS,
    `longest gap ${gap.seconds.toFixed(3)} s after ${signal} exceeds ${limitS} s`,
  );
}

const diamond = {
  nodes: ["a", "b", "c", "d"],
  links: [["a", "b"], ["a", "c"], ["b", "d"], ["c", "d"]] as [string, string][],
};

await e2eTest(
  "traffic A→D moves to the other side of a diamond within 0.5 s of a kill -9",
  async () => {
    await withMesh({ ...diamond, label: "kill" }, (mesh) => failover(mesh, "SIGKILL", 0.5));
  },
);

await e2eTest(
  "traffic A→D moves to the other side of a diamond within 3.5 s of a kill -STOP",
  async () => {
    await withMesh({ ...diamond, label: "stop" }, (mesh) => failover(mesh, "SIGSTOP", 3.5));
  },
);
