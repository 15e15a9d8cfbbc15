/**
 * Virtual interfaces (vifs): where packets enter and leave the mesh on this node, behind one
 * small {@link Vif} interface (batch read and write into caller-owned buffers). The
 * implementations: a Linux TUN device (with virtio_net_hdr offloads and GSO segmentation), the
 * unixgram "service" socket, a dummy that drops everything, and an in-memory pair for tests;
 * plus the batch reader every fd-backed reader shares and the virtio_net_hdr checks.
 * @module
 */
export { DEFAULT_VIF_BATCH, newVifStats, type Vif, type VifStats } from "./vif.ts";
export {
  openTunVif,
  parseInterfaceAddress,
  TUN_MAX_SUPER_PACKET,
  TunVif,
  type TunVifOptions,
} from "./tun.ts";
export { openServiceVif, ServiceVif, type ServiceVifOptions } from "./service.ts";
export { DummyVif } from "./dummy.ts";
export { MemoryVif, type MemoryVifOptions, memoryVifPair } from "./memory.ts";
export { BatchReader, MAX_BATCHES_WITHOUT_POLL } from "./batch_reader.ts";
export { segmentSuperPacket } from "./gso.ts";
export {
  checkPeerVnetHdr,
  MAX_PEER_GSO_SEGMENTS,
  parseVnetHdr,
  VnetFault,
  type VnetHdr,
  writeVnetHdr,
} from "./vnet_hdr.ts";
export { fillL4Checksum, verifyL4Checksum } from "./checksum.ts";
