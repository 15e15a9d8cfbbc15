import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/_harness/assert.ts";
import { makeTestPki } from "../../tests/_harness/pki.ts";
import { verifyCertificateSignature } from "./signature.ts";
import {
  CertificateError,
  certificateNames,
  createCa,
  domainOf,
  identityFromPem,
  isInDomain,
  issueNodeCertificate,
  parseCertificate,
  pemCertificates,
  trustStoreFromPem,
  verifyPeerCertificate,
} from "./mod.ts";

const pki = await makeTestPki();
const opts = () => ({ now: new Date(), localDomain: pki.domain });

async function reason(p: Promise<unknown>): Promise<string> {
  const e = await assertRejects(() => p, CertificateError);
  return (e as CertificateError).reason;
}

Deno.test("domainOf() drops the first label", () => {
  assertEquals(domainOf("a.vnet.example.com"), "vnet.example.com");
  assertEquals(domainOf("A.Vnet.Test"), "vnet.test");
  assertEquals(domainOf("nodot"), "");
  assertEquals(domainOf("trailing."), "");
});

Deno.test("isInDomain() matches the domain and names below it only", () => {
  assert(isInDomain("a.vnet.test", "vnet.test"));
  assert(isInDomain("vnet.test", "vnet.test"));
  assert(isInDomain("x.y.VNET.test", "vnet.test"));
  assert(!isInDomain("a.othervnet.test", "vnet.test"));
  assert(!isInDomain("a.vnet.test", ""));
});

Deno.test("isInDomain() ignores any number of trailing dots on the name and the domain", () => {
  assert(isInDomain("a.vnet.test.", "vnet.test"));
  assert(isInDomain("a.vnet.test..", "vnet.test"));
  assert(isInDomain("VNET.test...", "vnet.test."));
  assert(!isInDomain("a.othervnet.test..", "vnet.test"));
  assert(!isInDomain("a.vnet.test", "."));
});

Deno.test("verifyPeerCertificate() accepts a node certificate issued by our CA", async () => {
  const a = await pki.issue("a");
  const v = await verifyPeerCertificate(a.certDer, pki.trust, opts());
  assertEquals(v.id, a.id);
  assertEquals(v.name, "a.vnet.test");
  assertEquals(v.external, false);
});

Deno.test("verifyPeerCertificate() accepts ECDSA P-256 certificates", async () => {
  const p = await makeTestPki({ algorithm: "ecdsa-p256" });
  const a = await p.issue("a");
  const v = await verifyPeerCertificate(a.certDer, p.trust, {
    now: new Date(),
    localDomain: p.domain,
  });
  assertEquals(v.external, false);
});

Deno.test("verifyPeerCertificate() refuses a certificate from a foreign CA", async () => {
  const b = await pki.foreign.issue("b");
  assertEquals(
    await reason(verifyPeerCertificate(b.certDer, pki.trust, opts())),
    "not_issued_by_ca",
  );
});

Deno.test("verifyPeerCertificate() refuses a CA impostor with the same name (bad signature)", async () => {
  const impostor = await createCa({ name: pki.domain });
  const c = await issueNodeCertificate({
    caCertPem: impostor.certPem,
    caKeyPem: impostor.keyPem,
    name: "evil.vnet.test",
  });
  const der = parseDer(c.certPem);
  assertEquals(await reason(verifyPeerCertificate(der, pki.trust, opts())), "bad_signature");
});

Deno.test("verifyPeerCertificate() refuses an expired certificate and a not-yet-valid one", async () => {
  assertEquals(
    await reason(verifyPeerCertificate(pki.expired.certDer, pki.trust, opts())),
    "expired",
  );
  const a = await pki.issue("a");
  const past = new Date(Date.now() - 3600_000);
  assertEquals(
    await reason(
      verifyPeerCertificate(a.certDer, pki.trust, { now: past, localDomain: pki.domain }),
    ),
    "not_yet_valid",
  );
});

Deno.test("verifyPeerCertificate() refuses when the CA itself has expired", async () => {
  const a = await pki.issue("a", { days: 5000 });
  const later = new Date(Date.now() + 3700 * 86_400_000);
  const e = await assertRejects(
    () => verifyPeerCertificate(a.certDer, pki.trust, { now: later, localDomain: pki.domain }),
    CertificateError,
    "CA certificate",
  );
  assertEquals((e as CertificateError).reason, "expired");
});

