/**
 * Scenario 5: `vmesh run --drop-permissions` keeps forwarding after switching to nobody; it
 * hands over state_dir itself only, and refuses to start on a symlink planted there.
 */
import { assert, assertEquals, assertStringIncludes } from "./_harness/assert.ts";
import { run, runOk, waitFor } from "./_harness/command.ts";
import { NodeMesh } from "./_harness/node_harness.ts";
import { vmeshArgv } from "./_harness/vmesh_cli.ts";
import { e2eTest } from "./_harness/e2e.ts";
import { withMesh } from "./_harness/mesh.ts";
import { ping } from "./_harness/ping.ts";
import { processUids } from "./_harness/process.ts";

await e2eTest(
  "a node started with --drop-permissions runs as nobody and keeps forwarding",
  async () => {
    const nobody = Number((await runOk(["id", "-u", "nobody"])).trim());
    await withMesh(
      { nodes: ["a", "b", "c"], links: [["a", "b"], ["b", "c"]], label: "drop" },
      async (mesh) => {
        const [a, b, c] = ["a", "b", "c"].map((n) => mesh.node(n));
        await mesh.start(["a", "c"]);
        await b.start({ dropPermissions: true });
        await mesh.waitConverged();
        const uids = await processUids(b.pid);
        assertEquals(uids, [nobody, nobody, nobody, nobody], `uids of B (pid ${b.pid})`);
        // B forwards between A and C, and answers for its own address.
        for (const [from, to] of [[a, c], [c, a], [a, b]]) {
          const r = await ping(from.ns, to.address, { count: 3, intervalS: 0.05 });
          assertEquals(
            r.received,
            3,
            `${from.name} → ${to.name} after B dropped permissions:\n${r.output}`,
          );
        }
        const st = await b.status();
        assertEquals(st.node.name, b.fqdn);
        const stopped = await b.stop();
        assertEquals(stopped?.status.code, 0, `B's exit status on SIGTERM\n${await b.log()}`);
        assert(!stopped?.killed, "B needed SIGKILL");
      },
    );
  },
);

/** Writes node a's config (dummy vif, loopback) and returns it with its state_dir. */
async function nodeConfig(mesh: NodeMesh): Promise<{ path: string; stateDir: string }> {
  const { path, json } = await mesh.configJson("a", 1);
  const stateDir = json.state_dir as string;
  await Deno.mkdir(stateDir, { mode: 0o700 });
  return { path, stateDir };
}

Deno.test({
  name: "--drop-permissions refuses to start on a symlink planted in state_dir, and its " +
    "target keeps its owner",
  ignore: Deno.uid() !== 0,
  async fn() {
    const mesh = await NodeMesh.create();
    try {
      const { path, stateDir } = await nodeConfig(mesh);
      // What anything running as nobody could plant after an earlier run: a link to a file
      // only root may read (here a file of the test's own, never a system file).
      const target = `${mesh.dir}/shadow`;
      await Deno.writeTextFile(target, "root:secret\n", { mode: 0o600 });
      await Deno.symlink(target, `${stateDir}/dc.bin`);
      const r = await run(vmeshArgv(["run", "--config", path, "--drop-permissions"]), {
        timeoutMs: 30_000,
        env: { NO_COLOR: "1" },
      });
      const t = await Deno.stat(target);
      assertEquals([t.uid, t.gid], [0, 0], "the link's target still belongs to root");
      assertEquals(r.code, 1, `exit status\n${r.stderr}`);
      assertStringIncludes(r.stderr, `${stateDir}/dc.bin is a symbolic link`);
      assertEquals((await Deno.lstat(stateDir)).uid, 0, "state_dir was not handed over");
    } finally {
      await Deno.remove(mesh.dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "--drop-permissions hands over state_dir itself and none of the files in it",
  ignore: Deno.uid() !== 0,
  async fn() {
    const mesh = await NodeMesh.create();
    try {
      const { path, stateDir } = await nodeConfig(mesh);
      await Deno.writeTextFile(`${stateDir}/kept-by-root`, "x", { mode: 0o600 });
      const child = new Deno.Command(Deno.execPath(), {
        args: vmeshArgv(["run", "--config", path, "--drop-permissions"]).slice(1),
        env: { NO_COLOR: "1" },
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const stderr = child.stderr.pipeThrough(new TextDecoderStream());
      let log = "";
      const reading = (async () => {
        for await (const chunk of stderr) log += chunk;
      })();
      try {
        await waitFor("the node to drop privileges", () => log.includes("dropped privileges"), {
          timeoutMs: 30_000,
        });
        assertEquals((await Deno.lstat(stateDir)).uid, 65534, "state_dir belongs to nobody");
        assertEquals((await Deno.lstat(`${stateDir}/kept-by-root`)).uid, 0);
      } finally {
        child.kill("SIGTERM");
        await child.status;
        await reading;
      }
    } finally {
      await Deno.remove(mesh.dir, { recursive: true });
    }
  },
});
