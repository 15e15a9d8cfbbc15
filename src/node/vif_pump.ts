/**
 * Reads a vif in batches and hands each batch to the forwarder: one await per wake-up,
 * never per packet. The batch (`vif.batchSize` buffers of `vif.maxPacketSize()` bytes) is
 * allocated once per vif and reused for its lifetime; the sink borrows it for the call
 * (src/net/packet_batch.ts).
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { newPacketBatch, type PacketBatch } from "../net/mod.ts";
import type { Vif } from "../vif/mod.ts";

const log = getLogger(["vmesh", "dataplane"]);

/** Receives the batches read from a vif. */
export type BatchSink = (batch: PacketBatch) => void;

/**
 * Runs until the vif is closed (read resolves 0). A read error other than closing is logged
 * and ends the pump; the returned promise never rejects.
 */
export async function pumpVif(key: string, vif: Vif, sink: BatchSink): Promise<void> {
  const batch = newPacketBatch(vif.batchSize, vif.maxPacketSize());
  while (true) {
    let n: number;
    try {
      n = await vif.read(batch);
    } catch (e) {
      log.error("reading vif {key} ({name}) failed, it no longer forwards: {error}", {
        key,
        name: vif.name,
        error: e instanceof Error ? e.message : String(e),
      });
      return;
    }
    if (n === 0) return;
    try {
      sink(batch);
    } catch (e) {
      // The forwarder counts faults instead of throwing; reaching this is a bug worth a log.
      log.error("forwarding a batch from {key} threw: {error}", { key, error: `${e}` });
    }
  }
}
