/**
 * UDP peer addresses in one fixed binary form, so the receive path compares addresses without
 * allocating: 18 bytes = IPv6 address (IPv4 as v4-mapped `::ffff:a.b.c.d`) ‖ port (u16 BE).
 * @module
 */
import { formatIpv6, looksLikeIpv4, parseIpv6 } from "../net/mod.ts";

/** Length of a {@link UdpAddress} in bytes. */
export const UDP_ADDRESS_BYTES = 18;

/** An IPv6 address (v4-mapped for IPv4) followed by the port, big-endian: 18 bytes. */
export type UdpAddress = Uint8Array;

/** True when the 16-byte address at `addr[0..16)` is v4-mapped (`::ffff:0:0/96`). */
export function isV4Mapped(addr: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (addr[i] !== 0) return false;
  return addr[10] === 0xff && addr[11] === 0xff;
}

/**
 * Builds a UdpAddress from a host (an IPv4 or IPv6 literal, optionally in brackets) and a port.
 * @throws {SyntaxError} when the host is not an IP literal or the port is not 0–65535.
 */
export function udpAddress(host: string, port: number): UdpAddress {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SyntaxError(`UDP address: port must be an integer 0–65535, got ${port}`);
  }
  let h = host;
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  const out = new Uint8Array(UDP_ADDRESS_BYTES);
  if (looksLikeIpv4(h)) {
    out.set(parseIpv6(`::ffff:${h}`));
  } else {
    try {
      out.set(parseIpv6(h));
    } catch (e) {
      throw new SyntaxError(`UDP address: "${host}" is not an IPv4 or IPv6 address`, { cause: e });
    }
  }
  out[16] = port >> 8;
  out[17] = port & 0xff;
  return out;
}

/** The port of a UdpAddress. */
export function udpPort(addr: UdpAddress): number {
  return (addr[16] << 8) | addr[17];
}

/** The host part as text: dotted IPv4 for v4-mapped addresses, else RFC 5952 IPv6. */
export function udpHost(addr: UdpAddress): string {
  if (isV4Mapped(addr)) return `${addr[12]}.${addr[13]}.${addr[14]}.${addr[15]}`;
  return formatIpv6(addr);
}

/** Formats as `1.2.3.4:5` or `[2001:db8::1]:5`. */
export function formatUdpAddress(addr: UdpAddress): string {
  const host = udpHost(addr);
  return isV4Mapped(addr) ? `${host}:${udpPort(addr)}` : `[${host}]:${udpPort(addr)}`;
}

/** Byte equality of two UdpAddresses (no allocation). */
export function udpAddressEquals(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < UDP_ADDRESS_BYTES; i++) if (a[i] !== b[i]) return false;
  return true;
}