Deno.test("verifyPeerCertificate() refuses a tampered signature and tampered contents", async () => {
  const a = await pki.issue("a");
  const sig = a.certDer.slice();
  sig[sig.length - 1] ^= 1;
  assertEquals(await reason(verifyPeerCertificate(sig, pki.trust, opts())), "bad_signature");
  // Change one byte of the CN inside the signed part.
  const body = a.certDer.slice();
  const at = findBytes(body, new TextEncoder().encode("a.vnet.test"));
  body[at] = "b".charCodeAt(0);
  assertEquals(await reason(verifyPeerCertificate(body, pki.trust, opts())), "bad_signature");
});

Deno.test("verifyPeerCertificate() refuses malformed DER, whatever the bytes", async () => {
  const a = await pki.issue("a");
  const cases = [
    new Uint8Array(0),
    new Uint8Array([0x30]),
    new Uint8Array([0x30, 0x80, 0, 0]),
    a.certDer.subarray(0, a.certDer.length - 1),
    new Uint8Array([...a.certDer, 0]),
    crypto.getRandomValues(new Uint8Array(300)),
  ];
  for (const der of cases) {
    assertEquals(await reason(verifyPeerCertificate(der, pki.trust, opts())), "malformed");
  }
  // Every truncation fails closed with a CertificateError.
  for (let n = 0; n < a.certDer.length; n += 7) {
    await assertRejects(
      () => verifyPeerCertificate(a.certDer.subarray(0, n), pki.trust, opts()),
      CertificateError,
    );
  }
});

Deno.test("verifyPeerCertificate() accepts a pinned external certificate outside our domain", async () => {
  const ext = await pki.selfSigned("x.partner.example");
  const trust = await pki.trustWith([ext]);
  const v = await verifyPeerCertificate(ext.certDer, trust, opts());
  assertEquals(v, { id: ext.id, name: "x.partner.example", external: true, notAfter: v.notAfter });
  // Not pinned: refused.
  assertEquals(
    await reason(verifyPeerCertificate(ext.certDer, pki.trust, opts())),
    "unknown_external",
  );
});

Deno.test("verifyPeerCertificate() refuses a pinned external certificate inside our domain", async () => {
  for (const name of ["z.vnet.test", "vnet.test", "Deep.Z.VNET.test", "z.vnet.test.."]) {
    const ext = await pki.selfSigned(name);
    const trust = await pki.trustWith([ext]);
    assertEquals(
      await reason(verifyPeerCertificate(ext.certDer, trust, opts())),
      "external_in_own_domain",
    );
  }
});

Deno.test("verifyPeerCertificate() accepts a foreign CA's node when pinned", async () => {
  const b = await pki.foreign.issue("b");
  const trust = await pki.trustWith([b]);
  const v = await verifyPeerCertificate(b.certDer, trust, opts());
  assertEquals(v.external, true);
});

Deno.test("verifyPeerCertificate() refuses an expired pinned certificate", async () => {
  const ext = await pki.selfSigned("x.partner.example", {
    now: new Date(Date.now() - 40 * 86_400_000),
  });
  const trust = await pki.trustWith([ext]);
  assertEquals(await reason(verifyPeerCertificate(ext.certDer, trust, opts())), "expired");
});

Deno.test("verifyPeerCertificate() refuses the CA certificate presented as a node", async () => {
  const der = parseDer(pki.ca.certPem);
  assertEquals(await reason(verifyPeerCertificate(der, pki.trust, opts())), "not_issued_by_ca");
});

Deno.test("identityFromPem() builds our identity and checks the key", async () => {
  const a = await pki.issue("a");
  const b = await pki.issue("b");
  const id = await identityFromPem(a.certPem, a.keyPem, pki.trust);
  assertEquals(id.name, "a.vnet.test");
  assertEquals(id.domain, "vnet.test");
  assertEquals(id.id, a.id);
  assert(id.keyPem.startsWith("-----BEGIN PRIVATE KEY-----"));
  assertEquals(await reason(identityFromPem(a.certPem, b.keyPem, pki.trust)), "key_mismatch");
  assertEquals(await reason(identityFromPem(a.certPem, "garbage", pki.trust)), "bad_key");
  assertEquals(await reason(identityFromPem("garbage", a.keyPem, pki.trust)), "malformed");
  const f = await pki.foreign.issue("f");
  assertEquals(await reason(identityFromPem(f.certPem, f.keyPem, pki.trust)), "not_issued_by_ca");
  assertEquals(
    await reason(identityFromPem(pki.expired.certPem, pki.expired.keyPem, pki.trust)),
    "expired",
  );
});

