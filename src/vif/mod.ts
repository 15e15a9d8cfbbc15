/**
 * Virtual interfaces (vifs): where packets enter and leave the mesh on this node, behind one
 * small {@link Vif} interface (batch read and write into caller-owned buffers). The
 * implementations: a Linux TUN device (with virtio_net_hdr offloads and GSO segmentation), the
 * unixgram "service" socket, a dummy that drops everything, and an in-memory pair for tests;
 * plus the fd poller that awaits readability off the event loop.
 * @module
 */
export { newVifStats, type Vif, type VifStats, VNET_HDR_LEN } from "./vif.ts";
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
export { BatchReader, FdPoller, MAX_BATCHES_WITHOUT_POLL } from "./fd_poller.ts";
export { segmentSuperPacket } from "./gso.ts";
export { parseVnetHdr, type VnetHdr, writeVnetHdr } from "./vnet_hdr.ts";
export { fillL4Checksum, verifyL4Checksum } from "./checksum.ts";
