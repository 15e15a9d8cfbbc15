/**
 * A DC is signed by the CA's DC signer, never by a node: certificate roles as the DC verifier
 * sees them. Certificates made with openssl, as operators make them.
 */
import { assertEquals, assertRejects } from "../../tests/_harness/assert.ts";
import { opensslTest, pb } from "../../tests/_harness/openssl.ts";
import { type CertificateError, pemCertificates } from "../pki/mod.ts";
import { DcError } from "./errors.ts";
import { sha256Hex } from "./sign.ts";
import { verifyDc } from "./verify.ts";

const DOMAIN = "eu.example.net";

opensslTest("a node's certificate is not accepted as the signer of a DC", async (o) => {
  await o.caV1("ca", "p256", DOMAIN);
  const content = new TextEncoder().encode('{"prefix_whitelist":{}}');
  const uri = `vnet-conf://${await sha256Hex(content)}`;
  // A node certificate (CN and DNS name of a node) that also carries the content's hash.
  await o.node("a", "ca", "p256", `a.${DOMAIN}`, `subjectAltName=DNS:a.${DOMAIN},URI:${uri}\n`);
  const der = pemCertificates(await o.read("a.crt"))[0];
  const dc = pb([[1, 0, 1], [2, 2, der], [3, 2, content]]);
  const caPem = await o.read("ca.crt");
  const e = await assertRejects(() => verifyDc(dc, caPem), DcError);
  assertEquals((e as DcError).reason, "bad_certificate");
  assertEquals(((e as DcError).cause as CertificateError).reason, "wrong_role");
  // The same DC signed as vnconfigsign signs it (no CN, no DNS name) is accepted.
  const good = await o.goToolDc(content);
  await verifyDc(good, await o.read("ca.crt"));
});
