/**
 * Node names are compared as DNS names in the session layer: a configured peer name in another
 * case or with a trailing dot is the same node, and a certificate carrying our own name in
 * another case is still "ourselves".
 */
import { assertEquals } from "./_harness/assert.ts";
import { makeTestPki } from "./_harness/pki.ts";
import { startNode, stopAll, waitUntil } from "./session_helpers.ts";

const pki = await makeTestPki();
const a = await pki.issue("a");
const b = await pki.issue("b");
const upperA = await pki.issue("A");

Deno.test("the dialer accepts a peer configured as B.VNET.Test. whose certificate says b.vnet.test", async () => {
  const nb = await startNode(b.identity, pki.trust);
  const configured = { ...nb.asPeer(), name: "B.VNET.Test." };
  const na = await startNode(a.identity, pki.trust, { peers: [configured] });
  try {
    await waitUntil(() => na.up.length === 1, "A's session with B");
    assertEquals(na.up[0].peer.name, "b.vnet.test");
    // The slot knows the session is its own: no second dial, no duplicate refusals.
    await new Promise((r) => setTimeout(r, 600));
    assertEquals(na.up.length, 1);
    assertEquals(na.failures.map((f) => f.reason), []);
  } finally {
    await stopAll(na, nb);
  }
});

Deno.test("a certificate with this node's own name in other letter case is refused as ourselves", async () => {
  const na = await startNode(a.identity, pki.trust);
  const impostor = await startNode(upperA.identity, pki.trust, { peers: [na.asPeer()] });
  try {
    await waitUntil(
      () => na.failures.some((f) => f.reason === "self"),
      "A to refuse 'A.vnet.test'",
    );
    assertEquals(na.up.length, 0);
  } finally {
    await stopAll(na, impostor);
  }
});
