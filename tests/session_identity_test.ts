/**
 * One node, one session: two certificates that name one node (a second certificate the CA
 * issued for the name, or a re-signed twin of one certificate) never hold two sessions with a
 * peer at the same time, so they cannot multiply that node's route quota.
 */
import { assert, assertEquals } from "./_harness/assert.ts";
import { makeTestPki, type TestNode as TestCert } from "./_harness/pki.ts";
import { children, concatBytes, encodeTlv, readSingle, Tag } from "../src/pki/der.ts";
import { encodePem, identityFromPem, type NodeIdentity } from "../src/pki/mod.ts";
import { startNode, stopAll, type TestNode, waitUntil } from "./session_helpers.ts";

const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** The certificate with its P-256 signature (r, s) replaced by (r, n − s). */
function twinDer(der: Uint8Array): Uint8Array {
  const [tbs, alg, bits] = children(readSingle(der, Tag.SEQUENCE));
  const [r, s] = children(readSingle(bits.value.subarray(1), Tag.SEQUENCE));
  let hex = (P256_N - BigInt("0x" + s.value.toHex())).toString(16);
  if (hex.length % 2) hex = "0" + hex;
  let v: Uint8Array = Uint8Array.fromHex(hex);
  if (v[0] & 0x80) v = concatBytes(new Uint8Array([0]), v);
  const sig = encodeTlv(Tag.SEQUENCE, concatBytes(r.raw, encodeTlv(Tag.INTEGER, v)));
  const newBits = encodeTlv(Tag.BIT_STRING, concatBytes(new Uint8Array([0]), sig));
  return encodeTlv(Tag.SEQUENCE, concatBytes(tbs.raw, alg.raw, newBits));
}

/**
 * A listens; `first` dials A and its session comes up; then `second` dials A too. Returns the
 * most sessions A ever held at once with the node name, and the IDs A saw.
 */
async function race(
  a: NodeIdentity,
  first: NodeIdentity,
  second: NodeIdentity,
  trust: Parameters<typeof startNode>[1],
): Promise<{ most: number; ids: Set<string> }> {
  const na = await startNode(a, trust);
  let most = 0;
  const ids = new Set<string>();
  const record = na.mgr.onSessionUp;
  na.mgr.onSessionUp = (s) => {
    record?.(s);
    ids.add(s.peer.id);
    const named = na.mgr.sessions().filter((o) => o.peer.name === first.name).length;
    most = Math.max(most, named);
  };
  let n1: TestNode | undefined, n2: TestNode | undefined;
  try {
    n1 = await startNode(first, trust, { peers: [na.asPeer()] });
    await waitUntil(() => na.up.length === 1, "the first session up");
    n2 = await startNode(second, trust, { peers: [na.asPeer()] });
    await waitUntil(() => na.up.length >= 2, "the second certificate's session up");
    await new Promise((r) => setTimeout(r, 300)); // let redials race a little
  } finally {
    await stopAll(n1, n2, na);
  }
  return { most, ids };
}

Deno.test("two certificates the CA issued for one node name never hold two sessions at once", async () => {
  const pki = await makeTestPki();
  const a = await pki.issue("a");
  const b1: TestCert = await pki.issue("b");
  const b2: TestCert = await pki.issue("b"); // a second key and certificate for b's name
  assert(b1.identity.id !== b2.identity.id);
  const { most, ids } = await race(a.identity, b1.identity, b2.identity, pki.trust);
  assertEquals(ids.size, 2, "both certificates authenticated");
  assertEquals(most, 1, "at most one session with b.vnet.test at a time");
});

Deno.test("a re-signed twin of an ECDSA certificate is the same peer, with one session", async () => {
  const pki = await makeTestPki({ algorithm: "ecdsa-p256" });
  const a = await pki.issue("a");
  const b = await pki.issue("b");
  const twinPem = encodePem("CERTIFICATE", twinDer(b.certDer));
  const twin = await identityFromPem(twinPem, b.keyPem, pki.trust);
  assertEquals(twin.id, b.identity.id, "the twin has the original's ID");
  const { most, ids } = await race(a.identity, b.identity, twin, pki.trust);
  assertEquals([...ids], [b.identity.id]);
  assertEquals(most, 1);
});
