/**
 * An in-memory test PKI for any test that needs certificates: our CA, a foreign CA, node
 * identities, an expired certificate and self-signed "external" certificates to pin.
 *
 * @example
 * const pki = await makeTestPki();
 * const a = await pki.issue("a");            // a.vnet.test, issued by our CA
 * const b = await pki.foreign.issue("b");    // b.other.test, issued by the foreign CA
 * await verifyPeerCertificate(a.certDer, pki.trust, { now: new Date(), localDomain: pki.domain });
 * @module
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import {
  createCa,
  identityFromPem,
  issueNodeCertificate,
  type KeyAlgorithm,
  type NodeIdentity,
  peerIdOf,
  type TrustStore,
  trustStoreFromPem,
} from "../../src/pki/mod.ts";
import { encodePem, pemCertificates } from "../../src/pki/pem.ts";
import { generateKeyPair, privateKeyPem } from "../../src/pki/issue.ts";

/** A certificate with its key, as files would hold them. */
export interface TestCert {
  /** Full name (CN). */
  name: string;
  certPem: string;
  keyPem: string;
  certDer: Uint8Array;
  /** SHA-256 of certDer. */
  id: string;
}

/** A node certificate with the identity built from it (checked at issue time). */
export interface TestNode extends TestCert {
  identity: NodeIdentity;
}

/** One CA with helpers. */
export interface TestCa {
  /** The domain names are issued under ("vnet.test"). */
  domain: string;
  ca: { certPem: string; keyPem: string };
  /** Trust store with this CA and no pinned certificates. */
  trust: TrustStore;
  /**
   * Issues a node certificate. A name without a dot gets `.${domain}` appended.
   * `now` shifts the validity window (notBefore = now) and is used for the identity check.
   */
  issue(
    name: string,
    o?: { days?: number; now?: Date; algorithm?: KeyAlgorithm },
  ): Promise<TestNode>;
}

/** The whole test PKI. */
export interface TestPki extends TestCa {
  /** A second, unrelated CA ("other.test"): its certificates must be refused by `trust`. */
  foreign: TestCa;
  /** A node certificate from our CA that expired a day ago (notBefore 10 days ago). */
  expired: TestCert;
  /** A self-signed certificate (CA:FALSE, SAN DNS:name) suitable for pinning as external. */
  selfSigned(name: string, o?: { days?: number; now?: Date }): Promise<TestCert>;
  /** Trust store with our CA and the given certificates pinned as external peers. */
  trustWith(externals: readonly TestCert[]): Promise<TrustStore>;
  /**
   * Writes the CA and the given certificates into `dir` (a new temp dir by default):
   * ca.crt, ca.key, <name>.crt, <name>.key. Returns the directory and paths by name.
   */
  writeFiles(
    certs?: readonly TestCert[],
    dir?: string,
  ): Promise<
    {
      dir: string;
      caCert: string;
      caKey: string;
      cert(name: string): string;
      key(name: string): string;
    }
  >;
}

const DAY = 86_400_000;

async function makeCa(domain: string, algorithm: KeyAlgorithm): Promise<TestCa> {
  const ca = await createCa({ name: domain, algorithm, now: new Date(Date.now() - DAY) });
  const trust = await trustStoreFromPem(ca.certPem);
  return {
    domain,
    ca,
    trust,
    async issue(name, o = {}) {
      const full = name.includes(".") ? name : `${name}.${domain}`;
      const now = o.now ?? new Date();
      const c = await issueNodeCertificate({
        caCertPem: ca.certPem,
        caKeyPem: ca.keyPem,
        name: full,
        days: o.days ?? 30,
        algorithm: o.algorithm ?? algorithm,
        now: new Date(now.getTime() - 60_000),
      });
      const identity = await identityFromPem(c.certPem, c.keyPem, trust, now);
      return { name: full, ...c, certDer: identity.certDer, id: identity.id, identity };
    },
  };
}

/**
 * Makes a test PKI. Options: `domain` (default "vnet.test"), `algorithm` (default ed25519).
 */
export async function makeTestPki(
  opts: { domain?: string; algorithm?: KeyAlgorithm } = {},
): Promise<TestPki> {
  const algorithm = opts.algorithm ?? "ed25519";
  const ours = await makeCa(opts.domain ?? "vnet.test", algorithm);
  const foreign = await makeCa("other.test", algorithm);
  const tenDaysAgo = new Date(Date.now() - 10 * DAY);
  const exp = await issueNodeCertificate({
    caCertPem: ours.ca.certPem,
    caKeyPem: ours.ca.keyPem,
    name: `expired.${ours.domain}`,
    days: 9,
    algorithm,
    now: tenDaysAgo,
  });
  const expDer = pemCertificates(exp.certPem)[0];
  const expired: TestCert = {
    name: `expired.${ours.domain}`,
    ...exp,
    certDer: expDer,
    id: await peerIdOf(expDer),
  };

  return {
    ...ours,
    foreign,
    expired,
    async selfSigned(name, o = {}) {
      const keys = await generateKeyPair(algorithm);
      const notBefore = new Date((o.now ?? new Date()).getTime() - 60_000);
      const cert = await x509.X509CertificateGenerator.createSelfSigned({
        name: new x509.Name([{ CN: [name] }]),
        notBefore,
        notAfter: new Date(notBefore.getTime() + (o.days ?? 30) * DAY),
        keys,
        signingAlgorithm: algorithm === "ed25519"
          ? { name: "Ed25519" }
          : { name: "ECDSA", hash: "SHA-256" } as EcdsaParams,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.SubjectAlternativeNameExtension([{ type: "dns", value: name }]),
        ],
      });
      const der = new Uint8Array(cert.rawData);
      return {
        name,
        certPem: encodePem("CERTIFICATE", der),
        keyPem: await privateKeyPem(keys.privateKey),
        certDer: der,
        id: await peerIdOf(der),
      };
    },
    trustWith(externals) {
      return trustStoreFromPem(ours.ca.certPem, externals.map((e) => e.certPem));
    },
    async writeFiles(certs = [], dir) {
      const d = dir ?? await Deno.makeTempDir({ prefix: "vmesh-pki-" });
      await Deno.writeTextFile(`${d}/ca.crt`, ours.ca.certPem);
      await Deno.writeTextFile(`${d}/ca.key`, ours.ca.keyPem, { mode: 0o600 });
      for (const c of certs) {
        await Deno.writeTextFile(`${d}/${c.name}.crt`, c.certPem);
        await Deno.writeTextFile(`${d}/${c.name}.key`, c.keyPem, { mode: 0o600 });
      }
      return {
        dir: d,
        caCert: `${d}/ca.crt`,
        caKey: `${d}/ca.key`,
        cert: (name: string) => `${d}/${name}.crt`,
        key: (name: string) => `${d}/${name}.key`,
      };
    },
  };
}
