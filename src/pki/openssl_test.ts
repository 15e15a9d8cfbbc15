/**
 * Certificates made by openssl, the way operators and the Go vmesh's scripts make them.
 */
import { assertEquals, assertRejects } from "../../tests/_harness/assert.ts";
import { hasOpenssl, OpensslDir } from "../../tests/_harness/openssl.ts";
import {
  CertificateError,
  identityFromPem,
  parseCertificate,
  pemCertificates,
  trustStoreFromPem,
  verifyPeerCertificate,
} from "./mod.ts";

const ignore = !(await hasOpenssl());
const DOMAIN = "vnet.example.com";
const DAY = 86_400_000;

async function setup() {
  return await OpensslDir.create();
}

async function verifyFiles(o: OpensslDir, ca: string, node: string, now = new Date()) {
  const trust = await trustStoreFromPem(await o.read(`${ca}.crt`));
  const der = pemCertificates(await o.read(`${node}.crt`))[0];
  return await verifyPeerCertificate(der, trust, { now, localDomain: DOMAIN });
}

async function reason(p: Promise<unknown>): Promise<string> {
  return ((await assertRejects(() => p, CertificateError)) as CertificateError).reason;
}

for (const kind of ["ed25519", "p256", "p384", "rsa"] as const) {
  Deno.test({
    name: `openssl ${kind}: v1 CA and v1 node certificate without SAN are accepted`,
    ignore,
    async fn() {
      const o = await setup();
      try {
        await o.caV1("ca", kind, DOMAIN);
        await o.node("a", "ca", kind, `a.${DOMAIN}`);
        const c = parseCertificate(pemCertificates(await o.read("a.crt"))[0]);
        assertEquals(c.version, 1);
        assertEquals(c.dnsSans, []);
        const v = await verifyFiles(o, "ca", "a");
        assertEquals(v.name, `a.${DOMAIN}`);
        assertEquals(v.external, false);
        // Our identity loads from the openssl key file (SEC1 / PKCS#8 / PKCS#1 forms).
        const trust = await trustStoreFromPem(await o.read("ca.crt"));
        const id = await identityFromPem(await o.read("a.crt"), await o.read("a.key"), trust);
        assertEquals(id.name, `a.${DOMAIN}`);
      } finally {
        await o.cleanup();
      }
    },
  });
}

Deno.test({
  name: "openssl: a v3 CA from `req -x509` signs node certificates with SAN that are accepted",
  ignore,
  async fn() {
    const o = await setup();
    try {
      await o.caV3("ca", "ed25519", DOMAIN);
      await o.node("a", "ca", "p256", `a.${DOMAIN}`, `subjectAltName=DNS:a.${DOMAIN}\n`);
      const v = await verifyFiles(o, "ca", "a");
      assertEquals(v.name, `a.${DOMAIN}`);
    } finally {
      await o.cleanup();
    }
  },
});

Deno.test({
  name: "openssl: a CA with basicConstraints CA:FALSE is refused",
  ignore,
  async fn() {
    const o = await setup();
    try {
      await o.caV3("ca", "ed25519", DOMAIN, ["basicConstraints=critical,CA:FALSE"]);
      assertEquals(await reason(trustStoreFromPem(await o.read("ca.crt"))), "ca_not_a_ca");
    } finally {
      await o.cleanup();
    }
  },
});

Deno.test({
  name: "openssl: a CA whose keyUsage lacks keyCertSign is refused",
  ignore,
  async fn() {
    const o = await setup();
    try {
      await o.caV3("ca", "p256", DOMAIN, ["keyUsage=critical,digitalSignature"]);
      assertEquals(await reason(trustStoreFromPem(await o.read("ca.crt"))), "ca_not_a_ca");
    } finally {
      await o.cleanup();
    }
  },
});

Deno.test({
  name: "openssl: wrong CA, tampered signature, expiry and not-yet-valid are refused",
  ignore,
  async fn() {
    const o = await setup();
    try {
      await o.caV1("ca", "p256", DOMAIN);
      await o.caV1("other", "p256", "other.example.com");
      await o.caV1("twin", "p256", DOMAIN); // same name, different key
      await o.node("a", "ca", "p256", `a.${DOMAIN}`);
      await o.node("b", "other", "p256", `b.${DOMAIN}`);
      await o.node("c", "twin", "p256", `c.${DOMAIN}`);
      assertEquals(await reason(verifyFiles(o, "ca", "b")), "not_issued_by_ca");
      assertEquals(await reason(verifyFiles(o, "ca", "c")), "bad_signature");
      const trust = await trustStoreFromPem(await o.read("ca.crt"));
      const der = pemCertificates(await o.read("a.crt"))[0].slice();
      der[der.length - 5] ^= 0x40;
      const r = await reason(
        verifyPeerCertificate(der, trust, { now: new Date(), localDomain: DOMAIN }),
      );
      assertEquals(r === "bad_signature" || r === "malformed", true, r);
      assertEquals(
        await reason(verifyFiles(o, "ca", "a", new Date(Date.now() + 31 * DAY))),
        "expired",
      );
      assertEquals(
        await reason(verifyFiles(o, "ca", "a", new Date(Date.now() - DAY))),
        "not_yet_valid",
      );
    } finally {
      await o.cleanup();
    }
  },
});

Deno.test({
  name: "openssl: an RSA CA signing an Ed25519 node is accepted; SHA-1 signatures are refused",
  ignore,
  async fn() {
    const o = await setup();
    try {
      await o.caV1("ca", "rsa", DOMAIN);
      await o.node("a", "ca", "ed25519", `a.${DOMAIN}`);
      assertEquals((await verifyFiles(o, "ca", "a")).name, `a.${DOMAIN}`);
      await o.genKey("s.key", "p256");
      await o.run("req", "-new", "-key", "s.key", "-subj", `/CN=s.${DOMAIN}`, "-out", "s.csr");
      await o.run(
        "x509",
        "-req",
        "-sha1",
        "-in",
        "s.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "30",
        "-out",
        "s.crt",
      );
      assertEquals(await reason(verifyFiles(o, "ca", "s")), "unsupported_algorithm");
    } finally {
      await o.cleanup();
    }
  },
});
