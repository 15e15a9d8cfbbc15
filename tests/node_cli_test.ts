/**
 * A real `vmesh run` subprocess on loopback (dummy vif, no root needed): the control-socket
 * CLI commands against it, and SIGTERM (exit 0 within 2 s, the peer told why).
 */
import { assert, assertEquals, assertStringIncludes } from "./_harness/assert.ts";
import { run } from "./_harness/command.ts";
import { NodeMesh, waitUntil } from "./_harness/node_harness.ts";
import { ManagedProcess, processUids } from "./_harness/process.ts";
import { REPO_ROOT, vmeshArgv } from "./_harness/vmesh_cli.ts";

if (Deno.uid() !== 0) console.log("node_cli_test: not root, skipping the --drop-permissions test");

/** Runs `vmesh <args>` as a subprocess with the compiled binary's permissions. */
function cli(args: string[]) {
  return run(vmeshArgv(args), { cwd: REPO_ROOT, env: { NO_COLOR: "1" }, timeoutMs: 30_000 });
}

Deno.test("vmesh status, routes and dc current read a running vmesh run; SIGTERM stops it in 2 s", async () => {
  const mesh = await NodeMesh.create();
  let proc: ManagedProcess | undefined;
  try {
    const b = await mesh.start("b", 2);
    const dcPath = `${mesh.dir}/dconf.bin`;
    await Deno.writeFile(
      dcPath,
      await mesh.signDc({ prefix_whitelist: { "b.vnet.test": ["fd00:2::/48"] } }),
    );
    const { path, json } = await mesh.configJson("s", 5, { peers: [b] });
    const socket = json.control_socket as string;
    proc = await ManagedProcess.start(
      "vmesh run s",
      vmeshArgv(["run", "--config", path, "--initial-dc", dcPath]),
      { logPath: `${mesh.dir}/s.log`, cwd: REPO_ROOT, env: { NO_COLOR: "1" } },
    );
    await proc.waitForLog("running", 30_000);
    await mesh.waitRoute(b, "fd00:5::/48", true, 20_000);
    await waitUntil(() => b.node.dc.current !== undefined, "B to get the DC from s");

    // One at a time: each CLI run has its 30 s bound to itself. Seven Deno processes started
    // at once on a loaded machine shared the CPU and ran past it (killed, exit 137).
    const outputs = [];
    for (
      const args of [
        ["status", "--control", socket],
        ["status", "--control", socket, "--json"],
        ["status", "--config", path],
        ["routes", "--control", socket],
        ["routes", "--config", path, "--json"],
        ["dc", "current", "--control", socket],
        ["dc", "current", "--config", path, "--json"],
      ]
    ) outputs.push(await cli(args));
    const [text, asJson, byConfig, routes, routesJson, dc, dcJson] = outputs;
    for (const r of [text, asJson, byConfig, routes, routesJson, dc, dcJson]) {
      assertEquals(r.code, 0, r.stderr);
    }
    assertStringIncludes(text.stdout, "node s.vnet.test");
    assert(/^b\.vnet\.test\s+up\s+127\.0\.0\.1:\d+\s+outbound/m.test(text.stdout), text.stdout);
    assertStringIncludes(text.stdout, "2 route(s)");
    assertStringIncludes(text.stdout, "DC signed ");
    assertStringIncludes(text.stdout, "vif mem (mem, mtu");
    assertStringIncludes(byConfig.stdout, "node s.vnet.test");
    const st = JSON.parse(asJson.stdout);
    assertEquals(st.node.name, "s.vnet.test");
    assertEquals(st.node.pid, proc.pid);
    assertEquals(st.peers[0].name, "b.vnet.test");
    assertEquals(st.peers[0].state, "up");
    assert(/^PREFIX\s+NEXT HOP/.test(routes.stdout), routes.stdout);
    assert(/^fd00:2::\/48\s+b\.vnet\.test/m.test(routes.stdout), routes.stdout);
    assert(/^fd00:5::\/48\s+local:mem/m.test(routes.stdout), routes.stdout);
    assertEquals(JSON.parse(routesJson.stdout).map((r: { prefix: string }) => r.prefix), [
      "fd00:2::/48",
      "fd00:5::/48",
    ]);
    assertStringIncludes(dc.stdout, "signed at:");
    assertStringIncludes(dc.stdout, "b.vnet.test");
    assertStringIncludes(dc.stdout, "fd00:2::/48");
    assertEquals(JSON.parse(dcJson.stdout).prefix_whitelist, {
      "b.vnet.test": [{ prefix: "fd00:2::/48", max_prefix_len: 128 }],
    });

    // SIGTERM: exit 0 within 2 s; the peer hears the reason and withdraws the routes.
    const session = b.node.sessions.sessions().find((s) => s.peer.name === "s.vnet.test")!;
    const { status, ms, killed } = await proc.stop({ signal: "SIGTERM", graceMs: 5000 });
    assert(!killed, "exited by itself");
    assertEquals(status.code, 0, await proc.log());
    assert(ms < 2000, `exited ${ms.toFixed(0)} ms after SIGTERM`);
    await waitUntil(() => session.state === "closed", "B's session with s to close");
    assertStringIncludes(session.closeReason ?? "", "node shutting down");
    await mesh.waitRoute(b, "fd00:5::/48", false);
    const log = await proc.log();
    assertStringIncludes(log, "stopping (SIGTERM)");
    assertStringIncludes(log, "stopped");
    await Deno.stat(socket).then(() => assert(false, "socket left behind"), () => undefined);
    console.log(`vmesh run exited ${ms.toFixed(0)} ms after SIGTERM`);
  } finally {
    await proc?.stop({ signal: "SIGKILL" });
    await mesh.close();
  }
});

