/** NodeRevocation with stand-ins for the router, node book and session manager. */
import { assert, assertEquals, assertStringIncludes } from "../../tests/_harness/assert.ts";
import { makeTestPki } from "../../tests/_harness/pki.ts";
import { NO_REVOCATION, type Revocation } from "../dc/mod.ts";
import type { NodeBookEntry } from "../names/mod.ts";
import { keyFingerprint, type VerifiedPeer } from "../pki/mod.ts";
import { KEY_PROBE_MS, MAX_REVOKED_IDS, NodeRevocation } from "./revocation.ts";

const pki = await makeTestPki();
const self = await pki.issue("a");
const peerB = await pki.issue("b");
const bKey = keyFingerprint(peerB.identity.certDer);
const B: VerifiedPeer = {
  id: peerB.identity.id,
  name: peerB.name,
  external: false,
  notAfter: new Date(Date.now() + 86_400_000),
};

function rev(keys: string[] = [], names: string[] = []): Revocation {
  return { keys: new Set(keys), names: new Set(names) };
}

function fixture() {
  const clock = { t: 0 };
  const calls = { setRevoked: [] as number[], changed: 0 };
  let refuse: ((e: NodeBookEntry) => boolean) | undefined;
  const r = new NodeRevocation({
    identity: self.identity,
    router: {
      setRevoked: (ids) => {
        calls.setRevoked.push(ids.size);
        return 0;
      },
    },
    book: { entries: () => [], dropWhere: () => 0, refuseWhen: (p) => refuse = p },
    now: () => clock.t,
    changed: () => calls.changed++,
  });
  const entry = (i: number, name: string, spkiSha256: string) =>
    ({ id: i.toString(16).padStart(64, "0"), name, spkiSha256 }) as NodeBookEntry;
  return { r, clock, calls, bookRefuses: (e: NodeBookEntry) => refuse!(e), entry };
}

Deno.test("a peer with a revoked key is refused and its last key holds its dial back, with a probe every 10 minutes", () => {
  const { r, clock } = fixture();
  assertEquals(r.refusePeer(B, bKey), undefined, "nothing revoked yet");
  assertEquals(r.holdDial(B.name), undefined);
  r.apply(rev([bKey]), new Date("2026-01-01T00:00:00Z"));
  // Its last certificate seen had the key: counts as just tried.
  assertStringIncludes(r.holdDial("B.vnet.test.")!, "key of its last certificate");
  clock.t += KEY_PROBE_MS;
  assertEquals(r.holdDial(B.name), undefined, "one attempt after 10 minutes");
  assertStringIncludes(r.refusePeer(B, bKey)!, "b.vnet.test is revoked: its key");
  assert(r.holdDial(B.name) !== undefined, "held again after the refusal");
  assert(r.revokedIds.has(B.id));
  // A new certificate (another key) under the name is accepted.
  assertEquals(r.refusePeer(B, "00".repeat(32)), undefined);
  assertEquals(r.holdDial(B.name), undefined);
});

Deno.test("a revoked name is never dialled; lifting the revocation releases it", () => {
  const { r } = fixture();
  r.apply(rev([], ["b.vnet.test"]), new Date());
  assertStringIncludes(r.holdDial("B.VNET.test")!, "its name is revoked");
  assertStringIncludes(r.refusePeer(B, bKey)!, 'the name "b.vnet.test" is revoked');
  r.apply(NO_REVOCATION, new Date());
  assertEquals(r.holdDial(B.name), undefined);
  assertEquals(r.refusePeer(B, bKey), undefined);
  assertEquals(r.revokedIds.size, 0);
});

Deno.test("this node's own key revoked: everyone is refused and nobody dialled", () => {
  const { r } = fixture();
  r.apply(rev([keyFingerprint(self.identity.certDer)]), new Date());
  assertStringIncludes(r.ownRevoked!, "is revoked by the DC");
  assertStringIncludes(r.refusePeer(B, bKey)!, "this node itself is revoked");
  assertStringIncludes(r.holdDial(B.name)!, "this node itself is revoked");
  r.apply(NO_REVOCATION, new Date());
  assertEquals(r.ownRevoked, undefined);
});

Deno.test("the node book's revoked certificates go to the router, at most MAX_REVOKED_IDS of them", () => {
  const { r, calls, bookRefuses, entry } = fixture();
  r.apply(rev(["ab".repeat(32)], ["c.vnet.test"]), new Date());
  assertEquals(bookRefuses(entry(1, "d.vnet.test", "cd".repeat(32))), false);
  assert(bookRefuses(entry(2, "C.vnet.test", "cd".repeat(32))));
  assert(bookRefuses(entry(3, "e.vnet.test", "ab".repeat(32))));
  assertEquals(r.revokedIds.size, 2);
  assertEquals(calls.setRevoked.at(-1), 2);
  for (let i = 10; i < MAX_REVOKED_IDS + 20; i++) bookRefuses(entry(i, "c.vnet.test", "00"));
  assertEquals(r.revokedIds.size, MAX_REVOKED_IDS);
  assertEquals(r.stats.idsOverLimit, 2 + MAX_REVOKED_IDS + 10 - MAX_REVOKED_IDS);
});

Deno.test("revoked IDs dropped from the book stay revoked under a newer DC that still revokes them", () => {
  const { r, bookRefuses, entry } = fixture();
  r.apply(rev([], ["c.vnet.test", "d.vnet.test"]), new Date());
  assert(bookRefuses(entry(2, "c.vnet.test", "cd".repeat(32))));
  assert(bookRefuses(entry(3, "d.vnet.test", "ef".repeat(32))));
  r.apply(rev(["cd".repeat(32)], []), new Date()); // c by its key now; d no longer
  assertEquals([...r.revokedIds], [entry(2, "", "").id]);
  r.apply(NO_REVOCATION, new Date());
  assertEquals(r.revokedIds.size, 0);
});
