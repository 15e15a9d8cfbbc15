/**
 * Network value types: IPv6 addresses (16-byte arrays, RFC 4291 text forms, RFC 5952 output),
 * IPv6 prefixes (the unit of routing) and host:port addresses. Pure functions; imports nothing from the rest of
 * vmesh.
 * @module
 */
export { formatHostPort, type HostPort, parseHostPort } from "./host_port.ts";
export { formatIpv6, IPV6_BYTES, looksLikeIpv4, parseIpv6 } from "./ipv6.ts";
export {
  addressInPrefix,
  formatPrefix,
  type Ipv6Prefix,
  maskAddress,
  parsePrefix,
  prefixCovers,
  prefixEquals,
  prefixKey,
} from "./prefix.ts";
