/**
 * `vmesh dc apply`: a signed DC handed to a running node over its control socket.
 */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "./_harness/assert.ts";
import { run } from "./_harness/command.ts";
import { NodeMesh, runInProcess, waitUntil } from "./_harness/node_harness.ts";
import { makeTestPki } from "./_harness/pki.ts";
import { REPO_ROOT, vmeshArgv } from "./_harness/vmesh_cli.ts";
import { ControlError, controlRequest } from "../src/node/control.ts";
import { signDc } from "../src/dc/mod.ts";

const MINUTE = 60_000;

function cli(args: string[]) {
  return run(vmeshArgv(args), { cwd: REPO_ROOT, env: { NO_COLOR: "1" }, timeoutMs: 30_000 });
}

Deno.test("vmesh dc apply hands a newer DC to a running node, which enforces, persists and passes it on; invalid, foreign and older DCs are refused by name", async () => {
  const mesh = await NodeMesh.create();
  let s: Awaited<ReturnType<typeof runInProcess>> | undefined;
  try {
    const b = await mesh.start("b", 2);
    s = await runInProcess(mesh, "s", 5, { peers: [b] });
    await mesh.waitRoute(b, "fd00:5::/48");
    const apply = (raw: Uint8Array) =>
      controlRequest(s!.socket, "dc-apply", { dc: raw.toBase64() });
    const refused = async (raw: Uint8Array, why: string) => {
      const e = await assertRejects(() => apply(raw), ControlError);
      assertStringIncludes(e.message, why);
    };

    // A newer DC, by the CLI: applied, enforced (B's fd00:2::/48 is not allowed), passed to B.
    const first = await mesh.signDc(
      { prefix_whitelist: { "b.vnet.test": ["fd00:99::/48"] } },
      new Date(Date.now() - 2 * MINUTE),
    );
    await Deno.writeFile(`${mesh.dir}/first.bin`, first);
    const r = await cli(["dc", "apply", `${mesh.dir}/first.bin`, "--control", s.socket]);
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, "applied: DC signed ");
    await waitUntil(() => b.node.dc.current !== undefined, "B to get the DC from s");
    const current = await controlRequest(s.socket, "dc") as Record<string, unknown>;
    const prefixes = async () =>
      (await controlRequest(s!.socket, "routes") as { prefix: string }[]).map((x) => x.prefix);
    await waitUntil(async () => !(await prefixes()).includes("fd00:2::/48"), "s to drop B's /48");
    assertEquals(current.content_sha256, b.node.dc.current!.contentHash);
    await waitUntil(
      () => Deno.readFile(`${mesh.dir}/s/state/dc.bin`).then((f) => f.length > 0, () => false),
      "s to persist the DC",
    );

    // The same DC again, an older one.
    await refused(first, "already runs this DC");
    const older = await mesh.signDc({ prefix_whitelist: {} }, new Date(Date.now() - 10 * MINUTE));
    await refused(older, "not newer than the one in force");
    // Another CA's DC.
    const other = await makeTestPki({ domain: "other.test" });
    const foreign = (await signDc({
      caCertPem: other.ca.certPem,
      caKeyPem: other.ca.keyPem,
      content: new TextEncoder().encode("{}"),
    })).bytes;
    await refused(foreign, "not signed by this mesh's CA");
    // Tampered content, garbage, no DC at all.
    const tampered = first.slice();
    tampered[tampered.length - 3] ^= 1;
    await refused(tampered, "the DC is invalid");
    await refused(crypto.getRandomValues(new Uint8Array(200)), "the DC is invalid");
    await assertRejects(() => controlRequest(s!.socket, "dc-apply", {}), ControlError, "no DC");
    await assertRejects(
      () => controlRequest(s!.socket, "dc-apply", { dc: "%%%" }),
      ControlError,
      "not valid base64",
    );
    // The CLI exits 1 with the node's reason.
    await Deno.writeFile(`${mesh.dir}/older.bin`, older);
    const r2 = await cli(["dc", "apply", `${mesh.dir}/older.bin`, "--control", s.socket]);
    assertEquals(r2.code, 1);
    assertStringIncludes(r2.stderr, "not newer");
    // None of this changed the DC in force.
    const after = await controlRequest(s.socket, "dc") as Record<string, unknown>;
    assertEquals(after.content_sha256, current.content_sha256);
    assert(b.node.dc.stats.accepted === 1);
  } finally {
    await s?.stop();
    await mesh.close();
  }
});
