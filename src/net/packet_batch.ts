/**
 * The one packet contract between the vifs, the UDP channel, the TLS session and the
 * forwarder (modelled on wireguard-go's `tun.Device`: `Read(bufs, sizes, offset)`,
 * `Write(bufs, offset)`, `BatchSize()`).
 *
 * A {@link PacketBatch} holds `count` IPv6 packets: packet i is
 * `bufs[i].subarray(0, sizes[i])`, and when `vnet[i]` it starts with a
 * {@link VNET_HDR_LEN}-byte virtio_net_hdr followed by the IPv6 packet.
 *
 * Ownership, the same everywhere: **a batch and every buffer in it belong to whoever filled
 * it; whoever it is handed to borrows it until it hands control back** — until the call that
 * passed the batch returns (`Forwarder.fromPeer`, `Forwarder.fromVif`, `Vif.write`), or for
 * a pull-style read (`Vif.read`, the UDP socket's `receive()`) until the next read. A
 * borrower may modify packets in place (the forwarder decrements the hop limit) and must
 * copy whatever it keeps longer; a sink's `sendPacket` copies before it returns.
 *
 * There is no headroom `offset` (wireguard-go reserves one for its transport header so it can
 * encrypt in place): here neither consumer could use it — the TLS session coalesces many
 * frames into one socket write, and `node:crypto` returns its ciphertext in a fresh buffer —
 * so it would cost a view per packet and buy no copy.
 * @module
 */

/** Size of the virtio_net_hdr (`struct virtio_net_hdr`, no mergeable buffers) before a vnet packet. */
export const VNET_HDR_LEN = 10;

/** A batch of packets; see the module doc for layout and ownership. */
export interface PacketBatch {
  /** Packet buffers; packet i is `bufs[i].subarray(0, sizes[i])`. */
  readonly bufs: Uint8Array[];
  /** Packet lengths, vnet header included. */
  readonly sizes: number[];
  /** Per packet: true when it starts with a {@link VNET_HDR_LEN}-byte virtio_net_hdr. */
  readonly vnet: boolean[];
  /** Number of packets in the batch (≤ `bufs.length`). */
  count: number;
}

/**
 * A batch with `capacity` slots. With `bufSize` every slot gets its own buffer of that size
 * (for a reader to fill); without, the slots start empty (for a producer that points them at
 * packets it already holds, e.g. frames inside a TLS chunk).
 *
 * The slots' buffers are disjoint views of one allocation: a TUN batch is 64 slots of ~64 KiB,
 * and 64 separate buffers come from the C heap zero-filled (~10 ms of CPU at start and 3 MiB
 * resident before any packet), where one 4 MiB buffer is mapped lazily (pages become resident
 * when a packet first fills them).
 */
export function newPacketBatch(capacity: number, bufSize = 0): PacketBatch {
  const empty = new Uint8Array(0);
  const backing = bufSize > 0 ? new Uint8Array(capacity * bufSize) : empty;
  return {
    bufs: Array.from(
      { length: capacity },
      (_, i) => bufSize > 0 ? backing.subarray(i * bufSize, (i + 1) * bufSize) : empty,
    ),
    sizes: new Array<number>(capacity).fill(0),
    vnet: new Array<boolean>(capacity).fill(false),
    count: 0,
  };
}

/**
 * Appends a packet held elsewhere (the view is stored, not copied) to a batch built without
 * `bufSize`; the arrays grow when full. Returns the batch.
 */
export function pushPacket(batch: PacketBatch, pkt: Uint8Array, vnet: boolean): PacketBatch {
  const i = batch.count++;
  batch.bufs[i] = pkt;
  batch.sizes[i] = pkt.length;
  batch.vnet[i] = vnet;
  return batch;
}

/** A batch holding the given packets (views stored, not copied), each flagged `vnet`. */
export function packetBatchOf(packets: readonly Uint8Array[], vnet = false): PacketBatch {
  const batch = newPacketBatch(0);
  for (const p of packets) pushPacket(batch, p, vnet);
  return batch;
}

/** Copies of a batch's packets, in order (for tests and tools, not the packet path). */
export function copyPackets(batch: PacketBatch): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < batch.count; i++) out.push(batch.bufs[i].slice(0, batch.sizes[i]));
  return out;
}
