/**
 * A strict, minimal DER reader: just enough ASN.1 to take X.509 certificates apart for our own
 * checks. Every read is bounds-checked; anything that is not canonical DER where it matters
 * (indefinite lengths, lengths past the end, non-minimal length encodings) throws.
 * @module
 */

/** Thrown for malformed DER. Callers turn it into their own error with a reason. */
export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DerError";
  }
}

/** ASN.1 universal tags used by X.509. */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  NUMERIC_STRING: 0x12,
  IA5_STRING: 0x16,
  VISIBLE_STRING: 0x1a,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** One TLV element. `raw` covers tag+length+value; `value` only the contents. */
export interface DerElement {
  readonly tag: number;
  readonly raw: Uint8Array;
  readonly value: Uint8Array;
}

/** Reads one element at `off` of `buf`; returns it and the offset after it. */
export function readElement(buf: Uint8Array, off = 0): { el: DerElement; next: number } {
  if (off + 2 > buf.length) throw new DerError("truncated: no room for tag and length");
  const tag = buf[off];
  if ((tag & 0x1f) === 0x1f) throw new DerError("high tag numbers are not supported");
  let p = off + 1;
  let len = buf[p++];
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError("indefinite length is not DER");
    if (n > 4) throw new DerError("length field too long");
    if (p + n > buf.length) throw new DerError("truncated length");
    if (buf[p] === 0) throw new DerError("non-minimal length encoding");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++];
    if (len < 0x80) throw new DerError("non-minimal length encoding");
  }
  const end = p + len;
  if (end > buf.length) throw new DerError("truncated: element runs past the end");
  return {
    el: { tag, raw: buf.subarray(off, end), value: buf.subarray(p, end) },
    next: end,
  };
}

/** Parses `buf` as exactly one element (no trailing bytes). */
export function readSingle(buf: Uint8Array, expectTag?: number): DerElement {
  const { el, next } = readElement(buf, 0);
  if (next !== buf.length) throw new DerError("trailing bytes after the element");
  if (expectTag !== undefined && el.tag !== expectTag) {
    throw new DerError(`expected tag 0x${expectTag.toString(16)}, got 0x${el.tag.toString(16)}`);
  }
  return el;
}

/** The child elements of a constructed element (SEQUENCE, SET, explicit tag). */
export function children(el: DerElement): DerElement[] {
  if ((el.tag & 0x20) === 0) throw new DerError("expected a constructed element");
  const out: DerElement[] = [];
  let off = 0;
  while (off < el.value.length) {
    const { el: c, next } = readElement(el.value, off);
    out.push(c);
    off = next;
  }
  return out;
}

