/**
 * Parsing of X.509 certificates into the few fields vmesh checks. Strict: anything that does
 * not parse throws a {@link CertificateError} with reason "malformed".
 * @module
 */
import {
  bytesEqual,
  children,
  decodeBitFlags,
  decodeBitStringBytes,
  decodeBoolean,
  decodeOid,
  decodeSmallInt,
  decodeString,
  decodeTime,
  type DerElement,
  DerError,
  expectTag,
  readSingle,
  Tag,
} from "./der.ts";
import { CertificateError } from "./errors.ts";

/** An AlgorithmIdentifier: OID plus the raw parameters element, if any. */
export interface AlgorithmId {
  readonly oid: string;
  readonly params?: DerElement;
  /** The whole AlgorithmIdentifier DER. */
  readonly raw: Uint8Array;
}

/** The GeneralName forms, by context tag number (RFC 5280 section 4.2.1.6). */
export const GENERAL_NAME_FORMS = [
  "otherName",
  "rfc822Name",
  "dNSName",
  "x400Address",
  "directoryName",
  "ediPartyName",
  "uniformResourceIdentifier",
  "iPAddress",
  "registeredID",
] as const;

/** A CA's nameConstraints extension (RFC 5280 section 4.2.1.10). */
export interface NameConstraints {
  /** dNSName bases of permittedSubtrees (empty: dNSName is not restricted by permission). */
  readonly permittedDns: readonly string[];
  /** dNSName bases of excludedSubtrees. */
  readonly excludedDns: readonly string[];
  /** Other name forms that the extension constrains (vmesh does not evaluate them). */
  readonly otherForms: readonly string[];
}

/** The fields of a certificate that vmesh uses. */
export interface ParsedCertificate {
  /** The whole certificate DER. */
  readonly der: Uint8Array;
  /** 1, 2 or 3. */
  readonly version: number;
  /** The serial number's INTEGER contents (big-endian, may have a leading 0). */
  readonly serial: Uint8Array;
  /** The DER of tbsCertificate: what the signature covers. */
  readonly tbs: Uint8Array;
  /** Outer signatureAlgorithm. */
  readonly signatureAlgorithm: AlgorithmId;
  /** Signature bytes (BIT STRING contents). */
  readonly signature: Uint8Array;
  /** Raw DER of the issuer Name. */
  readonly issuerRaw: Uint8Array;
  /** Raw DER of the subject Name. */
  readonly subjectRaw: Uint8Array;
  /** The last commonName in the subject, if any. */
  readonly cn: string | undefined;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Raw DER of SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  /** The key's algorithm. */
  readonly keyAlgorithm: AlgorithmId;
  /** basicConstraints, when present. */
  readonly basicConstraints?: { ca: boolean; critical: boolean };
  /** keyUsage bits (bit 0 = digitalSignature, 5 = keyCertSign), when present. */
  readonly keyUsage?: readonly boolean[];
  /** dNSName entries of subjectAltName. */
  readonly dnsSans: readonly string[];
  /** uniformResourceIdentifier entries of subjectAltName. */
  readonly uriSans: readonly string[];
  /** The forms of the other subjectAltName entries (iPAddress, rfc822Name, ...), if any. */
  readonly otherSanForms: readonly string[];
  /** nameConstraints, when present (meaningful on a CA). */
  readonly nameConstraints?: NameConstraints;
  /** OIDs of extensions marked critical that we do not understand. */
  readonly unknownCritical: readonly string[];
}

const OID_CN = "2.5.4.3";
const OID_BASIC_CONSTRAINTS = "2.5.29.19";
const OID_KEY_USAGE = "2.5.29.15";
const OID_SAN = "2.5.29.17";
const OID_EXT_KEY_USAGE = "2.5.29.37";
const OID_SKI = "2.5.29.14";
const OID_AKI = "2.5.29.35";
const OID_NAME_CONSTRAINTS = "2.5.29.30";

/** Key usage bit positions. */
export const KeyUsageBit = { digitalSignature: 0, keyCertSign: 5 } as const;

/** Parses DER. @throws {CertificateError} "malformed". */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  try {
    return parseInner(der);
  } catch (e) {
    if (e instanceof DerError || e instanceof RangeError || e instanceof TypeError) {
      throw new CertificateError("malformed", `malformed certificate: ${e.message}`, { cause: e });
    }
    throw e;
  }
}

