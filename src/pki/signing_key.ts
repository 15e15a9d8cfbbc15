/**
 * Keys for issuing: generating key pairs with Web Crypto, writing private keys as PKCS#8 PEM,
 * and reading a CA's signing key. No certificate library: what the test harness and the lazy
 * issuer (`issue_x509.ts`) share.
 * @module
 */
import type { KeyObject } from "node:crypto";
import { CertificateError } from "./errors.ts";
import { encodePem } from "./pem.ts";
import { publicSpkiOf, readPrivateKey } from "./identity.ts";

/** Key algorithms `vmesh cert` can make. */
export type KeyAlgorithm = "ed25519" | "ecdsa-p256";

/** Web Crypto parameters for key generation and signing per algorithm. */
export function webAlg(
  alg: KeyAlgorithm,
): { gen: EcKeyGenParams | Algorithm; sign: Algorithm | EcdsaParams } {
  if (alg === "ed25519") return { gen: { name: "Ed25519" }, sign: { name: "Ed25519" } };
  if (alg === "ecdsa-p256") {
    return {
      gen: { name: "ECDSA", namedCurve: "P-256" } as EcKeyGenParams,
      sign: { name: "ECDSA", hash: "SHA-256" } as EcdsaParams,
    };
  }
  throw new TypeError(`unknown key algorithm "${String(alg)}": use ed25519 or ecdsa-p256`);
}

/** Generates a key pair (extractable, so the private key can be written out). */
export async function generateKeyPair(alg: KeyAlgorithm): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(webAlg(alg).gen, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
}

/** Exports a private key as PKCS#8 PEM. */
export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = new Uint8Array(await crypto.subtle.exportKey("pkcs8", key));
  return encodePem("PRIVATE KEY", der);
}

/** The Web Crypto form of a signing key read from PEM, with the algorithm to sign with. */
export async function importSigningKey(
  keyPem: string,
): Promise<
  { key: CryptoKey; sign: Algorithm | EcdsaParams | RsaHashedImportParams; spki: Uint8Array }
> {
  const ko: KeyObject = readPrivateKey(keyPem);
  const pkcs8 = new Uint8Array(ko.export({ type: "pkcs8", format: "der" }));
  const spki = publicSpkiOf(ko);
  const type = ko.asymmetricKeyType;
  try {
    if (type === "ed25519") {
      const key = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, [
        "sign",
      ]);
      return { key, sign: { name: "Ed25519" }, spki };
    }
    if (type === "ec") {
      const curve = ko.asymmetricKeyDetails?.namedCurve;
      const map: Record<string, [string, string]> = {
        prime256v1: ["P-256", "SHA-256"],
        "P-256": ["P-256", "SHA-256"],
        secp384r1: ["P-384", "SHA-384"],
        "P-384": ["P-384", "SHA-384"],
      };
      const m = curve ? map[curve] : undefined;
      if (!m) throw new CertificateError("unsupported_algorithm", `unsupported curve ${curve}`);
      const key = await crypto.subtle.importKey(
        "pkcs8",
        pkcs8,
        { name: "ECDSA", namedCurve: m[0] },
        false,
        ["sign"],
      );
      return { key, sign: { name: "ECDSA", hash: m[1] } as EcdsaParams, spki };
    }
    if (type === "rsa") {
      const alg = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
      const key = await crypto.subtle.importKey("pkcs8", pkcs8, alg, false, ["sign"]);
      return { key, sign: alg, spki };
    }
  } catch (e) {
    if (e instanceof CertificateError) throw e;
    throw new CertificateError("bad_key", `cannot use the private key: ${(e as Error).message}`, {
      cause: e,
    });
  }
  throw new CertificateError("unsupported_algorithm", `unsupported key type ${type}`);
}
