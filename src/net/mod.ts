/**
 * Network value types: IPv6 addresses (16-byte arrays, RFC 4291 text forms, RFC 5952 output),
 * IPv6 prefixes (the unit of routing), host:port addresses, DNS names as certificates carry
 * them, the next hop a FIB entry points at, and the packet batch contract every packet path
 * shares (vif, forwarder, session, UDP channel). Pure functions; imports nothing from the rest of
 * vmesh.
 * @module
 */
export { bytesEqual } from "./bytes.ts";
export { canonicalName, sameName } from "./dns_name.ts";
export { formatHostPort, type HostPort, parseHostPort } from "./host_port.ts";
export { formatIpv6, IPV6_BYTES, looksLikeIpv4, parseIpv6 } from "./ipv6.ts";
export type { NextHop } from "./next_hop.ts";
export {
  copyPackets,
  newPacketBatch,
  type PacketBatch,
  packetBatchOf,
  pushPacket,
  VNET_HDR_LEN,
} from "./packet_batch.ts";
export {
  addressInPrefix,
  addressKey,
  formatPrefix,
  type Ipv6Prefix,
  maskAddress,
  parsePrefix,
  prefixCovers,
  prefixEquals,
  prefixFromKey,
  prefixKey,
} from "./prefix.ts";
