/**
 * Scenario 2: a diamond A–B–D, A–C–D. A pings D every 10 ms; the node carrying the traffic
 * is found from interface byte counters and then killed (SIGKILL) or frozen (SIGSTOP). The
 * longest silence between replies bounds the failover time.
 */
import { assert } from "./_harness/assert.ts";
import { delay, waitFor } from "./_harness/command.ts";
import { e2eTest } from "./_harness/e2e.ts";
import { type Mesh, type MeshNode, withMesh } from "./_harness/mesh.ts";
import { ContinuousPing, longestGap, type PingOutput } from "./_harness/ping.ts";

/** Bytes through each of A's links during `ms` (both directions), by neighbour name. */
async function trafficFrom(a: MeshNode, ms: number): Promise<Map<string, number>> {
  const before = new Map<string, number>();
  for (const ifname of a.interfaces.keys()) {
    const c = await a.ns.counters(ifname);
    before.set(ifname, c.txBytes + c.rxBytes);
  }
  await delay(ms);
  const out = new Map<string, number>();
  for (const [ifname, peer] of a.interfaces) {
    const c = await a.ns.counters(ifname);
    out.set(peer, c.txBytes + c.rxBytes - before.get(ifname)!);
  }
  return out;
}

/** Waits until replies arrive at A through the link to `via` (≥ 10 packets in 200 ms). */
async function waitRepliesVia(a: MeshNode, via: string, timeoutMs: number): Promise<void> {
  const ifname = `to-${via}`;
  await waitFor(`echo replies to reach A through ${via}`, async () => {
    const before = (await a.ns.counters(ifname)).rxPackets;
    await delay(200);
    return (await a.ns.counters(ifname)).rxPackets - before >= 10;
  }, { timeoutMs, intervalMs: 0 });
}

async function failover(mesh: Mesh, signal: "SIGKILL" | "SIGSTOP", limitS: number) {
  const [a, b, c, d] = ["a", "b", "c", "d"].map((n) => mesh.node(n));
  await mesh.start();
  await mesh.waitConverged();
  const pinger = await ContinuousPing.start(a.ns, d.address, `${mesh.dir}/ping.log`);
  let out: PingOutput;
  let killedAt = 0;
  let victim: MeshNode | undefined;
  let stoppedAt = 0;
  try {
    // Find the node on the path while the ping runs.
    let traffic = new Map<string, number>();
    await waitFor("ping traffic to flow through B or C", async () => {
      traffic = await trafficFrom(a, 300);
      return Math.max(...traffic.values()) > 20 * 100;
    }, { timeoutMs: 15_000, intervalMs: 0 });
    victim = (traffic.get("b")! >= traffic.get("c")!) ? b : c;
    const other = victim === b ? c : b;
    console.log(
      `failover: traffic through ${[...traffic].map(([k, v]) => `${k} ${v} B`).join(", ")};` +
        ` sending ${signal} to ${victim.name}`,
    );
    killedAt = Date.now() / 1000;
    victim.signal(signal);
    await waitRepliesVia(a, other.name, 20_000);
    await delay(300);
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
      `icmp_seq ${gap.before.seq} and ${gap.after.seq}; ${out.replies.length} replies of ` +
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
  "traffic A→D moves to the other side of a diamond within 0.2 s of a kill -9",
  async () => {
    await withMesh({ ...diamond, label: "kill" }, (mesh) => failover(mesh, "SIGKILL", 0.2));
  },
);

await e2eTest(
  "traffic A→D moves to the other side of a diamond within 3.5 s of a kill -STOP",
  async () => {
    await withMesh({ ...diamond, label: "stop" }, (mesh) => failover(mesh, "SIGSTOP", 3.5));
  },
);
