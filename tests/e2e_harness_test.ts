/**
 * The namespace harness itself, against plain kernel networking (no vmesh node): namespaces,
 * veth links and addressing, counters, process management and logs, gap measurement,
 * iperf3, stale cleanup and teardown.
 */
import { assert, assertEquals, assertStringIncludes } from "./_harness/assert.ts";
import { delay, run, runOk, waitFor } from "./_harness/command.ts";
import { e2eTest } from "./_harness/e2e.ts";
import { iperfClient, IperfServer } from "./_harness/iperf.ts";
import {
  cleanupStale,
  connectNamespaces,
  harnessNamespaces,
  Netns,
  setLinkState,
  uniqueTag,
} from "./_harness/netns.ts";
import { ContinuousPing, longestGap, ping } from "./_harness/ping.ts";
import { ManagedProcess } from "./_harness/process.ts";
import { checkedTransfer } from "./_harness/transfer.ts";
import { Mesh } from "./_harness/mesh.ts";
import { vmesh } from "./_harness/vmesh_cli.ts";

async function withNamespaces(
  names: string[],
  fn: (ns: Netns[], dir: string) => Promise<void>,
): Promise<void> {
  const tag = uniqueTag("h");
  const dir = await Deno.makeTempDir({ prefix: `${tag}-` });
  const made: Netns[] = [];
  try {
    for (const n of names) made.push(await Netns.create(`${tag}-${n}`));
    await fn(made, dir);
  } finally {
    for (const ns of made) await ns.destroy();
    await Deno.remove(dir, { recursive: true });
  }
  const left = (await harnessNamespaces()).filter((n) => n.startsWith(tag));
  assertEquals(left, [], "namespaces left behind");
}

await e2eTest("veth links join namespaces with a /30 each and nothing on the host", async () => {
  await withNamespaces(["a", "b", "c"], async ([a, b, c]) => {
    const ab = await connectNamespaces(a, b, 1, { aIf: "to-b", bIf: "to-a" });
    const bc = await connectNamespaces(b, c, 2, { aIf: "to-c", bIf: "to-b" });
    assertEquals([ab.aAddr, ab.bAddr, bc.aAddr, bc.bAddr], [
      "10.1.0.1",
      "10.1.0.2",
      "10.2.0.1",
      "10.2.0.2",
    ]);
    assertEquals((await b.interfaces()).sort(), ["lo", "to-a", "to-c"]);
    const hostLinks = await runOk(["ip", "-j", "link", "show"]);
    for (const l of JSON.parse(hostLinks) as { ifname: string }[]) {
      assert(!["to-a", "to-b", "to-c"].includes(l.ifname), `${l.ifname} leaked onto the host`);
    }
    const before = await a.counters("to-b");
    const r = await ping(a, ab.bAddr, { count: 3, intervalS: 0.01 });
    assertEquals(r.received, 3, r.output);
    const after = await a.counters("to-b");
    assert(after.txBytes > before.txBytes, "tx_bytes did not grow");
    // No forwarding between links: a cannot reach c's /30 (only its own).
    const far = await ping(a, bc.bAddr, { count: 1, waitS: 0.3 });
    assertEquals(far.received ?? 0, 0, far.output);
  });
});

await e2eTest("ManagedProcess runs in a namespace with its own pid, logs, and stops", async () => {
  await withNamespaces(["p"], async ([ns], dir) => {
    const log = `${dir}/p.log`;
    const proc = await ManagedProcess.start(
      "sleeper",
      ns.command(["sh", "-c", "echo started; echo oops >&2; exec sleep 60"]),
      { logPath: log },
    );
    await proc.waitForLog("started");
    await proc.waitForLog("oops");
    await waitFor("sleep to replace the shell", async () => {
      const comm = (await Deno.readTextFile(`/proc/${proc.pid}/comm`)).trim();
      return comm === "sleep";
    });
    assertEquals(await ns.pids(), [proc.pid]);
    const text = await proc.log();
    assertStringIncludes(text, "started");
    assertStringIncludes(text, "ip netns exec");
    proc.signal("SIGSTOP");
    const { status, killed } = await proc.stop({ graceMs: 2000 });
    assertEquals(killed, false, "a stopped process must still end on SIGTERM");
    assertEquals(status.signal, "SIGTERM");
    assertEquals(await ns.pids(), []);
  });
});

