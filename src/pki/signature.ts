/**
 * Verifies a certificate's signature with its issuer's public key using Web Crypto.
 * Supported: Ed25519, ECDSA (P-256, P-384, P-521) with SHA-256/384/512, RSA PKCS#1 v1.5 with
 * SHA-256/384/512. Anything else (SHA-1, RSA-PSS, DSA, ...) is refused: fail closed.
 * @module
 */
import type { ParsedCertificate } from "./certificate.ts";
import { children, concatBytes, decodeOid, DerError, encodeTlv, readSingle, Tag } from "./der.ts";
import { CertificateError } from "./errors.ts";

const SIG_ALGS: Record<string, { kind: "ed25519" | "ecdsa" | "rsa"; hash?: string }> = {
  "1.3.101.112": { kind: "ed25519" },
  "1.2.840.10045.4.3.2": { kind: "ecdsa", hash: "SHA-256" },
  "1.2.840.10045.4.3.3": { kind: "ecdsa", hash: "SHA-384" },
  "1.2.840.10045.4.3.4": { kind: "ecdsa", hash: "SHA-512" },
  "1.2.840.113549.1.1.11": { kind: "rsa", hash: "SHA-256" },
  "1.2.840.113549.1.1.12": { kind: "rsa", hash: "SHA-384" },
  "1.2.840.113549.1.1.13": { kind: "rsa", hash: "SHA-512" },
};

const OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1";
const OID_RSA = "1.2.840.113549.1.1.1";
const OID_ED25519 = "1.3.101.112";
/** Supported curves by OID: Web Crypto name, scalar size in bytes, group order n. */
const CURVES: Record<string, { name: string; size: number; order: bigint }> = {
  "1.2.840.10045.3.1.7": {
    name: "P-256",
    size: 32,
    order: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  },
  "1.3.132.0.34": {
    name: "P-384",
    size: 48,
    order:
      0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  },
  "1.3.132.0.35": {
    name: "P-521",
    size: 66,
    order:
      0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
  },
};

/**
 * Checks that `cert` is signed by the key in `issuerSpki`/`issuerKeyAlg`.
 * @returns true when the signature verifies, false when it does not.
 * @throws {CertificateError} "unsupported_algorithm" for algorithms we do not verify,
 *   "malformed" for undecodable signatures or keys.
 */