Deno.test("the control commands exit 1 with a clear message when the node is not running", async () => {
  const mesh = await NodeMesh.create();
  try {
    const { path, json } = await mesh.configJson("n", 6);
    const results = await Promise.all([
      cli(["status", "--control", json.control_socket as string]),
      cli(["routes", "--config", path]),
      cli(["dc", "current", "--config", path, "--json"]),
      cli(["status", "--config", `${mesh.dir}/missing.json`]),
    ]);
    for (const r of results.slice(0, 3)) {
      assertEquals(r.code, 1, r.stdout + r.stderr);
      assertStringIncludes(r.stderr, `cannot connect to control socket ${json.control_socket}`);
      assertStringIncludes(r.stderr, "is the node running?");
      assert(!r.stderr.includes("    at "), `no stack trace: ${r.stderr}`);
    }
    assertEquals(results[3].code, 1);
    assertStringIncludes(results[3].stderr, "missing.json");
    assertStringIncludes(results[3].stderr, "cannot read the file");
  } finally {
    await mesh.close();
  }
});

Deno.test({
  name: "vmesh run --drop-permissions runs as 65534 with state_dir given to it, and still answers",
  ignore: Deno.uid() !== 0,
  async fn() {
    const mesh = await NodeMesh.create();
    let proc: ManagedProcess | undefined;
    try {
      await Deno.chmod(mesh.dir, 0o755); // nobody must reach state_dir below it
      const { path, json } = await mesh.configJson("d", 7);
      proc = await ManagedProcess.start(
        "vmesh run d",
        vmeshArgv(["run", "-config", path, "-drop-permissions"]),
        { logPath: `${mesh.dir}/d.log`, cwd: REPO_ROOT, env: { NO_COLOR: "1" } },
      );
      await proc.waitForLog("running", 30_000);
      assertStringIncludes(await proc.log(), "dropped privileges to uid/gid 65534");
      assertEquals(await processUids(proc.pid), [65534, 65534, 65534, 65534]);
      const st = await Deno.stat(json.state_dir as string);
      assertEquals([st.uid, st.gid], [65534, 65534]);
      const r = await cli(["status", "--control", json.control_socket as string, "--json"]);
      assertEquals(r.code, 0, r.stderr);
      assertEquals(JSON.parse(r.stdout).node.pid, proc.pid);
      const { status } = await proc.stop({ signal: "SIGTERM", graceMs: 5000 });
      assertEquals(status.code, 0, await proc.log());
    } finally {
      await proc?.stop({ signal: "SIGKILL" });
      await mesh.close();
    }
  },
});
