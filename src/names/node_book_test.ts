import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createHash } from "node:crypto";
import { assert, assertEquals } from "../../tests/_harness/assert.ts";
import { makeTestPki, type TestPki } from "../../tests/_harness/pki.ts";
import { issueCertificate, peerIdOf } from "../pki/mod.ts";
import { type AdmitResult, NodeBook, type NodeBookOptions } from "./node_book.ts";

const DAY = 86_400_000;
let pkiOnce: Promise<TestPki> | undefined;
const pki = () => pkiOnce ??= makeTestPki();

async function book(o: Partial<NodeBookOptions> & { t?: { mono: number; wall: number } } = {}) {
  const p = await pki();
  const self = await p.issue("self");
  const t = o.t ?? { mono: 0, wall: Date.now() };
  return {
    p,
    self,
    t,
    book: new NodeBook({
      trust: p.trust,
      identity: self.identity,
      now: () => t.mono,
      wallNow: () => new Date(t.wall),
      ...o,
    }),
  };
}

function refusal(r: AdmitResult): string {
  return r.ok ? "accepted" : r.reason;
}

/** SPKI fingerprint computed independently of our DER parser (as `openssl x509 -pubkey`). */
function spkiOf(der: Uint8Array): string {
  const spki = new x509.X509Certificate(der.slice()).publicKey.rawData;
  return createHash("sha256").update(new Uint8Array(spki)).digest("hex");
}

Deno.test("NodeBook holds this node from the start and admits a node of our CA under its ID", async () => {
  const { p, self, book: b } = await book();
  assertEquals(b.size, 1);
  assertEquals(b.lookup(self.id), { name: self.name, spkiSha256: spkiOf(self.certDer) });
  const d = await p.issue("d");
  const r = await b.admit(d.id, d.certDer);
  assert(r.ok && r.added, refusal(r));
  assertEquals(b.lookup(d.id), { name: "d.vnet.test", spkiSha256: spkiOf(d.certDer) });
  assertEquals(b.get(d.id)?.external, false);
  const again = await b.admit(d.id, d.certDer);
  assert(again.ok && !again.added, "a known ID is not checked again");
  assertEquals(b.stats.added, 1);
});

Deno.test("NodeBook refuses garbage DER, a hash that is not the claimed ID, foreign and expired certificates", async () => {
  const { p, book: b } = await book();
  const d = await p.issue("d");
  const e = await p.issue("e");
  const foreign = await p.foreign.issue("f");
  const cases: [string, Uint8Array, string][] = [
    [d.id, new Uint8Array([0x30, 0x03, 1, 2, 3]), "malformed"],
    [d.id, d.certDer.subarray(0, 100), "malformed"],
    [d.id, e.certDer, "id_mismatch"],
    [foreign.id, foreign.certDer, "not_issued_by_ca"],
    [p.expired.id, p.expired.certDer, "expired"],
  ];
  for (const [id, der, reason] of cases) assertEquals(refusal(await b.admit(id, der)), reason);
  assertEquals(b.size, 1, "nothing refused entered the book");
  assertEquals(b.stats.refused, { malformed: 2, id_mismatch: 1, not_issued_by_ca: 1, expired: 1 });
});

Deno.test("NodeBook refuses a certificate of our CA whose CN is not a node name (escapes, spaces)", async () => {
  const { p, book: b } = await book();
  for (const cn of ["evil\u001b[2J.vnet.test", "two words.vnet.test", "nodot"]) {
    const keys = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
      "sign",
      "verify",
    ]) as CryptoKeyPair;
    const der = await issueCertificate({
      caCertPem: p.ca.certPem,
      caKeyPem: p.ca.keyPem,
      publicKey: keys.publicKey,
      cn,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + DAY),
      extensions: [new x509.BasicConstraintsExtension(false, undefined, true)],
    });
    const r = await b.admit(await peerIdOf(der), der);
    assertEquals(refusal(r), "no_name", cn);
  }
  assertEquals(b.size, 1);
});

Deno.test("NodeBook accepts a pinned external only where it is pinned, and never our own name", async () => {
  const p = await pki();
  const ext = await p.selfSigned("ext.example.org");
  const plain = await book();
  assertEquals(refusal(await plain.book.admit(ext.id, ext.certDer)), "unknown_external");
  const pinned = await book({ trust: await p.trustWith([ext]) });
  const r = await pinned.book.admit(ext.id, ext.certDer);
  assert(r.ok && r.entry.external, refusal(r));
  const twin = await p.issue("self", { days: 20 });
  assertEquals(refusal(await plain.book.admit(twin.id, twin.certDer)), "own_name");
});

Deno.test("NodeBook is capped: a full book evicts only an entry no path uses", async () => {
  const { p, book: b, t } = await book({ maxEntries: 3 });
  const [c, d, e] = [await p.issue("c"), await p.issue("d"), await p.issue("e")];
  assert((await b.admit(c.id, c.certDer)).ok);
  assert((await b.admit(d.id, d.certDer)).ok);
  assertEquals(refusal(await b.admit(e.id, e.certDer)), "full");
  b.sweep(new Set([d.id])); // c leaves every path
  t.mono += 1;
  const r = await b.admit(e.id, e.certDer);
  assert(r.ok, refusal(r));
  assertEquals([b.has(c.id), b.has(d.id), b.has(e.id)], [false, true, true]);
  assertEquals(b.stats.evicted, 1);
});

Deno.test("NodeBook.sweep() drops expired certificates and entries unused for the grace", async () => {
  const t = { mono: 0, wall: Date.now() };
  const { p, self, book: b } = await book({ t, unusedGraceMs: 60_000 });
  const short = await p.issue("short", { days: 2 });
  const d = await p.issue("d");
  assert((await b.admit(short.id, short.certDer)).ok);
  assert((await b.admit(d.id, d.certDer)).ok);
  const all = new Set([short.id, d.id]);
  assertEquals(b.sweep(all), { expired: 0, unused: 0 });
  t.wall += 3 * DAY;
  assertEquals(b.sweep(all), { expired: 1, unused: 0 });
  assert(!b.has(short.id));
  b.sweep(new Set()); // d's grace starts
  t.mono += 59_000;
  assertEquals(b.sweep(new Set()), { expired: 0, unused: 0 });
  b.sweep(new Set([d.id])); // in a path again: the grace is reset
  b.sweep(new Set());
  t.mono += 59_000;
  assertEquals(b.sweep(new Set()), { expired: 0, unused: 0 });
  t.mono += 2_000;
  assertEquals(b.sweep(new Set()), { expired: 0, unused: 1 });
  assertEquals(b.entries().map((e) => e.id), [self.id], "this node's own entry stays");
});

Deno.test("NodeBook revocation seam: lookup, dropWhere and refuseWhen", async () => {
  const { p, book: b } = await book();
  const [c, d] = [await p.issue("c"), await p.issue("d")];
  assert((await b.admit(c.id, c.certDer)).ok);
  assert((await b.admit(d.id, d.certDer)).ok);
  const revoked = new Set([b.lookup(d.id)!.spkiSha256]);
  const isRevoked = (e: { spkiSha256: string }) => revoked.has(e.spkiSha256);
  assertEquals(b.dropWhere(isRevoked), 1);
  assertEquals(b.lookup(d.id), undefined);
  b.refuseWhen(isRevoked);
  assertEquals(refusal(await b.admit(d.id, d.certDer)), "refused");
  assert(b.has(c.id));
  b.refuseWhen(undefined);
  assert((await b.admit(d.id, d.certDer)).ok);
});
