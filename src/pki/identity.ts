/**
 * Our own node identity: certificate, private key, id and name, checked against our CA.
 * @module
 */
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { parseCertificate } from "./certificate.ts";
import { checkIssuedBy } from "./chain.ts";
import { bytesEqual } from "./der.ts";
import { CertificateError } from "./errors.ts";
import { domainOf, isValidNodeName } from "./names.ts";
import { decodePem, encodePem, pemCertificates } from "./pem.ts";
import { nodeIdOf, type PeerId } from "./peer_id.ts";
import { checkNodeRole } from "./roles.ts";
import { parsedCa, readText, type TrustStore } from "./trust.ts";

/** This node's certificate and key, ready for TLS. */
export interface NodeIdentity {
  /** Leaf certificate PEM (followed by any chain certificates from the file) for TLS. */
  certPem: string;
  /** Private key as PKCS#8 PEM (converted from SEC1/PKCS#1 if the file held those). */
  keyPem: string;
  /** Leaf certificate DER. */
  certDer: Uint8Array;
  /** SHA-256 of the leaf's canonical DER (see nodeIdOf). */
  id: PeerId;
  /** The certificate's CN: this node's name. */
  name: string;
  /** The node's domain: the name after its first dot. */
  domain: string;
}

/**
 * Reads a private key in any PEM form openssl writes (PKCS#8, SEC1 "EC PRIVATE KEY", PKCS#1
 * "RSA PRIVATE KEY"). Encrypted keys are refused.
 * @throws {CertificateError} "bad_key".
 */
export function readPrivateKey(keyPem: string): KeyObject {
  if (/ENCRYPTED/.test(keyPem)) {
    throw new CertificateError("bad_key", "the private key is encrypted: decrypt it first");
  }
  // openssl ecparam -genkey writes an "EC PARAMETERS" block first: pick the key block.
  let blocks;
  try {
    blocks = decodePem(keyPem).filter((b) => /PRIVATE KEY$/.test(b.label));
  } catch (e) {
    throw new CertificateError("bad_key", `cannot read the private key: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (blocks.length === 0) {
    throw new CertificateError("bad_key", 'no "BEGIN ... PRIVATE KEY" block found');
  }
  try {
    return createPrivateKey({ key: encodePem(blocks[0].label, blocks[0].der), format: "pem" });
  } catch (e) {
    throw new CertificateError("bad_key", `cannot read the private key: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/** The SubjectPublicKeyInfo DER of a private key's public half. */
export function publicSpkiOf(key: KeyObject): Uint8Array {
  const der = createPublicKey(key).export({ type: "spki", format: "der" });
  return new Uint8Array(der);
}

/**
 * Builds our identity from PEM text: the certificate must be issued by our CA and valid at
 * `now`, carry a CN that is a node name with a domain ("a.vnet.example.com"), and the key
 * must belong to it.
 * @throws {CertificateError} with the reason.
 */
export async function identityFromPem(
  certPem: string,
  keyPem: string,
  trust: TrustStore,
  now: Date = new Date(),
): Promise<NodeIdentity> {
  let ders: Uint8Array[];
  try {
    ders = pemCertificates(certPem);
  } catch (e) {
    throw new CertificateError("malformed", `node certificate: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (ders.length === 0) {
    throw new CertificateError("malformed", 'node certificate: no "BEGIN CERTIFICATE" block found');
  }
  const leaf = parseCertificate(ders[0]);
  const name = leaf.cn;
  if (!name) throw new CertificateError("no_name", "the node certificate has no subject CN");
  if (!isValidNodeName(name)) {
    throw new CertificateError(
      "no_name",
      `the node certificate's CN "${name}" is not a node name like "a.vnet.example.com"`,
    );
  }
  const ca = parsedCa(trust);
  await checkIssuedBy(leaf, ca, now, "the node certificate");
  checkNodeRole(leaf, "the node certificate");
  const key = readPrivateKey(keyPem);
  let spki: Uint8Array;
  try {
    spki = publicSpkiOf(key);
  } catch (e) {
    throw new CertificateError("bad_key", `cannot derive the public key: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (!bytesEqual(spki, leaf.spki)) {
    throw new CertificateError(
      "key_mismatch",
      `the private key does not belong to the certificate "${name}"`,
    );
  }
  const pkcs8 = key.export({ type: "pkcs8", format: "pem" }) as string;
  return {
    certPem: ders.map((d) => encodePem("CERTIFICATE", d)).join(""),
    keyPem: pkcs8,
    certDer: ders[0],
    id: await nodeIdOf(leaf, ca),
    name,
    domain: domainOf(name),
  };
}

/**
 * Reads and checks our identity from files (see {@link identityFromPem}).
 * @throws {CertificateError} "unreadable" or as {@link identityFromPem}.
 */
export async function loadIdentity(
  certPath: string,
  keyPath: string,
  trust: TrustStore,
  now: Date = new Date(),
): Promise<NodeIdentity> {
  const certPem = await readText(certPath, "node certificate");
  const keyPem = await readText(keyPath, "private key");
  try {
    return await identityFromPem(certPem, keyPem, trust, now);
  } catch (e) {
    if (e instanceof CertificateError) {
      throw new CertificateError(e.reason, `${e.message} (cert ${certPath}, key ${keyPath})`, {
        cause: e,
      });
    }
    throw e;
  }
}
