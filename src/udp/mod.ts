/**
 * The encrypted UDP data channel: an optional fast path for IP packets between two peers that
 * already share an authenticated TLS session. See docs/udp-channel.md.
 *
 * Wiring, per node: one {@link UdpEndpoint} on the TLS listener's host/port; per session, one
 * {@link UdpChannelSetup} fed the session's `channelSecret`, PeerIds and control frames.
 * The forwarder never sees this module: src/node/udp_links.ts gives it one peer sink per
 * session whose `sendPacket` tries `setup.send(packet, vnet)` and falls back to the TLS
 * session when that returns false, and whose `flush` flushes both (`UdpEndpoint.flush`).
 * Received packets reach the forwarder as `fromPeer(peerId, batch)` through `onPackets`.
 * @module
 */
export {
  formatUdpAddress,
  type UdpAddress,
  udpAddress,
  udpAddressEquals,
  udpHost,
  udpPort,
} from "./address.ts";
export { AEAD_ALGORITHM } from "./aead.ts";
export {
  DEFAULT_KEEPALIVE_MS,
  DEFAULT_MAX_DATAGRAM_BYTES,
  DEFAULT_USABLE_TIMEOUT_MS,
  UdpChannel,
  type UdpChannelOptions,
} from "./channel.ts";
export { type UdpChannelStats } from "./channel_stats.ts";
export { HEADER_BYTES, OVERHEAD_BYTES } from "./datagram.ts";
export {
  type ChannelParams,
  MAX_CHANNELS,
  UdpEndpoint,
  type UdpEndpointOptions,
  type UdpEndpointStats,
} from "./endpoint.ts";
export { CHANNEL_SECRET_BYTES, type ChannelKeys, deriveChannelKeys } from "./keys.ts";
export {
  refuseChannelRequest,
  UdpChannelSetup,
  type UdpSetupParams,
  type UdpSetupState,
  type UdpTraffic,
} from "./setup.ts";
export {
  type ChannelRequest,
  type ChannelResponse,
  decodeChannelRequest,
  decodeChannelResponse,
  encodeChannelRefusal,
  encodeChannelRequest,
  encodeChannelResponse,
  SETUP_PAYLOAD_BYTES,
  SetupStatus,
} from "./setup_codec.ts";
export { type UdpSocketStats } from "./socket.ts";