Deno.test("loadIdentity() and loadTrustStore() read files and name them in errors", async () => {
  const { loadIdentity, loadTrustStore } = await import("./mod.ts");
  const a = await pki.issue("a");
  const ext = await pki.selfSigned("x.partner.example");
  const files = await pki.writeFiles([a, ext]);
  try {
    const trust = await loadTrustStore(files.caCert, [files.cert(ext.name)]);
    assertEquals([...trust.externalIds], [ext.id]);
    assertEquals(trust.caName, "vnet.test");
    const id = await loadIdentity(files.cert(a.name), files.key(a.name), trust);
    assertEquals(id.id, a.id);
    const e = await assertRejects(
      () => loadTrustStore(`${files.dir}/missing.crt`, []),
      CertificateError,
      "missing.crt",
    );
    assertEquals((e as CertificateError).reason, "unreadable");
  } finally {
    await Deno.remove(files.dir, { recursive: true });
  }
});

Deno.test("issueNodeCertificate() writes CN, SAN DNS, CA:FALSE and refuses bad names", async () => {
  const a = await pki.issue("a");
  const c = parseCertificate(a.certDer);
  assertEquals(c.version, 3);
  assertEquals(c.cn, "a.vnet.test");
  assertEquals(c.dnsSans, ["a.vnet.test"]);
  assertEquals(c.basicConstraints, { ca: false, critical: true });
  assertEquals(certificateNames(a.certDer), { cn: "a.vnet.test", dnsSans: ["a.vnet.test"] });
  for (const bad of ["nodot", "a b.test", "-a.test", ""]) {
    await assertRejects(
      () => issueNodeCertificate({ caCertPem: pki.ca.certPem, caKeyPem: pki.ca.keyPem, name: bad }),
      TypeError,
    );
  }
  // A node key cannot act as the CA key.
  await assertRejects(
    () =>
      issueNodeCertificate({ caCertPem: pki.ca.certPem, caKeyPem: a.keyPem, name: "c.vnet.test" }),
    CertificateError,
  );
});

Deno.test("trustStoreFromPem() refuses a node certificate as CA and garbage", async () => {
  const a = await pki.issue("a");
  const e = await assertRejects(() => trustStoreFromPem(a.certPem), CertificateError);
  assertEquals((e as CertificateError).reason, "ca_not_a_ca");
  const g = await assertRejects(() => trustStoreFromPem("nothing here"), CertificateError);
  assertEquals((g as CertificateError).reason, "malformed");
  assertThrows(() => certificateNames(new Uint8Array([1, 2, 3])), CertificateError);
});

function parseDer(pem: string): Uint8Array {
  const body = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  return Uint8Array.fromBase64(body);
}

function findBytes(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error("not found");
}

Deno.test("an ECDSA signature whose integers are not minimally encoded is refused", async () => {
  const ca = await createCa({ name: "vnet.test", algorithm: "ecdsa-p256" });
  const caCert = parseCertificate(pemCertificates(ca.certPem)[0]);
  let checked = 0;
  // A signature whose r has its high bit clear can be padded with a zero byte and still be
  // the same number: DER forbids that, and accepting it would make the certificate malleable.
  for (let i = 0; i < 20 && checked < 3; i++) {
    const node = await issueNodeCertificate({
      caCertPem: ca.certPem,
      caKeyPem: ca.keyPem,
      name: "a.vnet.test",
      algorithm: "ecdsa-p256",
    });
    const cert = parseCertificate(pemCertificates(node.certPem)[0]);
    const s = cert.signature; // SEQUENCE { INTEGER r, INTEGER s }, short lengths for P-256
    const rLen = s[3];
    if (s[4] === 0 || (s[4] & 0x80) !== 0) continue;
    const padded = new Uint8Array([
      0x30,
      s[1] + 1,
      0x02,
      rLen + 1,
      0x00,
      ...s.subarray(4),
    ]);
    assertEquals(await verifyCertificateSignature(cert, caCert), true);
    const tampered = { ...cert, signature: padded };
    assertEquals(
      await verifyCertificateSignature(tampered, caCert).catch(() => false),
      false,
      "a zero-padded r must not verify",
    );
    checked++;
  }
  assert(checked > 0, "no signature with a small r in 20 tries");
});
