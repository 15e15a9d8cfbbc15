/**
 * The dummy vif: writes are counted and discarded, reads wait until close. For nodes that
 * only relay between peers (the Go original's "dummy" vif_type).
 * @module
 */
import type { PacketBatch } from "../net/mod.ts";
import { DEFAULT_VIF_BATCH, newVifStats, type Vif, type VifStats } from "./vif.ts";

/** A vif that swallows every packet and never produces one. */
export class DummyVif implements Vif {
  readonly name: string;
  readonly mtu: number;
  readonly vnetHdr = false;
  readonly stats: VifStats = newVifStats();
  readonly batchSize = DEFAULT_VIF_BATCH;
  #closed = false;
  #wake: ((n: number) => void) | undefined;

  /** @param name shown in logs (default "dummy"). @param mtu reported MTU (default 1500). */
  constructor(name = "dummy", mtu = 1500) {
    this.name = name;
    this.mtu = mtu;
  }

  /** Resolves 0 when the vif is closed; never before. */
  read(_batch: PacketBatch): Promise<number> {
    if (this.#closed) return Promise.resolve(0);
    if (this.#wake) throw new Error(`${this.name}: read() while another read is pending`);
    return new Promise((resolve) => this.#wake = resolve);
  }

  /** Counts the packets as written and drops them. */
  write(batch: PacketBatch): number {
    const { sizes, count } = batch;
    if (this.#closed) {
      this.stats.txDropError += count;
      return 0;
    }
    for (let i = 0; i < count; i++) this.stats.txBytes += sizes[i];
    this.stats.txPackets += count;
    return count;
  }

  maxPacketSize(): number {
    return this.mtu;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.(0);
  }
}
