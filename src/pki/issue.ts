/**
 * Making certificates: a CA, node certificates, and the generic issuer that the distributed
 * config signer also uses. Keys are made with Web Crypto; certificates with @peculiar/x509.
 * @module
 */
import type * as X509 from "@peculiar/x509";
import type { KeyObject } from "node:crypto";
import { parseCertificate } from "./certificate.ts";
import { children, concatBytes, encodeTlv, readSingle, Tag } from "./der.ts";
import { checkCaMaySign } from "./chain.ts";
import { CertificateError } from "./errors.ts";
import { isValidNodeName } from "./names.ts";
import { encodePem, pemCertificates } from "./pem.ts";
import { publicSpkiOf, readPrivateKey } from "./identity.ts";
import { canonicalCertificateDer } from "./signature.ts";

/**
 * @peculiar/x509, loaded on first use: only `vmesh cert` and `vmesh sign` make certificates,
 * and loading it (with reflect-metadata and its ASN.1 schemas) is about 40 % of the CPU a
 * node spends starting up (a mesh of many nodes starting at once on few cores waits for it).
 */
export async function x509Lib(): Promise<typeof X509> {
  await import("reflect-metadata");
  return await import("@peculiar/x509");
}

/** Key algorithms `vmesh cert` can make. */
export type KeyAlgorithm = "ed25519" | "ecdsa-p256";

const DAY_MS = 86_400_000;

