/**
 * Node names and domains. A node's name is its certificate's CN ("a.vnet.example.com"); its
 * domain is everything after the first dot ("vnet.example.com"), as in the Go vmesh.
 * @module
 */
import { parseCertificate } from "./certificate.ts";

/**
 * The domain of a node name: everything after the first dot, lower-cased.
 * @returns "" when the name has no dot (such a name is refused as a node name).
 * @example domainOf("a.vnet.example.com") // "vnet.example.com"
 */
export function domainOf(name: string): string {
  const dot = name.indexOf(".");
  if (dot < 0 || dot === name.length - 1) return "";
  return name.slice(dot + 1).toLowerCase();
}

/**
 * True when `name` is `domain` itself or a name below it (case-insensitive; trailing dots,
 * however many, are ignored on both).
 */
export function isInDomain(name: string, domain: string): boolean {
  const d = domain.toLowerCase().replace(/\.+$/, "");
  if (d === "") return false;
  const n = name.toLowerCase().replace(/\.+$/, "");
  return n === d || n.endsWith("." + d);
}

/** True when `name` is usable as a node name: DNS-like labels, at least two of them. */
export function isValidNodeName(name: string): boolean {
  if (name.length > 253) return false;
  const label = /^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$/;
  const labels = name.split(".");
  return labels.length >= 2 && labels.every((l) => label.test(l));
}

/**
 * The names a certificate carries, for the dialer's name check: subject CN and DNS SANs.
 * @throws {CertificateError} "malformed" when the DER does not parse.
 */
export function certificateNames(der: Uint8Array): { cn: string | undefined; dnsSans: string[] } {
  const c = parseCertificate(der);
  return { cn: c.cn, dnsSans: [...c.dnsSans] };
}