await e2eTest("ContinuousPing measures the outage while a link is down", async () => {
  await withNamespaces(["a", "b"], async ([a, b], dir) => {
    const link = await connectNamespaces(a, b, 1, { aIf: "to-b", bIf: "to-a" });
    const p = await ContinuousPing.start(a, link.bAddr, `${dir}/ping.log`);
    let downAt = 0;
    let out;
    try {
      await waitFor("replies", async () => (await a.counters("to-b")).txPackets > 20);
      downAt = Date.now() / 1000;
      await setLinkState(link, false);
      await delay(400);
      await setLinkState(link, true);
      await waitFor("replies again", async () => {
        const before = (await b.counters("to-a")).txPackets;
        await delay(100);
        return (await b.counters("to-a")).txPackets > before + 3;
      });
    } finally {
      out = await p.stop();
    }
    const gap = longestGap(out.replies)!;
    assert(gap.before.at <= downAt + 0.05, `gap starts at ${gap.before.at}, link down ${downAt}`);
    assert(gap.seconds >= 0.35 && gap.seconds < 3, `gap ${gap.seconds.toFixed(3)} s`);
  });
});

await e2eTest("iperf3 and the checked TCP transfer work between namespaces", async () => {
  await withNamespaces(["a", "b"], async ([a, b], dir) => {
    const link = await connectNamespaces(a, b, 1, { aIf: "to-b", bIf: "to-a" });
    const server = await IperfServer.start(b, `${dir}/iperf.log`);
    try {
      const rep = await iperfClient(a, link.bAddr, ["-t", "1"]);
      assert(rep.end.sum_received!.bytes > 0, JSON.stringify(rep.end));
    } finally {
      await server.stop();
    }
    const t = await checkedTransfer(a, b, link.bAddr, 3 * 1024 * 1024 + 5, `${dir}/sink.log`);
    assert(t.ok, JSON.stringify(t));
    assertEquals(t.received, 3 * 1024 * 1024 + 5);
  });
}, { programs: ["ip", "iperf3", "ss"] });

await e2eTest(
  "cleanupStale() removes a dead run's namespaces, processes and temp dirs",
  async () => {
    const dead = await findDeadPid();
    const name = `vme-${dead}-stale-x`;
    const tmp = `${Deno.env.get("TMPDIR") ?? "/tmp"}/vme-${dead}-stale-dir`;
    await Deno.mkdir(tmp, { recursive: true });
    await runOk(["ip", "netns", "add", name]);
    const orphan = new Deno.Command("ip", {
      args: ["netns", "exec", name, "sleep", "60"],
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      await waitFor("orphan in namespace", async () => {
        const r = await run(["ip", "netns", "pids", name]);
        return r.stdout.trim() !== "";
      });
      const mine = await Netns.create(`${uniqueTag("h")}-live`);
      try {
        const removed = await cleanupStale();
        assert(removed.includes(name), `removed ${removed}`);
        assert(removed.includes(tmp), `removed ${removed}`);
        const left = await harnessNamespaces();
        assert(!left.includes(name), "stale namespace left");
        assert(left.includes(mine.name), "cleanupStale() removed this run's namespace");
        assertEquals((await orphan.status).signal, "SIGKILL");
      } finally {
        await mine.destroy();
      }
    } finally {
      try {
        orphan.kill("SIGKILL");
      } catch {
        // Already killed by cleanupStale().
      }
      await orphan.status;
      await run(["ip", "netns", "del", name]);
      await Deno.remove(tmp, { recursive: true }).catch(() => undefined);
    }
  },
);

/** A pid that is not in use (the kernel does not reuse pids quickly). */
async function findDeadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

await e2eTest(
  "Mesh.create() writes configs that `vmesh run --check` accepts; close() leaves nothing",
  async () => {
    const mesh = await Mesh.create({
      nodes: ["a", "b", { name: "x", index: 9, extraAnnouncements: ["fd00:1::/48"] }],
      links: [["a", "b"], { a: "b", b: "x", dial: "both" }],
      label: "h",
    });
    let names: string[];
    try {
      names = [...mesh.nodes.values()].map((n) => n.ns.name);
      const outs = await Promise.all(
        [...mesh.nodes.values()].map((n) => vmesh(["run", "--config", n.configPath, "--check"])),
      );
      for (const o of outs) assertStringIncludes(o, "OK");
      const x = JSON.parse(await Deno.readTextFile(mesh.node("x").configPath));
      assertEquals(x.local_announcements.map((a: { prefix: string }) => a.prefix), [
        "fd00:9::/48",
        "fd00:1::/48",
      ]);
      assertEquals(x.vifs.tun0.addresses, ["fd00:9::1/48"]);
      assertEquals(x.peers, [{ addr: "10.2.0.1:5120", name: "b.vnet.test", udp: false }]);
      const a = JSON.parse(await Deno.readTextFile(mesh.node("a").configPath));
      assertEquals(a.peers, [{ addr: "10.1.0.2:5120", name: "b.vnet.test", udp: false }]);
      assertEquals((await mesh.node("b").ns.interfaces()).sort(), ["lo", "to-a", "to-x"]);
    } finally {
      await mesh.close();
    }
    const left = await harnessNamespaces();
    for (const n of names) assert(!left.includes(n), `${n} left behind`);
    const gone = await Deno.stat(mesh.dir).then(() => false, () => true);
    assert(gone, `${mesh.dir} left behind`);
  },
);
