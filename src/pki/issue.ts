/**
 * Making certificates: a CA, node certificates, and the generic issuer that the distributed
 * config signer also uses. The work is done by `issue_x509.ts` with @peculiar/x509, which costs a
 * process ~15 MiB of memory once loaded; only `vmesh cert …` and `vmesh sign` issue anything, so
 * these functions load it on first use and `vmesh run` never does (`issue_lazy_test.ts` checks).
 * @module
 */
import type * as issuer from "./issue_x509.ts";
import type { KeyAlgorithm } from "./signing_key.ts";

export { generateKeyPair, type KeyAlgorithm, privateKeyPem } from "./signing_key.ts";
export type { IssueOptions } from "./issue_x509.ts";

/** The @peculiar/x509 namespace, for building the extensions {@link issueCertificate} takes. */
export type X509 = typeof issuer.x509;

/** Loads the issuer (and with it @peculiar/x509) once; later calls reuse the module. */
function loadIssuer(): Promise<typeof issuer> {
  return import("./issue_x509.ts");
}

/**
 * Loads @peculiar/x509 (after the reflect-metadata polyfill it needs), for callers that build
 * certificate extensions for {@link issueCertificate}.
 */
export async function loadX509(): Promise<X509> {
  return (await loadIssuer()).x509;
}

/**
 * Issues a certificate signed by the CA. The issuer Name is copied byte-for-byte from the
 * CA's subject, so chain checks by name match.
 * @returns The certificate DER.
 * @throws {CertificateError} when the CA certificate or key is unusable or do not match.
 */
export async function issueCertificate(o: issuer.IssueOptions): Promise<Uint8Array> {
  return await (await loadIssuer()).issueCertificate(o);
}

/**
 * Creates a self-signed CA: v3, basicConstraints CA:TRUE (critical), keyUsage keyCertSign and
 * cRLSign, subject key identifier.
 * @param o.name The CA's CN (any text; conventionally the mesh domain).
 * @param o.days Validity in days (default 3650).
 * @param o.algorithm Key algorithm (default ed25519).
 * @returns PEM of the certificate and its PKCS#8 private key.
 */
export async function createCa(
  o: { name: string; days?: number; algorithm?: KeyAlgorithm; now?: Date },
): Promise<{ certPem: string; keyPem: string }> {
  return await (await loadIssuer()).createCa(o);
}

/**
 * Issues a node certificate: CN=name, SAN DNS:name, CA:FALSE, keyUsage digitalSignature,
 * extendedKeyUsage serverAuth+clientAuth, random serial.
 * @param o.name The node name, e.g. "a.vnet.example.com" (must have a domain part).
 * @param o.days Validity in days (default 365).
 * @returns PEM of the certificate and its PKCS#8 private key.
 * @throws {TypeError} for a bad name; {CertificateError} for an unusable CA.
 */
export async function issueNodeCertificate(o: {
  caCertPem: string;
  caKeyPem: string;
  name: string;
  days?: number;
  algorithm?: KeyAlgorithm;
  now?: Date;
}): Promise<{ certPem: string; keyPem: string }> {
  return await (await loadIssuer()).issueNodeCertificate(o);
}
