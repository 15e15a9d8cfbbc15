/**
 * The dataplane: the {@link Forwarder} moves IPv6 packets between vifs and peers by one FIB
 * lookup each, answers with ICMPv6 errors (rate-limited) and counts every drop. It sees the FIB
 * only as a {@link RouteLookup} and peers only as {@link PeerSink}s: it never imports routing,
 * filter or dc (the control plane builds the FIB and hands it over).
 * @module
 */
export {
  Forwarder,
  type ForwarderOptions,
  type ForwarderStats,
  type NextHop,
  type PeerSink,
  type RouteLookup,
} from "./forwarder.ts";
