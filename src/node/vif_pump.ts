/**
 * Reads a vif in batches and hands each batch to the forwarder: one await per wake-up,
 * never per packet. The buffers are allocated once per vif and reused for its lifetime.
 * @module
 */
import type { Vif } from "../vif/vif.ts";
import { getLogger } from "@logtape/logtape";

const log = getLogger(["vmesh", "dataplane"]);

/** Receives the batches read from a vif. */
export type BatchSink = (
  bufs: Uint8Array[],
  sizes: number[],
  count: number,
  offset: number,
  vnet: boolean,
) => void;

/** Packets read per wake-up at most. */
export const READ_BATCH = 64;

/**
 * Runs until the vif is closed (read resolves 0). A read error other than closing is logged
 * and ends the pump; the returned promise never rejects.
 */
export async function pumpVif(key: string, vif: Vif, sink: BatchSink): Promise<void> {
  const size = vif.maxPacketSize();
  const bufs = Array.from({ length: READ_BATCH }, () => new Uint8Array(size));
  const sizes = new Array<number>(READ_BATCH).fill(0);
  while (true) {
    let n: number;
    try {
      n = await vif.read(bufs, sizes, 0);
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
      sink(bufs, sizes, n, 0, vif.vnetHdr);
    } catch (e) {
      // The forwarder counts faults instead of throwing; reaching this is a bug worth a log.
      log.error("forwarding a batch from {key} threw: {error}", { key, error: `${e}` });
    }
  }
}
