/**
 * Scenario 5: `vmesh run --drop-permissions` keeps forwarding after switching to nobody.
 */
import { assert, assertEquals } from "./_harness/assert.ts";
import { runOk } from "./_harness/command.ts";
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