function parseAlgorithm(el: DerElement | undefined, what: string): AlgorithmId {
  const seq = children(expectTag(el, Tag.SEQUENCE, what));
  if (seq.length < 1 || seq.length > 2) throw new DerError(`${what}: bad AlgorithmIdentifier`);
  return { oid: decodeOid(seq[0]), params: seq[1], raw: el!.raw };
}

function formOf(tag: number): string {
  return GENERAL_NAME_FORMS[tag & 0x1f] ?? `GeneralName [${tag & 0x1f}]`;
}

/** Parses the nameConstraints extension value. Only dNSName subtrees are evaluated. */
function parseNameConstraints(value: Uint8Array): NameConstraints {
  const permittedDns: string[] = [];
  const excludedDns: string[] = [];
  const otherForms = new Set<string>();
  const parts = children(readSingle(value, Tag.SEQUENCE));
  if (parts.length === 0) throw new DerError("empty nameConstraints");
  let last = -1;
  for (const part of parts) {
    // [0] permittedSubtrees, [1] excludedSubtrees, in that order, each at most once.
    const which = part.tag === 0xa0 ? 0 : part.tag === 0xa1 ? 1 : -1;
    if (which <= last) throw new DerError("bad nameConstraints");
    last = which;
    const subtrees = children(part);
    if (subtrees.length === 0) throw new DerError("empty subtrees in nameConstraints");
    for (const st of subtrees) {
      const [base, ...rest] = children(expectTag(st, Tag.SEQUENCE, "GeneralSubtree"));
      if (!base || (base.tag & 0xc0) !== 0x80) throw new DerError("bad GeneralSubtree base");
      // minimum and maximum "MUST" be absent (RFC 5280); fail closed on anything else.
      if (rest.length > 0) throw new DerError("GeneralSubtree minimum/maximum are not supported");
      const form = formOf(base.tag);
      if (base.tag === 0x82) {
        (which === 0 ? permittedDns : excludedDns).push(
          new TextDecoder("latin1").decode(base.value),
        );
      } else otherForms.add(form);
    }
  }
  return { permittedDns, excludedDns, otherForms: [...otherForms] };
}

function parseName(el: DerElement): string | undefined {
  let cn: string | undefined;
  for (const rdn of children(expectTag(el, Tag.SEQUENCE, "name"))) {
    for (const atv of children(expectTag(rdn, Tag.SET, "RDN"))) {
      const [type, value] = children(expectTag(atv, Tag.SEQUENCE, "attribute"));
      if (!type || !value) throw new DerError("bad attribute");
      if (decodeOid(type) === OID_CN) cn = decodeString(value);
    }
  }
  return cn;
}

