/**
 * `deno task demo --once` brings the three-node mesh up, pings across it and removes
 * everything again.
 */
import { assert, assertEquals, assertStringIncludes } from "./_harness/assert.ts";
import { run } from "./_harness/command.ts";
import { e2eTest } from "./_harness/e2e.ts";
import { harnessNamespaces } from "./_harness/netns.ts";
import { REPO_ROOT } from "./_harness/vmesh_cli.ts";

await e2eTest("deno task demo --once shows a working three-node mesh and cleans up", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${REPO_ROOT}/scripts/demo.ts`, "--once"],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, `demo exited with ${out.code}:\n${text}`);
  for (const pair of ["a -> b", "a -> c", "b -> c", "c -> a"]) {
    assertStringIncludes(text, `${pair} (`);
  }
  assert(!/: 0\/3 replies/.test(text), `a pair got no reply:\n${text}`);
  assertStringIncludes(text, "Try these");
  const left = (await harnessNamespaces()).filter((n) => n.startsWith(`vme-${child.pid}-`));
  assertEquals(left, [], "the demo left namespaces behind");
  const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
  const dirs = (await run(["ls", tmp])).stdout.split("\n").filter((d) =>
    d.startsWith(`vme-${child.pid}-`)
  );
  assertEquals(dirs, [], "the demo left temp dirs behind");
});
