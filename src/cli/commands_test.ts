import { assert, assertEquals } from "../../tests/_harness/assert.ts";
import { runCommandGraph, staticallyLoaded } from "../../tests/_harness/module_graph.ts";
import { COMMANDS } from "./mod.ts";

Deno.test("every listed command loads with the name and summary the usage text shows", async () => {
  for (const entry of COMMANDS) {
    const cmd = await entry.load();
    assertEquals([cmd.name, cmd.summary], [entry.name, entry.summary]);
  }
  assertEquals(new Set(COMMANDS.map((c) => c.name)).size, COMMANDS.length, "a name twice");
});

Deno.test("main.ts loads no command before it knows which one runs", async () => {
  const { loaded, dynamic } = await staticallyLoaded("main.ts");
  const ours = [...loaded].filter((s) => s.startsWith("file:")).map((s) =>
    s.replace(/^.*?\/(main\.ts|src\/.*|ffi\/.*)$/, "$1")
  );
  assertEquals(ours.sort(), ["main.ts", "src/cli/common.ts", "src/cli/mod.ts"]);
  for (const f of ["run.ts", "cert.ts", "sign.ts", "control_commands.ts", "dc.ts", "version.ts"]) {
    assert([...dynamic].some((s) => s.endsWith(`/src/cli/${f}`)), `${f} is not imported lazily`);
  }
});

Deno.test("vmesh run loads no other command, no certificate issuance and no HTTP server", async () => {
  const { loaded } = await runCommandGraph();
  const offending = [...loaded].filter((s) =>
    /\/src\/cli\/(cert|sign|dc|control_commands|version)\.ts$/.test(s) ||
    /\/src\/(pki\/issue_x509|http\/mod)\.ts$/.test(s)
  );
  assertEquals(offending, []);
  assert([...loaded].some((s) => s.endsWith("/src/node/run.ts")), "looks at the wrong graph");
});
