import { assert, assertEquals } from "../../tests/_harness/assert.ts";
import { runCommandGraph } from "../../tests/_harness/module_graph.ts";
import { createCa, issueNodeCertificate, loadX509 } from "./issue.ts";
import { parseCertificate } from "./certificate.ts";
import { pemCertificates } from "./pem.ts";

Deno.test("the program loads @peculiar/x509 only when it issues or signs (not for vmesh run)", async () => {
  const { loaded, dynamic } = await runCommandGraph();
  const offending = [...loaded].filter((s) =>
    s.includes("@peculiar") || s.includes("reflect-metadata") || s.endsWith("/issue_x509.ts")
  );
  assertEquals(offending, [], "statically imported by vmesh run");
  assert(
    [...dynamic].some((s) => s.endsWith("/src/pki/issue_x509.ts")),
    "the issuer is imported dynamically (so this test looks at the right graph)",
  );
});

Deno.test("the lazily loaded issuer makes a CA and a node certificate it signed", async () => {
  const ca = await createCa({ name: "vnet.example.com" });
  const node = await issueNodeCertificate({
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    name: "a.vnet.example.com",
  });
  const cert = parseCertificate(pemCertificates(node.certPem)[0]);
  const caCert = parseCertificate(pemCertificates(ca.certPem)[0]);
  assertEquals(cert.issuerRaw, caCert.subjectRaw);
  assertEquals(typeof (await loadX509()).KeyUsagesExtension, "function");
});