/** Web Crypto parameters for key generation and signing per algorithm. */
function webAlg(
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

/** A random positive 128-bit serial number as hex. */
function randomSerial(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[0] &= 0x7f;
  if (b[0] === 0) b[0] = 1;
  return b.toHex();
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

/** Everything {@link issueCertificate} needs. */
export interface IssueOptions {
  caCertPem: string;
  caKeyPem: string;
  /** The new certificate's public key. */
  publicKey: CryptoKey;
  /** Subject CN; omitted → empty subject (as Go's vnconfigsign makes). */
  cn?: string;
  /** Hex serial; default random. "00" gives serial 0, as Go's vnconfigsign writes. */
  serialHex?: string;
  notBefore: Date;
  notAfter: Date;
  /** Extensions to include, in order. */
  extensions: X509.Extension[];
}

/**
 * Issues a certificate signed by the CA. The issuer Name is copied byte-for-byte from the
 * CA's subject, so chain checks by name match.
 * @returns The certificate DER.
 * @throws {CertificateError} when the CA certificate or key is unusable or do not match.
 */
export async function issueCertificate(o: IssueOptions): Promise<Uint8Array> {
  const caDers = pemCertificates(o.caCertPem);
  if (caDers.length === 0) throw new CertificateError("malformed", "no CA certificate in the PEM");
  const ca = parseCertificate(caDers[0]);
  checkCaMaySign(ca);
  const signer = await importSigningKey(o.caKeyPem);
  if (!signer.spki.every((b, i) => b === ca.spki[i]) || signer.spki.length !== ca.spki.length) {
    throw new CertificateError("key_mismatch", "the CA key does not belong to the CA certificate");
  }
  const x509 = await x509Lib();
  const zeroSerial = o.serialHex !== undefined && /^0+$/.test(o.serialHex);
  const cert = await x509.X509CertificateGenerator.create({
    // @peculiar/x509 replaces a zero serial with a random one: write 1, then patch below.
    serialNumber: zeroSerial ? "01" : o.serialHex ?? randomSerial(),
    subject: o.cn === undefined ? new x509.Name([]) : new x509.Name([{ CN: [o.cn] }]),
    issuer: new x509.Name(ca.subjectRaw as Uint8Array<ArrayBuffer>),
    notBefore: o.notBefore,
    notAfter: o.notAfter,
    signingAlgorithm: signer.sign,
    publicKey: o.publicKey,
    signingKey: signer.key,
    extensions: o.extensions,
  });
  let der: Uint8Array = new Uint8Array(cert.rawData);
  if (zeroSerial) der = await resignWithZeroSerial(der, signer);
  // ECDSA signatures in low-s form: what we issue is canonical, so its ID is the plain
  // SHA-256 of the file (see nodeIdOf).
  return canonicalCertificateDer(parseCertificate(der), ca);
}

/** Rewrites serial 1 as serial 0 in the signed part and signs it again. */
async function resignWithZeroSerial(
  der: Uint8Array,
  signer: { key: CryptoKey; sign: Algorithm | EcdsaParams | RsaHashedImportParams },
): Promise<Uint8Array> {
  const [tbsEl, algEl] = children(readSingle(der, Tag.SEQUENCE));
  const tbs = tbsEl.raw.slice();
  const fields = children(readSingle(tbs, Tag.SEQUENCE));
  const serial = fields[0].tag === 0xa0 ? fields[1] : fields[0];
  if (serial.tag !== Tag.INTEGER || serial.value.length !== 1 || serial.value[0] !== 1) {
    throw new Error("unexpected serial number encoding");
  }
  serial.value[0] = 0; // a view into `tbs`
  let sig = new Uint8Array(
    await crypto.subtle.sign(signer.sign, signer.key, tbs as Uint8Array<ArrayBuffer>),
  );
  if (signer.sign.name === "ECDSA") sig = ecdsaRawToDer(sig);
  const bits = encodeTlv(Tag.BIT_STRING, concatBytes(new Uint8Array([0]), sig));
  return encodeTlv(Tag.SEQUENCE, concatBytes(tbs, algEl.raw, bits));
}

/** Web Crypto's r||s ECDSA signature → DER ECDSA-Sig-Value. */
function ecdsaRawToDer(raw: Uint8Array): Uint8Array<ArrayBuffer> {
  const half = raw.length / 2;
  const int = (b: Uint8Array) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    let v = b.subarray(i);
    if (v[0] & 0x80) v = concatBytes(new Uint8Array([0]), v);
    return encodeTlv(Tag.INTEGER, v);
  };
  const out = encodeTlv(
    Tag.SEQUENCE,
    concatBytes(int(raw.subarray(0, half)), int(raw.subarray(half))),
  );
  return out as Uint8Array<ArrayBuffer>;
}

/** Seconds precision: X.509 times carry no milliseconds. */
function floorSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
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
  if (!o.name || [...o.name].some((ch) => ch.charCodeAt(0) < 0x20)) {
    throw new TypeError("the CA name must be non-empty text");
  }
  const x509 = await x509Lib();
  const alg = o.algorithm ?? "ed25519";
  const keys = await generateKeyPair(alg);
  const notBefore = floorSeconds(o.now ?? new Date());
  const notAfter = new Date(notBefore.getTime() + (o.days ?? 3650) * DAY_MS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: new x509.Name([{ CN: [o.name] }]),
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: webAlg(alg).sign,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certPem: encodePem("CERTIFICATE", new Uint8Array(cert.rawData)),
    keyPem: await privateKeyPem(keys.privateKey),
  };
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
  if (!isValidNodeName(o.name)) {
    throw new TypeError(
      `"${o.name}" is not a node name: use DNS labels with a domain, like "a.vnet.example.com"`,
    );
  }
  const x509 = await x509Lib();
  const keys = await generateKeyPair(o.algorithm ?? "ed25519");
  const notBefore = floorSeconds(o.now ?? new Date());
  const notAfter = new Date(notBefore.getTime() + (o.days ?? 365) * DAY_MS);
  const der = await issueCertificate({
    caCertPem: o.caCertPem,
    caKeyPem: o.caKeyPem,
    publicKey: keys.publicKey,
    cn: o.name,
    notBefore,
    notAfter,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      new x509.SubjectAlternativeNameExtension([{ type: "dns", value: o.name }]),
    ],
  });
  return {
    certPem: encodePem("CERTIFICATE", der),
    keyPem: await privateKeyPem(keys.privateKey),
  };
}