function parseInner(der: Uint8Array): ParsedCertificate {
  const cert = children(readSingle(der, Tag.SEQUENCE));
  if (cert.length !== 3) throw new DerError("a certificate has three parts");
  const tbsEl = expectTag(cert[0], Tag.SEQUENCE, "tbsCertificate");
  const signatureAlgorithm = parseAlgorithm(cert[1], "signatureAlgorithm");
  const signature = decodeBitStringBytes(expectTag(cert[2], Tag.BIT_STRING, "signature"));

  const tbs = children(tbsEl);
  let i = 0;
  let version = 1;
  if (tbs[i]?.tag === 0xa0) {
    const v = children(tbs[i]);
    if (v.length !== 1) throw new DerError("bad version");
    version = decodeSmallInt(v[0]) + 1;
    if (version < 1 || version > 3) throw new DerError(`unknown version ${version}`);
    i++;
  }
  const serial = expectTag(tbs[i++], Tag.INTEGER, "serialNumber").value;
  if (serial.length === 0) throw new DerError("empty serial number");
  const innerSig = parseAlgorithm(tbs[i++], "tbs signature");
  // Byte for byte: the outer field is not signed, so any freedom there (NULL parameters or
  // none) would let anyone re-encode a certificate into a second DER, i.e. a second PeerId.
  if (!bytesEqual(innerSig.raw, signatureAlgorithm.raw)) {
    throw new DerError(
      "the signatureAlgorithm outside the signed part is not byte-for-byte the one inside",
    );
  }
  const issuerEl = expectTag(tbs[i++], Tag.SEQUENCE, "issuer");
  parseName(issuerEl);
  const validity = children(expectTag(tbs[i++], Tag.SEQUENCE, "validity"));
  if (validity.length !== 2) throw new DerError("bad validity");
  const notBefore = decodeTime(validity[0]);
  const notAfter = decodeTime(validity[1]);
  const subjectEl = expectTag(tbs[i++], Tag.SEQUENCE, "subject");
  const cn = parseName(subjectEl);
  const spkiEl = expectTag(tbs[i++], Tag.SEQUENCE, "subjectPublicKeyInfo");
  const spkiParts = children(spkiEl);
  if (spkiParts.length !== 2) throw new DerError("bad subjectPublicKeyInfo");
  const keyAlgorithm = parseAlgorithm(spkiParts[0], "key algorithm");
  decodeBitStringBytes(expectTag(spkiParts[1], Tag.BIT_STRING, "subjectPublicKey"));

  // Optional issuerUniqueID [1], subjectUniqueID [2] (v2+), extensions [3] (v3).
  if (tbs[i]?.tag === 0x81 || tbs[i]?.tag === 0xa1) i++;
  if (tbs[i]?.tag === 0x82 || tbs[i]?.tag === 0xa2) i++;
  let basicConstraints: ParsedCertificate["basicConstraints"];
  let keyUsage: boolean[] | undefined;
  const dnsSans: string[] = [];
  const uriSans: string[] = [];
  const otherSanForms = new Set<string>();
  let nameConstraints: NameConstraints | undefined;
  const unknownCritical: string[] = [];
  if (tbs[i]?.tag === 0xa3) {
    if (version !== 3) throw new DerError("extensions in a certificate that is not v3");
    const wrap = children(tbs[i++]);
    if (wrap.length !== 1) throw new DerError("bad extensions wrapper");
    const seen = new Set<string>();
    for (const ext of children(expectTag(wrap[0], Tag.SEQUENCE, "extensions"))) {
      const parts = children(expectTag(ext, Tag.SEQUENCE, "extension"));
      const oid = decodeOid(parts[0]);
      if (seen.has(oid)) throw new DerError(`duplicate extension ${oid}`);
      seen.add(oid);
      let critical = false;
      let valueEl = parts[1];
      if (parts.length === 3) {
        critical = decodeBoolean(parts[1]);
        valueEl = parts[2];
      } else if (parts.length !== 2) throw new DerError("bad extension");
      const value = expectTag(valueEl, Tag.OCTET_STRING, "extension value").value;
      switch (oid) {
        case OID_BASIC_CONSTRAINTS: {
          const bc = children(readSingle(value, Tag.SEQUENCE));
          const ca = bc[0]?.tag === Tag.BOOLEAN ? decodeBoolean(bc[0]) : false;
          basicConstraints = { ca, critical };
          break;
        }
        case OID_KEY_USAGE:
          keyUsage = decodeBitFlags(readSingle(value, Tag.BIT_STRING));
          break;
        case OID_SAN:
          for (const gn of children(readSingle(value, Tag.SEQUENCE))) {
            const text = () => new TextDecoder("latin1").decode(gn.value);
            if (gn.tag === 0x82) dnsSans.push(text());
            else if (gn.tag === 0x86) uriSans.push(text());
            else otherSanForms.add(formOf(gn.tag));
          }
          break;
        case OID_NAME_CONSTRAINTS:
          nameConstraints = parseNameConstraints(value);
          break;
        case OID_EXT_KEY_USAGE:
        case OID_SKI:
        case OID_AKI:
          break;
        default:
          if (critical) unknownCritical.push(oid);
      }
    }
  }
  if (i !== tbs.length) throw new DerError("unexpected fields at the end of tbsCertificate");

  return {
    der,
    version,
    serial,
    tbs: tbsEl.raw,
    signatureAlgorithm,
    signature,
    issuerRaw: issuerEl.raw,
    subjectRaw: subjectEl.raw,
    cn,
    notBefore,
    notAfter,
    spki: spkiEl.raw,
    keyAlgorithm,
    basicConstraints,
    keyUsage,
    dnsSans,
    uriSans,
    otherSanForms: [...otherSanForms],
    nameConstraints,
    unknownCritical,
  };
}
