/**
 * Roles do not mix, and the CA's own constraints are honoured. Certificates made with openssl,
 * as operators make them.
 */
import { assertEquals, assertRejects } from "../../tests/_harness/assert.ts";
import { type OpensslDir, opensslTest } from "../../tests/_harness/openssl.ts";
import {
  CertificateError,
  identityFromPem,
  pemCertificates,
  trustStoreFromPem,
  verifyPeerCertificate,
} from "./mod.ts";

const DOMAIN = "eu.example.net";

async function reason(p: Promise<unknown>): Promise<string> {
  return ((await assertRejects(() => p, CertificateError)) as CertificateError).reason;
}

async function peer(o: OpensslDir, ca: string, node: string, localDomain = DOMAIN) {
  const trust = await trustStoreFromPem(await o.read(`${ca}.crt`));
  const der = pemCertificates(await o.read(`${node}.crt`))[0];
  return await verifyPeerCertificate(der, trust, { now: new Date(), localDomain });
}

async function own(o: OpensslDir, ca: string, node: string) {
  const trust = await trustStoreFromPem(await o.read(`${ca}.crt`));
  return await identityFromPem(await o.read(`${node}.crt`), await o.read(`${node}.key`), trust);
}

opensslTest("a certificate carrying a vnet-conf:// URI is not accepted as a node", async (o) => {
  await o.caV1("ca", "p256", DOMAIN);
  const uri = `vnet-conf://${"ab".repeat(32)}`;
  await o.node("a", "ca", "p256", `a.${DOMAIN}`, `subjectAltName=DNS:a.${DOMAIN},URI:${uri}\n`);
  assertEquals(await reason(peer(o, "ca", "a")), "wrong_role");
  assertEquals(await reason(own(o, "ca", "a")), "wrong_role");
});

opensslTest("a certificate with basicConstraints CA:TRUE is not accepted as a node", async (o) => {
  await o.caV1("ca", "p256", DOMAIN);
  await o.node("a", "ca", "p256", `a.${DOMAIN}`, "basicConstraints=critical,CA:TRUE\n");
  assertEquals(await reason(peer(o, "ca", "a")), "wrong_role");
  assertEquals(await reason(own(o, "ca", "a")), "wrong_role");
});

opensslTest("an unknown critical extension on the CA refuses the CA", async (o) => {
  await o.caV3("ca", "p256", DOMAIN, ["1.3.6.1.4.1.99999.1=critical,DER:0500"]);
  assertEquals(await reason(trustStoreFromPem(await o.read("ca.crt"))), "unknown_critical");
});

opensslTest("an unknown critical extension on a node certificate is refused", async (o) => {
  await o.caV1("ca", "p256", DOMAIN);
  await o.node("a", "ca", "p256", `a.${DOMAIN}`, "1.3.6.1.4.1.99999.1=critical,DER:0500\n");
  assertEquals(await reason(peer(o, "ca", "a")), "unknown_critical");
});

opensslTest(
  "the CA's nameConstraints apply to node names (permitted and excluded DNS subtrees)",
  async (o) => {
    await o.caV3("ca", "p256", "Example mesh CA", [
      "nameConstraints=critical,permitted;DNS:eu.example.net,permitted;DNS:us.example.net," +
      "excluded;DNS:lab.eu.example.net",
    ]);
    await o.node("a", "ca", "p256", `a.${DOMAIN}`); // v1, no SAN: the CN is the name
    await o.node("b", "ca", "p256", "b.us.example.net", "subjectAltName=DNS:b.us.example.net\n");
    await o.node("x", "ca", "p256", "x.asia.example.net");
    await o.node("y", "ca", "p256", `y.lab.${DOMAIN}`);
    await o.node("z", "ca", "p256", `z.${DOMAIN}`, "subjectAltName=DNS:z.elsewhere.org\n");
    assertEquals((await peer(o, "ca", "a")).name, `a.${DOMAIN}`);
    assertEquals((await peer(o, "ca", "b")).name, "b.us.example.net");
    await own(o, "ca", "a");
    assertEquals(await reason(peer(o, "ca", "x")), "name_constraints");
    assertEquals(await reason(own(o, "ca", "x")), "name_constraints");
    assertEquals(await reason(peer(o, "ca", "y")), "name_constraints");
    assertEquals(await reason(peer(o, "ca", "z")), "name_constraints");
  },
);

opensslTest(
  "nameConstraints on a name form vmesh does not evaluate refuse certificates with that form",
  async (o) => {
    await o.caV3("ca", "p256", "Example mesh CA", [
      "nameConstraints=critical,permitted;IP:10.0.0.0/255.0.0.0",
    ]);
    await o.node("a", "ca", "p256", `a.${DOMAIN}`);
    await o.node("b", "ca", "p256", `b.${DOMAIN}`, `subjectAltName=DNS:b.${DOMAIN},IP:10.1.2.3\n`);
    assertEquals((await peer(o, "ca", "a")).name, `a.${DOMAIN}`);
    assertEquals(await reason(peer(o, "ca", "b")), "name_constraints");
  },
);
