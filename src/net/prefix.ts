/**
 * IPv6 prefixes: the unit of routing in vmesh.
 * @module
 */
import { bytesEqual } from "./bytes.ts";
import { formatIpv6, IPV6_BYTES, looksLikeIpv4, parseIpv6 } from "./ipv6.ts";

/** An IPv6 prefix: 16 address bytes with every bit past `len` zero, and a length 0..128. */
export interface Ipv6Prefix {
  /** The network address, 16 bytes, host bits zero. Treat as immutable. */
  readonly addr: Uint8Array;
  /** Prefix length in bits, 0..128. */
  readonly len: number;
}

/**
 * Parses "2001:db8::/32". Host bits must be zero unless `allowHostBits` is set, in which case
 * they are cleared (used for interface addresses such as "fd00:1::1/64").
 * @throws {SyntaxError} on malformed text, {RangeError} on a bad length or set host bits.
 */
export function parsePrefix(text: string, allowHostBits = false): Ipv6Prefix {
  if (typeof text !== "string") throw new SyntaxError(`not an IPv6 prefix: ${String(text)}`);
  if (looksLikeIpv4(text)) {
    throw new SyntaxError(`"${text}" is IPv4: vmesh routes IPv6 only`);
  }
  const slash = text.indexOf("/");
  if (slash < 0) throw new SyntaxError(`not an IPv6 prefix (missing "/len"): "${text}"`);
  const lenText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) throw new SyntaxError(`bad prefix length in "${text}"`);
  const len = Number(lenText);
  if (len > 128) throw new RangeError(`prefix length ${len} is over 128 in "${text}"`);
  const addr = parseIpv6(text.slice(0, slash));
  const masked = maskAddress(addr, len);
  if (!allowHostBits && !bytesEqual(addr, masked)) {
    throw new RangeError(
      `host bits are set in "${text}": did you mean "${formatIpv6(masked)}/${len}"?`,
    );
  }
  return { addr: masked, len };
}

/** Returns a copy of `addr` with every bit past `len` cleared. */
export function maskAddress(addr: Uint8Array, len: number): Uint8Array {
  const out = new Uint8Array(IPV6_BYTES);
  const full = len >> 3;
  out.set(addr.subarray(0, full));
  if (full < 16 && (len & 7) !== 0) out[full] = addr[full] & (0xff << (8 - (len & 7)));
  return out;
}

/** Formats a prefix as "2001:db8::/32". */
export function formatPrefix(p: Ipv6Prefix): string {
  return `${formatIpv6(p.addr)}/${p.len}`;
}

/** True when `outer` covers `inner` (same or shorter length, same leading bits). */
export function prefixCovers(outer: Ipv6Prefix, inner: Ipv6Prefix): boolean {
  if (outer.len > inner.len) return false;
  return addressInPrefix(inner.addr, 0, outer);
}

/** True when the 16 bytes at `buf[off..off+16]` fall inside `p`. */
export function addressInPrefix(buf: Uint8Array, off: number, p: Ipv6Prefix): boolean {
  const full = p.len >> 3;
  for (let i = 0; i < full; i++) if (buf[off + i] !== p.addr[i]) return false;
  const rem = p.len & 7;
  if (rem === 0) return true;
  const mask = 0xff << (8 - rem) & 0xff;
  return (buf[off + full] & mask) === p.addr[full];
}

/** True when both prefixes are the same. */
export function prefixEquals(a: Ipv6Prefix, b: Ipv6Prefix): boolean {
  return a.len === b.len && bytesEqual(a.addr, b.addr);
}

/** One-character strings for the bytes 0..255 (building {@link prefixKey}s without garbage). */
const BYTE_CHARS = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i));

/**
 * A stable, compact string key for maps: one character for the length, then one per byte that
 * the length covers (a /64 is 9 one-byte characters). Not for display (use `formatPrefix`);
 * {@link prefixFromKey} turns it back into the prefix. Host bits past the length must be zero
 * (as in every valid prefix); they are ignored.
 */
export function prefixKey(p: Ipv6Prefix): string {
  return addressKey(p.addr, p.len);
}

/** The {@link prefixKey} of the first `len` bits of `addr` (the bits past them are ignored). */
export function addressKey(addr: Uint8Array, len: number): string {
  const full = len >> 3;
  let s = BYTE_CHARS[len];
  for (let i = 0; i < full; i++) s += BYTE_CHARS[addr[i]];
  if ((len & 7) !== 0) s += BYTE_CHARS[addr[full] & (0xff << (8 - (len & 7))) & 0xff];
  return s;
}

/**
 * The prefix a {@link prefixKey} was made from.
 * @throws {RangeError} when `key` is not a prefix key
 */
export function prefixFromKey(key: string): Ipv6Prefix {
  const len = key.charCodeAt(0);
  const n = (len + 7) >> 3;
  if (!(len <= 128) || key.length !== n + 1) throw new RangeError("not a prefix key");
  const addr = new Uint8Array(16);
  for (let i = 0; i < n; i++) {
    const b = key.charCodeAt(i + 1);
    if (b > 255) throw new RangeError("not a prefix key");
    addr[i] = b;
  }
  return { addr, len };
}
