/**
 * Scenario 4: only our CA's certificates join. A node with a certificate from another CA
 * (same CA name, different key) never becomes a peer and its prefix never enters the routes;
 * neither does a node presenting a foreign certificate with a real node's name.
 */
import { assert, assertEquals } from "./_harness/assert.ts";
import { delay } from "./_harness/command.ts";
import { sharedPki } from "./_harness/cli_pki.ts";
import { e2eTest } from "./_harness/e2e.ts";
import { withMesh } from "./_harness/mesh.ts";

await e2eTest(
  "nodes with a foreign CA's certificate, even under a real node's name, are refused",
  async () => {
    const foreign = await sharedPki("foreign", "vnet.test");
    await withMesh({
      nodes: [
        "a",
        "b",
        "c",
        { name: "e", index: 5, pki: foreign },
        // The impostor: a foreign certificate for our node b's name.
        { name: "x", index: 6, pki: foreign, fqdn: "b.vnet.test" },
      ],
      links: [
        { a: "a", b: "b" },
        { a: "a", b: "c" },
        { a: "a", b: "e", dial: "both" },
        { a: "a", b: "x", dial: "b" },
      ],
      label: "ca",
    }, async (mesh) => {
      const [a, b, c, e, x] = ["a", "b", "c", "e", "x"].map((n) => mesh.node(n));
      await mesh.start(["a", "b"]);
      await mesh.waitConverged(["a", "b"]);
      const realB = (await b.status()).node.id;

      // C (ours) is the control: started with the intruders, it must join while they must not.
      await mesh.start(["c", "e", "x"]);
      await a.waitRoutes([c.prefix]);
      const deadline = performance.now() + 3000;
      let polls = 0;
      while (performance.now() < deadline) {
        const st = await a.status();
        // Configured peers are listed while down too; only sessions that are up matter.
        for (const p of st.peers.filter((p) => p.state === "up")) {
          assert(p.name !== e.fqdn, `A lists the foreign node as a peer: ${JSON.stringify(p)}`);
          if (p.name === b.fqdn) {
            assertEquals(p.id, realB, `A accepted the impostor as ${b.fqdn}: ${JSON.stringify(p)}`);
          }
        }
        for (const n of [a, b]) {
          const prefixes = (await n.routes()).map((r) => r.prefix);
          for (const bad of [e.prefix, x.prefix]) {
            assert(!prefixes.includes(bad), `${n.fqdn} has a route to the intruders' ${bad}`);
          }
        }
        polls++;
        await delay(100);
      }
      assert(polls >= 5, "the observation window was too short");
      // The intruders did try: handshakes failed at A and at each of them.
      const failures = async (n: typeof a) => {
        const st = await n.status() as {
          sessions?: { handshakeFailures?: Record<string, number> };
        };
        return Object.values(st.sessions?.handshakeFailures ?? {}).reduce((s, v) => s + v, 0);
      };
      assert((await failures(a)) >= 2, "A saw no refused handshakes: did the intruders dial?");
      for (const intruder of [e, x]) {
        assert((await failures(intruder)) >= 1, `${intruder.name} saw no refused handshake`);
        assert(intruder.running, `${intruder.fqdn} should keep running (and retrying), not exit`);
        const peers = (await intruder.status()).peers;
        const up = peers.filter((p) => p.state === "up");
        assertEquals(up, [], `${intruder.name} has sessions: ${JSON.stringify(up)}`);
      }
    });
  },
);
