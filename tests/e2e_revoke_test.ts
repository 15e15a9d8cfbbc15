/**
 * Revocation in the DC, end to end: the chain A–B–C is up; B is restarted with a DC (signed
 * by the mesh CA with `vmesh sign`, newer than anything before) that revokes C's key, taken
 * with `vmesh cert fingerprint`. B refuses C after the TLS handshake (reason "revoked" in its
 * log and status) in both directions, stops dialling C, and A loses its route to C while it
 * keeps B.
 */
import { assert, assertEquals, assertStringIncludes } from "./_harness/assert.ts";
import { waitFor } from "./_harness/command.ts";
import { e2eTest } from "./_harness/e2e.ts";
import { withMesh } from "./_harness/mesh.ts";
import { vmesh } from "./_harness/vmesh_cli.ts";

interface RevocationStatus {
  revokedKeys: number;
  revokedNodes: string[];
  ownRevoked: string | null;
}

await e2eTest(
  "B restarted with a DC revoking C's key refuses C; A loses C and keeps B",
  async () => {
    await withMesh({
      nodes: ["a", "b", "c"],
      // B and C both dial each other: B must refuse C's connections and stop making its own.
      links: [["a", "b"], { a: "b", b: "c", dial: "both" }],
      label: "revoke",
    }, async (mesh) => {
      const [a, b, c] = ["a", "b", "c"].map((n) => mesh.node(n));
      await mesh.start();
      await mesh.waitConverged();
      const cId = await c.id();

      const cCert = (await mesh.pki.node(c.fqdn)).crt;
      const cKey = (await vmesh(["cert", "fingerprint", cCert])).trim();
      assertEquals(cKey.length, 64, cKey);
      const dcFile = await mesh.pki.signDc(
        { prefix_whitelist: {}, revoked_keys: [cKey] },
        `dc-${mesh.tag}`,
      );

      const stopped = await b.stop();
      assertEquals(stopped?.status.code, 0, `B's exit status on SIGTERM\n${await b.log()}`);
      await b.start({ initialDc: dcFile });

      // A comes back to B and keeps it; C's prefix leaves A's table.
      await a.waitRoutes([b.prefix], 30_000);
      await waitFor(
        "A to lose its route to C",
        async () => (await a.route(c.prefix)) === undefined,
        { timeoutMs: 30_000 },
      );
      // B refuses C: counted as a handshake failure "revoked", logged with the reason.
      const st = await waitFor("B to refuse C as revoked", async () => {
        const s = await b.status() as unknown as {
          sessions: { handshakeFailures: Record<string, number> };
          revocation: RevocationStatus;
        };
        return (s.sessions.handshakeFailures.revoked ?? 0) >= 2 ? s : false;
      }, { timeoutMs: 30_000 });
      assertEquals(st.revocation.revokedKeys, 1);
      assertEquals(st.revocation.revokedNodes, [cId]);
      assertEquals(st.revocation.ownRevoked, null);
      const log = await b.log();
      assertStringIncludes(log, `${c.fqdn} is revoked: its key ${cKey.slice(0, 16)}`);
      assertStringIncludes(log, "refused connection from");
      // B's own dial to C was refused once; since then B holds it back.
      await waitFor("B to stop dialling C", async () => {
        const s = await b.status();
        const p = s.peers.find((x) => x.name === c.fqdn);
        return typeof p?.notDialled === "string" && p.notDialled.includes("revoked");
      }, { timeoutMs: 30_000 });
      assertStringIncludes(await b.log(), `not dialling ${c.fqdn}`);

      // Nothing of C comes back; A still reaches B, and got the DC from B.
      await new Promise((r) => setTimeout(r, 2000));
      assertEquals(await a.route(c.prefix), undefined, "A got C's route back");
      assert((await b.status()).peers.every((p) => p.name !== c.fqdn || p.state !== "up"));
      assertEquals((await a.dc())?.content_sha256, (await b.dc())?.content_sha256);
      const aStatus = await a.status() as unknown as { revocation: RevocationStatus };
      assertEquals(aStatus.revocation.revokedKeys, 1);
    });
  },
);
