/**
 * IPv6 address parsing and formatting (RFC 4291 text forms, RFC 5952 output).
 *
 * Addresses are 16-byte `Uint8Array`s in network byte order.
 * @module
 */

/** Length of an IPv6 address in bytes. */
export const IPV6_BYTES = 16;

/**
 * Parses an IPv6 address in any RFC 4291 text form ("2001:db8::1", "::", "::ffff:1.2.3.4").
 * Zone identifiers ("%eth0") are refused: vmesh addresses are global to the mesh.
 * @throws {SyntaxError} when the text is not an IPv6 address.
 */
export function parseIpv6(text: string): Uint8Array {
  const out = new Uint8Array(IPV6_BYTES);
  if (typeof text !== "string" || text.length === 0 || text.length > 45) {
    throw new SyntaxError(`not an IPv6 address: "${String(text).slice(0, 60)}"`);
  }
  const bad = () => new SyntaxError(`not an IPv6 address: "${text}"`);
  let s = text;
  const lastColon = s.lastIndexOf(":");
  if (lastColon >= 0 && s.indexOf(".", lastColon) > lastColon) {
    // An embedded IPv4 tail ("::ffff:1.2.3.4") becomes two hex words.
    const v4 = s.slice(lastColon + 1).split(".");
    if (v4.length !== 4) throw bad();
    const b = v4.map((p) => {
      if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === "0")) throw bad();
      const n = Number(p);
      if (n > 255) throw bad();
      return n;
    });
    s = s.slice(0, lastColon + 1) + ((b[0] << 8) | b[1]).toString(16) + ":" +
      ((b[2] << 8) | b[3]).toString(16);
  }
  const words: number[] = [];
  const dbl = s.indexOf("::");
  if (dbl !== s.lastIndexOf("::")) throw bad();
  const parseWords = (part: string): number[] => {
    if (part === "") return [];
    return part.split(":").map((w) => {
      if (!/^[0-9a-fA-F]{1,4}$/.test(w)) throw bad();
      return parseInt(w, 16);
    });
  };
  if (dbl >= 0) {
    const head = parseWords(s.slice(0, dbl));
    const tail = parseWords(s.slice(dbl + 2));
    const fill = 8 - head.length - tail.length;
    if (fill < 1) throw bad();
    words.push(...head, ...new Array(fill).fill(0), ...tail);
  } else {
    words.push(...parseWords(s));
    if (words.length !== 8) throw bad();
  }
  for (let i = 0; i < 8; i++) {
    out[i * 2] = words[i] >> 8;
    out[i * 2 + 1] = words[i] & 0xff;
  }
  return out;
}

/** Formats a 16-byte address in the RFC 5952 canonical form ("2001:db8::1"). */
export function formatIpv6(addr: Uint8Array, offset = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((addr[offset + i * 2] << 8) | addr[offset + i * 2 + 1]);
  let bestStart = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(":");
  if (bestStart < 0) return hex(w);
  return `${hex(w.slice(0, bestStart))}::${hex(w.slice(bestStart + bestLen))}`;
}

/** True when the text looks like an IPv4 address or prefix ("10.0.0.0/8"). */
export function looksLikeIpv4(text: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}(\/\d+)?$/.test(text);
}
