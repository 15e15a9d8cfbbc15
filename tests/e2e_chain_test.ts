/**
 * Scenario 1: a chain A–B–C. A reaches C only through B: ping and a TCP transfer cross the
 * mesh, and every node exits 0 on SIGTERM and removes its TUN.
 */
import { assert, assertEquals } from "./_harness/assert.ts";
import { waitFor } from "./_harness/command.ts";
import { e2eTest } from "./_harness/e2e.ts";
import { TUN_NAME, withMesh } from "./_harness/mesh.ts";
import { ping } from "./_harness/ping.ts";
import { checkedTransfer } from "./_harness/transfer.ts";

await e2eTest(
  "a chain A–B–C carries ping and a 10 MiB TCP transfer from A to C through B",
  async () => {
    await withMesh(
      { nodes: ["a", "b", "c"], links: [["a", "b"], ["b", "c"]], label: "chain" },
      async (mesh) => {
        const [a, b, c] = ["a", "b", "c"].map((n) => mesh.node(n));
        const t0 = performance.now();
        await mesh.start();
        const ready = performance.now() - t0;
        await waitFor("the first echo reply from C to A", async () => {
          return (await ping(a.ns, c.address, { count: 1, waitS: 0.2 })).received === 1;
        }, { timeoutMs: 30_000, intervalMs: 0 });
        const first = performance.now() - t0;
        console.log(
          `chain: control sockets up ${ready.toFixed(0)} ms after start; first reply A→C ` +
            `${first.toFixed(0)} ms after start (${(first - ready).toFixed(0)} ms after ready)`,
        );

        const route = await a.route(c.prefix);
        assert(route, `A has no route to ${c.prefix}`);
        assert(
          await a.routeVia(route, b),
          `A's route to C should go through B: ${JSON.stringify(route)}`,
        );
        const r = await ping(a.ns, c.address, { count: 5, intervalS: 0.05 });
        assertEquals(r.received, 5, r.output);

        const bBefore = await b.ns.counters("to-c");
        const t = await checkedTransfer(
          a.ns,
          c.ns,
          c.address,
          10 * 1024 * 1024,
          `${mesh.dir}/sink.log`,
        );
        assert(t.ok, `the transfer A→C lost or changed data: ${JSON.stringify(t)}`);
        console.log(`chain: 10 MiB A→C through B, checked, at ${t.mbps} Mbit/s`);
        const bAfter = await b.ns.counters("to-c");
        assert(
          bAfter.txBytes - bBefore.txBytes >= 10 * 1024 * 1024,
          "the transfer did not cross B's link to C",
        );

        for (const n of [a, b, c]) {
          const stopped = await n.stop();
          assert(stopped, `${n.name} was not running`);
          assertEquals(
            stopped.status.code,
            0,
            `${n.fqdn} exit status on SIGTERM\n${await n.log()}`,
          );
          assert(!stopped.killed, `${n.fqdn} needed SIGKILL`);
          assert(
            stopped.ms < 2500,
            `${n.fqdn} took ${stopped.ms.toFixed(0)} ms to exit on SIGTERM`,
          );
          const ifs = await n.ns.interfaces();
          assert(!ifs.includes(TUN_NAME), `${n.fqdn} left ${TUN_NAME} behind`);
        }
      },
    );
  },
  { programs: ["ip", "ping", "iperf3", "ss"] },
);
