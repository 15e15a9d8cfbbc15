/**
 * External peers in sibling domains: a pinned certificate named inside any domain our CA
 * issues for is refused, not only one inside this node's own domain.
 */
import { assertEquals, assertRejects } from "../../tests/_harness/assert.ts";
import { type OpensslDir, opensslTest } from "../../tests/_harness/openssl.ts";
import {
  CertificateError,
  meshDomainsOf,
  pemCertificates,
  trustStoreFromPem,
  verifyPeerCertificate,
} from "./mod.ts";

/** This node is a.eu.example.net; the mesh spans eu.example.net and us.example.net. */
const LOCAL = "eu.example.net";

async function reason(p: Promise<unknown>): Promise<string> {
  return ((await assertRejects(() => p, CertificateError)) as CertificateError).reason;
}

/** Verifies pinned self-signed certificate `ext` (made with `openssl req -x509`). */
async function pinned(o: OpensslDir, ext: string) {
  const pem = await o.read(`${ext}.crt`);
  const trust = await trustStoreFromPem(await o.read("ca.crt"), [pem]);
  const der = pemCertificates(pem)[0];
  return await verifyPeerCertificate(der, trust, { now: new Date(), localDomain: LOCAL });
}

async function externals(o: OpensslDir) {
  await o.caV3("sibling", "p256", "b.us.example.net", ["subjectAltName=DNS:b.us.example.net"]);
  await o.caV3("san", "p256", "x.partner.org", ["subjectAltName=DNS:b.us.example.net"]);
  await o.caV3("partner", "p256", "x.partner.org", ["subjectAltName=DNS:x.partner.org"]);
  await o.caV3("own", "p256", "c.eu.example.net");
}

opensslTest(
  "a pinned external named in a sibling domain of the CA's nameConstraints is refused",
  async (o) => {
    await o.caV3("ca", "p256", "Example mesh CA", [
      "nameConstraints=critical,permitted;DNS:eu.example.net,permitted;DNS:us.example.net",
    ]);
    await externals(o);
    const trust = await trustStoreFromPem(await o.read("ca.crt"));
    assertEquals(meshDomainsOf(trust).sort(), ["eu.example.net", "us.example.net"]);
    assertEquals(await reason(pinned(o, "sibling")), "external_in_mesh_domain");
    assertEquals(await reason(pinned(o, "san")), "external_in_mesh_domain");
    assertEquals(await reason(pinned(o, "own")), "external_in_own_domain");
    const ok = await pinned(o, "partner");
    assertEquals([ok.name, ok.external], ["x.partner.org", true]);
  },
);

opensslTest(
  "a pinned external named under the CA's own domain name (its CN) is refused",
  async (o) => {
    await o.caV1("ca", "p256", "example.net"); // as the Go vmesh's scripts: CN = mesh domain
    await externals(o);
    const trust = await trustStoreFromPem(await o.read("ca.crt"));
    assertEquals(meshDomainsOf(trust), ["example.net"]);
    assertEquals(await reason(pinned(o, "sibling")), "external_in_mesh_domain");
    assertEquals(await reason(pinned(o, "san")), "external_in_mesh_domain");
    assertEquals((await pinned(o, "partner")).name, "x.partner.org");
  },
);

opensslTest("a CA named with text that is not a domain adds no mesh domain", async (o) => {
  await o.caV1("ca", "p256", "Example mesh CA");
  const trust = await trustStoreFromPem(await o.read("ca.crt"));
  assertEquals(meshDomainsOf(trust), []);
});