/** Asserts the tag of an element and returns it. */
export function expectTag(el: DerElement | undefined, tag: number, what: string): DerElement {
  if (!el) throw new DerError(`missing ${what}`);
  if (el.tag !== tag) {
    throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${el.tag.toString(16)}`);
  }
  return el;
}

/** Decodes an OBJECT IDENTIFIER to dotted text. */
export function decodeOid(el: DerElement): string {
  if (el.tag !== Tag.OID) throw new DerError("expected an OID");
  const v = el.value;
  if (v.length === 0) throw new DerError("empty OID");
  const parts: number[] = [];
  let acc = 0;
  let started = false;
  for (let i = 0; i < v.length; i++) {
    if (!started && v[i] === 0x80) throw new DerError("non-minimal OID arc");
    started = true;
    acc = acc * 128 + (v[i] & 0x7f);
    if (acc > Number.MAX_SAFE_INTEGER / 128) throw new DerError("OID arc too large");
    if ((v[i] & 0x80) === 0) {
      parts.push(acc);
      acc = 0;
      started = false;
    }
  }
  if (started) throw new DerError("truncated OID");
  const first = parts[0];
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...parts.slice(1)].join(".");
}

/** Decodes a non-negative INTEGER small enough for a JS number (versions, lengths). */
export function decodeSmallInt(el: DerElement): number {
  if (el.tag !== Tag.INTEGER || el.value.length === 0 || el.value.length > 6) {
    throw new DerError("expected a small INTEGER");
  }
  if (el.value[0] & 0x80) throw new DerError("negative INTEGER");
  let n = 0;
  for (const b of el.value) n = n * 256 + b;
  return n;
}

/** Decodes a BOOLEAN (DER: 0x00 or 0xff). */
export function decodeBoolean(el: DerElement): boolean {
  if (el.tag !== Tag.BOOLEAN || el.value.length !== 1) throw new DerError("expected a BOOLEAN");
  if (el.value[0] === 0) return false;
  if (el.value[0] === 0xff) return true;
  throw new DerError("BOOLEAN is not DER");
}

/** The bytes of a BIT STRING with no unused bits (signatures, keys). */
export function decodeBitStringBytes(el: DerElement): Uint8Array {
  if (el.tag !== Tag.BIT_STRING || el.value.length === 0) {
    throw new DerError("expected a BIT STRING");
  }
  if (el.value[0] !== 0) throw new DerError("BIT STRING with unused bits where bytes expected");
  return el.value.subarray(1);
}

/** Decodes a BIT STRING into a bit array, bit 0 first (keyUsage). */
export function decodeBitFlags(el: DerElement): boolean[] {
  if (el.tag !== Tag.BIT_STRING || el.value.length === 0) {
    throw new DerError("expected a BIT STRING");
  }
  const unused = el.value[0];
  if (unused > 7 || (el.value.length === 1 && unused !== 0)) throw new DerError("bad BIT STRING");
  const bits: boolean[] = [];
  const n = (el.value.length - 1) * 8 - unused;
  for (let i = 0; i < n; i++) bits.push(((el.value[1 + (i >> 3)] >> (7 - (i & 7))) & 1) === 1);
  return bits;
}

/** Decodes UTCTime or GeneralizedTime (the "Z" forms that X.509 requires). */
export function decodeTime(el: DerElement): Date {
  const text = new TextDecoder("latin1").decode(el.value);
  let m: RegExpMatchArray | null;
  let year: number;
  if (el.tag === Tag.UTC_TIME) {
    m = text.match(/^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/);
    if (!m) throw new DerError(`bad UTCTime "${text}"`);
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (el.tag === Tag.GENERALIZED_TIME) {
    m = text.match(/^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/);
    if (!m) throw new DerError(`bad GeneralizedTime "${text}"`);
    year = Number(m[1]);
  } else {
    throw new DerError("expected a time");
  }
  const [mo, d, h, mi, s] = [m[2], m[3], m[4], m[5], m[6]].map(Number);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) {
    throw new DerError(`time out of range "${text}"`);
  }
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0–99 to 1900–1999.
  const date = new Date(Date.UTC(2000, 0, 1, h, mi, s));
  date.setUTCFullYear(year, mo - 1, d);
  // An impossible day (February 30, April 31) would silently roll into the next month.
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) {
    throw new DerError(`no such date "${text}"`);
  }
  return date;
}

/** Decodes a directory string (UTF8String, PrintableString, IA5String, BMPString, ...). */
export function decodeString(el: DerElement): string {
  switch (el.tag) {
    case Tag.UTF8_STRING:
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(el.value);
    case Tag.PRINTABLE_STRING:
    case Tag.NUMERIC_STRING:
    case Tag.VISIBLE_STRING:
    case Tag.IA5_STRING:
    case Tag.T61_STRING:
      return new TextDecoder("latin1").decode(el.value);
    case Tag.BMP_STRING: {
      if (el.value.length % 2) throw new DerError("odd BMPString");
      let s = "";
      for (let i = 0; i < el.value.length; i += 2) {
        s += String.fromCharCode((el.value[i] << 8) | el.value[i + 1]);
      }
      return s;
    }
    case Tag.UNIVERSAL_STRING: {
      if (el.value.length % 4) throw new DerError("bad UniversalString");
      let s = "";
      const dv = new DataView(el.value.buffer, el.value.byteOffset, el.value.byteLength);
      for (let i = 0; i < el.value.length; i += 4) s += String.fromCodePoint(dv.getUint32(i));
      return s;
    }
    default:
      throw new DerError(`unsupported string type 0x${el.tag.toString(16)}`);
  }
}

/** Constant-length-independent byte equality (not constant-time; no secrets compared here). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Encodes one TLV element with a definite, minimal length. */
export function encodeTlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  const len: number[] = [];
  if (n < 0x80) len.push(n);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    len.push(0x80 | bytes.length, ...bytes);
  }
  const out = new Uint8Array(1 + len.length + n);
  out[0] = tag;
  out.set(len, 1);
  out.set(content, 1 + len.length);
  return out;
}

/** Concatenates byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