export async function verifyCertificateSignature(
  cert: ParsedCertificate,
  issuer: ParsedCertificate,
): Promise<boolean> {
  const alg = SIG_ALGS[cert.signatureAlgorithm.oid];
  if (!alg) {
    throw new CertificateError(
      "unsupported_algorithm",
      `unsupported signature algorithm ${cert.signatureAlgorithm.oid}`,
    );
  }
  const keyOid = issuer.keyAlgorithm.oid;
  const spki = issuer.spki as Uint8Array<ArrayBuffer>;
  const data = cert.tbs as Uint8Array<ArrayBuffer>;
  let key: CryptoKey;
  try {
    if (alg.kind === "ed25519") {
      if (keyOid !== OID_ED25519) return mismatch(keyOid, "Ed25519");
      if (cert.signatureAlgorithm.params) throw new DerError("Ed25519 takes no parameters");
      key = await crypto.subtle.importKey("spki", spki, { name: "Ed25519" }, false, ["verify"]);
      return await crypto.subtle.verify({ name: "Ed25519" }, key, sig(cert.signature), data);
    }
    if (alg.kind === "ecdsa") {
      if (keyOid !== OID_EC_PUBLIC_KEY) return mismatch(keyOid, "ECDSA");
      const curveEl = issuer.keyAlgorithm.params;
      const curve = curveEl?.tag === Tag.OID ? CURVES[decodeOid(curveEl)] : undefined;
      if (!curve) {
        throw new CertificateError("unsupported_algorithm", "unsupported elliptic curve");
      }
      key = await crypto.subtle.importKey(
        "spki",
        spki,
        { name: "ECDSA", namedCurve: curve.name },
        false,
        ["verify"],
      );
      const raw = ecdsaDerToRaw(cert.signature, curve.size);
      if (!raw) return false;
      return await crypto.subtle.verify({ name: "ECDSA", hash: alg.hash! }, key, raw, data);
    }
    if (keyOid !== OID_RSA) return mismatch(keyOid, "RSA");
    key = await crypto.subtle.importKey(
      "spki",
      spki,
      { name: "RSASSA-PKCS1-v1_5", hash: alg.hash! },
      false,
      ["verify"],
    );
    return await crypto.subtle.verify(
      { name: "RSASSA-PKCS1-v1_5" },
      key,
      sig(cert.signature),
      data,
    );
  } catch (e) {
    if (e instanceof CertificateError) throw e;
    throw new CertificateError(
      "malformed",
      `cannot check the signature: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

function sig(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return b as Uint8Array<ArrayBuffer>;
}

function mismatch(keyOid: string, sigKind: string): never {
  throw new CertificateError(
    "bad_signature",
    `signature algorithm ${sigKind} does not match the issuer's key type ${keyOid}`,
  );
}

/** ECDSA-Sig-Value (DER SEQUENCE of r, s) → fixed-size r||s, or null when malformed. */
function ecdsaDerToRaw(derSig: Uint8Array, size: number): Uint8Array<ArrayBuffer> | null {
  try {
    const parts = children(readSingle(derSig, Tag.SEQUENCE));
    if (parts.length !== 2) return null;
    const out = new Uint8Array(size * 2);
    for (let k = 0; k < 2; k++) {
      if (parts[k].tag !== Tag.INTEGER) return null;
      let v = parts[k].value;
      if (v.length === 0 || (v[0] & 0x80)) return null;
      // DER: minimal encoding only (one leading zero, and only before a high bit). A padded
      // integer would verify too, and re-encoding a certificate that way would give its
      // holder a second PeerId for the same certificate.
      if (v.length > 1 && v[0] === 0 && (v[1] & 0x80) === 0) return null;
      if (v[0] === 0) v = v.subarray(1);
      if (v.length > size) return null;
      out.set(v, k * size + size - v.length);
    }
    return out;
  } catch {
    return null;
  }
}

function toBigInt(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt("0x" + b.toHex());
}

function derInteger(v: bigint): Uint8Array {
  let hex = v.toString(16);
  if (hex.length % 2) hex = "0" + hex;
  let bytes: Uint8Array = Uint8Array.fromHex(hex);
  if (bytes[0] & 0x80) bytes = concatBytes(new Uint8Array([0]), bytes);
  return encodeTlv(Tag.INTEGER, bytes);
}

/**
 * The canonical DER of a certificate: the same certificate with an ECDSA signature in its
 * low-s form. An ECDSA signature (r, s) stays valid as (r, n − s), so anyone holding a
 * certificate can make its twin with another DER; the canonical form maps both to one byte
 * string. Only the outer signature changes (the signed part is untouched), so the result
 * verifies exactly as the input does. Anything that is not ECDSA with a curve we know, or is
 * already low-s, is returned unchanged.
 * @param cert The certificate.
 * @param issuer Its issuer (the curve, hence the group order, comes from the issuer's key).
 * @returns `cert.der` itself, or a new low-s DER.
 */
export function canonicalCertificateDer(
  cert: ParsedCertificate,
  issuer: ParsedCertificate,
): Uint8Array {
  if (SIG_ALGS[cert.signatureAlgorithm.oid]?.kind !== "ecdsa") return cert.der;
  if (issuer.keyAlgorithm.oid !== OID_EC_PUBLIC_KEY) return cert.der;
  const curveEl = issuer.keyAlgorithm.params;
  const curve = curveEl?.tag === Tag.OID ? CURVES[decodeOid(curveEl)] : undefined;
  if (!curve) return cert.der;
  let r: Uint8Array, s: bigint;
  try {
    const parts = children(readSingle(cert.signature, Tag.SEQUENCE));
    if (parts.length !== 2 || parts[0].tag !== Tag.INTEGER || parts[1].tag !== Tag.INTEGER) {
      return cert.der;
    }
    r = parts[0].raw;
    s = toBigInt(parts[1].value);
  } catch {
    return cert.der; // not a signature that verifies either; identity does not matter
  }
  if (s <= curve.order / 2n || s >= curve.order) return cert.der;
  const sig = encodeTlv(Tag.SEQUENCE, concatBytes(r, derInteger(curve.order - s)));
  const bits = encodeTlv(Tag.BIT_STRING, concatBytes(new Uint8Array([0]), sig));
  return encodeTlv(
    Tag.SEQUENCE,
    concatBytes(cert.tbs, cert.signatureAlgorithm.raw, bits),
  );
}
