/**
 * The source address of this router's ICMPv6 errors.
 * @module
 */
import type { NodeConfig } from "../config/mod.ts";
import { parseIpv6 } from "../net/mod.ts";

/**
 * The source address of this router's ICMPv6 errors: the first address on a TUN vif, else
 * the first address (::1) inside the first local announcement, else ::1.
 */
export function routerAddress(config: NodeConfig): Uint8Array {
  for (const v of config.vifs.values()) {
    if (v.type === "tun" && v.addresses.length > 0) return v.addresses[0].addr;
  }
  const a = config.localAnnouncements[0];
  if (a) {
    const addr = a.prefix.addr.slice();
    if (a.prefix.len < 128) addr[15] |= 1;
    return addr;
  }
  return parseIpv6("::1");
}
