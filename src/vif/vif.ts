/**
 * The virtual interface (vif) seen by the forwarder: where packets enter and leave the mesh
 * on this node. Implementations: TUN device, unixgram service socket, dummy, in-memory.
 *
 * Packets move in {@link PacketBatch}es (src/net/packet_batch.ts), under its one ownership
 * rule: the caller owns every batch passed to `read` and `write`. `read` fills the caller's
 * buffers and returns; the vif keeps no reference. `write` hands the bytes to the kernel (or
 * copies them) before it returns; the caller may reuse the buffers at once.
 * @module
 */
import { type PacketBatch, VNET_HDR_LEN } from "../net/mod.ts";

export { VNET_HDR_LEN };

/** Packets a vif moves per read at most unless it says otherwise (wireguard-go's BatchSize). */
export const DEFAULT_VIF_BATCH = 64;

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
   * How many packets one `read` may return: give `read` a batch with this many slots (the
   * vif is read once per wake-up, so this bounds the work done per event-loop turn).
   */
  readonly batchSize: number;
  /**
   * Waits until packets are available, then fills up to `batch.bufs.length` of them
   * synchronously: packet i is `batch.bufs[i].subarray(0, batch.sizes[i])`, starting with
   * the vnet header when `vnetHdr` (`batch.vnet[i]` is set to `vnetHdr`). Each buffer must
   * hold `maxPacketSize()` bytes. Sets and resolves with `batch.count` (≥ 1), or 0 once the
   * vif is closed. Never awaits per packet. Only one `read` may be pending at a time.
   */
  read(batch: PacketBatch): Promise<number>;
  /**
   * Writes the batch's `count` packets synchronously; each is already in this vif's framing
   * (with a vnet header exactly when `vnetHdr`). Packets that cannot be written (queue full,
   * error) are dropped and counted, never thrown. Returns the number of packets written.
   */
  write(batch: PacketBatch): number;
  /**
   * Bytes each `read` buffer must hold: the largest packet `read` may return, vnet header
   * included (a vif may ask for a spare byte to detect oversize packets).
   */
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
