/**
 * The virtual interface (vif) seen by the forwarder: where packets enter and leave the mesh
 * on this node. Implementations: TUN device, unixgram service socket, dummy, in-memory.
 *
 * Buffer ownership (as wireguard-go's tun.Device): the caller owns every buffer passed to
 * `read` and `write`. `read` fills caller buffers and returns; the vif keeps no reference.
 * `write` copies or hands the bytes to the kernel before it returns; the caller may reuse the
 * buffers at once.
 * @module
 */

/** Size of the virtio_net_hdr that precedes each packet when {@link Vif.vnetHdr} is true. */
export const VNET_HDR_LEN = 10;

/** Counters every vif keeps. Monotonic; read them, never reset them. */
export interface VifStats {
  /** Packets handed to the caller by `read`. */
  rxPackets: number;
  /** Bytes handed to the caller by `read` (without any vnet header). */
  rxBytes: number;
  /** Packets accepted by `write`. */
  txPackets: number;
  /** Bytes accepted by `write` (without any vnet header). */
  txBytes: number;
  /** Packets read that were not IPv6 and were dropped. */
  rxDropNotIpv6: number;
  /** Packets dropped on write because the device queue was full (EAGAIN) or the peer gone. */
  txDropFull: number;
  /** Packets dropped on write for any other error (too large, device error). */
  txDropError: number;
}

/** A virtual interface. */
export interface Vif {
  /** The interface's real name (for a TUN, the kernel's name after template expansion). */
  readonly name: string;
  /** The MTU of packets on this vif (without the vnet header). */
  readonly mtu: number;
  /**
   * True when every packet in `read`/`write` buffers is preceded by a 10-byte
   * virtio_net_hdr (TUN with IFF_VNET_HDR). Reads may then return TCP super-packets of up to
   * ~64 KiB; writes may pass them back whole.
   */
  readonly vnetHdr: boolean;
  /** Counters. */
  readonly stats: VifStats;
  /**
   * Waits until packets are available, then fills up to `bufs.length` of them synchronously:
   * packet i occupies `bufs[i].subarray(offset, offset + sizes[i])` (starting with the vnet
   * header when `vnetHdr`). Each buffer must have room for `offset + maxPacketSize()` bytes.
   * Resolves with the number of packets filled (≥ 1), or 0 once the vif is closed.
   * Never awaits per packet. Only one `read` may be pending at a time.
   */
  read(bufs: Uint8Array[], sizes: number[], offset: number): Promise<number>;
  /**
   * Writes `count` packets, packet i being `bufs[i].subarray(offset, offset + sizes[i])`,
   * synchronously. Packets that cannot be written (queue full, error) are dropped and
   * counted, never thrown. Returns the number of packets written.
   */
  write(bufs: Uint8Array[], sizes: number[], count: number, offset: number): number;
  /** Largest packet `read` may return, including the vnet header when present. */
  maxPacketSize(): number;
  /** Releases the vif; a pending `read` resolves 0. Idempotent. */
  close(): void;
}

/** Fresh zeroed counters. */
export function newVifStats(): VifStats {
  return {
    rxPackets: 0,
    rxBytes: 0,
    txPackets: 0,
    txBytes: 0,
    rxDropNotIpv6: 0,
    txDropFull: 0,
    txDropError: 0,
  };
}
