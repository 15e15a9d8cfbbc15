/**
 * One certificate, one identity: re-encodings of one certificate are refused or map to the
 * same ID. The twins are built here by hand (not with the code under test).
 */
import { assert, assertEquals, assertRejects } from "../../tests/_harness/assert.ts";
import { opensslTest } from "../../tests/_harness/openssl.ts";
import { makeTestPki } from "../../tests/_harness/pki.ts";
import { children, concatBytes, encodeTlv, readSingle, Tag } from "./der.ts";
import {
  CertificateError,
  encodePem,
  identityFromPem,
  parseCertificate,
  peerIdOf,
  pemCertificates,
  trustStoreFromPem,
  verifyPeerCertificate,
} from "./mod.ts";

const DOMAIN = "vnet.example.com";
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** The three parts of a certificate: tbs, signatureAlgorithm and signature BIT STRING. */
function parts(der: Uint8Array) {
  const [tbs, alg, sig] = children(readSingle(der, Tag.SEQUENCE));
  return { tbs: tbs.raw, alg: alg.raw, sig: sig.value.subarray(1) };
}

function assemble(tbs: Uint8Array, alg: Uint8Array, sig: Uint8Array): Uint8Array {
  const bits = encodeTlv(Tag.BIT_STRING, concatBytes(new Uint8Array([0]), sig));
  return encodeTlv(Tag.SEQUENCE, concatBytes(tbs, alg, bits));
}

function int(v: bigint): Uint8Array {
  let hex = v.toString(16);
  if (hex.length % 2) hex = "0" + hex;
  let b: Uint8Array = Uint8Array.fromHex(hex);
  if (b[0] & 0x80) b = concatBytes(new Uint8Array([0]), b);
  return encodeTlv(Tag.INTEGER, b);
}

/** The ECDSA s value of a certificate's signature. */
function sOf(der: Uint8Array): bigint {
  const [, s] = children(readSingle(parts(der).sig, Tag.SEQUENCE));
  return BigInt("0x" + s.value.toHex());
}

/** The same certificate with its P-256 signature (r, s) replaced by (r, n − s): still valid. */
function twin(der: Uint8Array): Uint8Array {
  const p = parts(der);
  const [r, s] = children(readSingle(p.sig, Tag.SEQUENCE));
  const sig = encodeTlv(
    Tag.SEQUENCE,
    concatBytes(r.raw, int(P256_N - BigInt("0x" + s.value.toHex()))),
  );
  return assemble(p.tbs, p.alg, sig);
}

/** The same certificate with the outer signatureAlgorithm's parameters NULL or absent. */
function otherOuterParams(der: Uint8Array): Uint8Array {
  const p = parts(der);
  const [oid, params] = children(readSingle(p.alg, Tag.SEQUENCE));
  const alg = params
    ? encodeTlv(Tag.SEQUENCE, oid.raw) // NULL → absent
    : encodeTlv(Tag.SEQUENCE, concatBytes(oid.raw, new Uint8Array([5, 0]))); // absent → NULL
  return assemble(p.tbs, alg, p.sig);
}

async function reason(p: Promise<unknown>): Promise<string> {
  return ((await assertRejects(() => p, CertificateError)) as CertificateError).reason;
}

opensslTest(
  "an openssl ECDSA certificate re-signed as (r, n - s) is the same node as the original",
  async (o) => {
    await o.caV1("ca", "p256", DOMAIN);
    await o.node("a", "ca", "p256", `a.${DOMAIN}`);
    const trust = await trustStoreFromPem(await o.read("ca.crt"));
    const der = pemCertificates(await o.read("a.crt"))[0];
    const other = twin(der);
    assert(sOf(der) !== sOf(other));
    const opts = { now: new Date(), localDomain: DOMAIN };
    const v1 = await verifyPeerCertificate(der, trust, opts);
    const v2 = await verifyPeerCertificate(other, trust, opts); // the signature is valid
    assertEquals(v2.id, v1.id, "one certificate, one ID");
    // The ID is the SHA-256 of the low-s form: the Go vmesh's ID when s is low.
    const low = sOf(der) <= P256_N / 2n ? der : other;
    assertEquals(v1.id, await peerIdOf(low));
    // Our own identity built from either encoding has that ID too.
    const key = await o.read("a.key");
    const id1 = await identityFromPem(encodePem("CERTIFICATE", der), key, trust);
    const id2 = await identityFromPem(encodePem("CERTIFICATE", other), key, trust);
    assertEquals([id1.id, id2.id], [v1.id, v1.id]);
  },
);

Deno.test("vmesh issues ECDSA certificates with a low s, so their ID is the SHA-256 of the file", async () => {
  const pki = await makeTestPki({ algorithm: "ecdsa-p256" });
  for (const name of ["a", "b", "c", "d", "e", "f"]) {
    const n = await pki.issue(name);
    assert(sOf(n.certDer) <= P256_N / 2n, `${name}: s is low`);
    assertEquals(n.identity.id, await peerIdOf(n.certDer));
    const v = await verifyPeerCertificate(twin(n.certDer), pki.trust, {
      now: new Date(),
      localDomain: pki.domain,
    });
    assertEquals(v.id, n.identity.id, `${name}: the high-s twin is the same node`);
  }
});

opensslTest(
  "an outer signatureAlgorithm re-encoded with NULL or absent parameters is refused",
  async (o) => {
    for (const kind of ["p256", "rsa"] as const) {
      await o.caV1(`ca-${kind}`, kind, DOMAIN);
      await o.node(`a-${kind}`, `ca-${kind}`, kind, `a.${DOMAIN}`);
      const trust = await trustStoreFromPem(await o.read(`ca-${kind}.crt`));
      const der = pemCertificates(await o.read(`a-${kind}.crt`))[0];
      const opts = { now: new Date(), localDomain: DOMAIN };
      await verifyPeerCertificate(der, trust, opts);
      const other = otherOuterParams(der);
      assertEquals(await reason(verifyPeerCertificate(other, trust, opts)), "malformed", kind);
      assertEquals(
        await reason(Promise.resolve().then(() => parseCertificate(other))),
        "malformed",
      );
    }
  },
);
