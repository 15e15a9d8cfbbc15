/**
 * In-memory vifs for tests: inject packets that `read` returns, collect packets that `write`
 * accepted. {@link memoryVifPair} wires two of them back to back.
 *
 * ```ts
 * const vif = new MemoryVif({ name: "mem0" });
 * vif.inject(packet);                 // the forwarder's next read() returns a copy of it
 * const out = await vif.nextWritten(); // a copy of the next packet the forwarder wrote
 * ```
 * Both queues are bounded (`queueLimit`, default 1024 packets): beyond it `inject` returns
 * false and writes are dropped and counted as `txDropFull`.
 * @module
 */
import type { PacketBatch } from "../net/mod.ts";
import { DEFAULT_VIF_BATCH, newVifStats, type Vif, type VifStats, VNET_HDR_LEN } from "./vif.ts";

/** Options for {@link MemoryVif}. */
export interface MemoryVifOptions {
  /** Name (default "mem"). */
  name?: string;
  /** MTU (default 1500). */
  mtu?: number;
  /** Packets carry a 10-byte virtio_net_hdr (default false). */
  vnetHdr?: boolean;
  /** Bound of the inbound and the written queue (default 1024). */
  queueLimit?: number;
}

/** An in-memory {@link Vif}. */
export class MemoryVif implements Vif {
  readonly name: string;
  readonly mtu: number;
  readonly vnetHdr: boolean;
  readonly stats: VifStats = newVifStats();
  readonly batchSize = DEFAULT_VIF_BATCH;
  /**
   * When set, receives a copy of every packet `write` is given, instead of the written queue;
   * returning false drops the packet (counted as `txDropFull`).
   */
  onWrite: ((packet: Uint8Array) => boolean) | undefined;
  readonly #limit: number;
  readonly #inbound: Uint8Array[] = [];
  readonly #written: Uint8Array[] = [];
  #readWake: (() => void) | undefined;
  #writtenWake: (() => void) | undefined;
  #reading = false;
  #closed = false;

  /** Creates an empty vif. */
  constructor(opts: MemoryVifOptions = {}) {
    this.name = opts.name ?? "mem";
    this.mtu = opts.mtu ?? 1500;
    this.vnetHdr = opts.vnetHdr ?? false;
    this.#limit = opts.queueLimit ?? 1024;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  maxPacketSize(): number {
    return (this.vnetHdr ? VNET_HDR_LEN : 0) + this.mtu;
  }

  /**
   * Queues a copy of `packet` (including the vnet header when `vnetHdr`) for `read`.
   * @returns false when the queue is full or the vif closed (the packet is dropped).
   * @throws {RangeError} when the packet is larger than {@link maxPacketSize}.
   */
  inject(packet: Uint8Array): boolean {
    if (packet.length > this.maxPacketSize()) {
      throw new RangeError(
        `${this.name}: packet of ${packet.length} bytes exceeds ${this.maxPacketSize()}`,
      );
    }
    if (this.#closed || this.#inbound.length >= this.#limit) return false;
    this.#inbound.push(packet.slice());
    const w = this.#readWake;
    this.#readWake = undefined;
    w?.();
    return true;
  }

  /** Returns and clears the packets written so far (copies, oldest first). */
  takeWritten(): Uint8Array[] {
    return this.#written.splice(0);
  }

  /**
   * Resolves with the next written packet (oldest first), waiting up to `timeoutMs`.
   * @throws {Error} on timeout or when the vif is closed while waiting.
   */
  async nextWritten(timeoutMs = 5000): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    while (this.#written.length === 0) {
      if (this.#closed) throw new Error(`${this.name}: closed while waiting for a written packet`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no packet written within ${timeoutMs} ms`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#writtenWake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
    return this.#written.shift()!;
  }

  async read(batch: PacketBatch): Promise<number> {
    const { bufs, sizes, vnet } = batch;
    if (this.#reading) throw new Error(`${this.name}: read() while another read is pending`);
    this.#reading = true;
    try {
      for (;;) {
        if (this.#closed) return 0;
        const hdr = this.vnetHdr ? VNET_HDR_LEN : 0;
        let n = 0;
        while (n < bufs.length && this.#inbound.length > 0) {
          const p = this.#inbound.shift()!;
          if (p.length < hdr + 1 || p[hdr] >> 4 !== 6) {
            this.stats.rxDropNotIpv6++;
            continue;
          }
          if (bufs[n].length < p.length) {
            throw new RangeError(`${this.name}: read buffer ${n} is too small`);
          }
          bufs[n].set(p);
          sizes[n] = p.length;
          vnet[n] = this.vnetHdr;
          this.stats.rxPackets++;
          this.stats.rxBytes += p.length - hdr;
          n++;
        }
        if (n > 0) return batch.count = n;
        await new Promise<void>((resolve) => this.#readWake = resolve);
      }
    } finally {
      this.#reading = false;
    }
  }

  write(batch: PacketBatch): number {
    const { bufs, sizes, count } = batch;
    const hdr = this.vnetHdr ? VNET_HDR_LEN : 0;
    let ok = 0;
    for (let i = 0; i < count; i++) {
      const size = sizes[i];
      if (
        this.#closed || !(size > hdr && size <= bufs[i].length) ||
        size > this.maxPacketSize()
      ) {
        this.stats.txDropError++;
        continue;
      }
      const copy = bufs[i].slice(0, size);
      if (this.onWrite) {
        if (!this.onWrite(copy)) {
          this.stats.txDropFull++;
          continue;
        }
      } else if (this.#written.length >= this.#limit) {
        this.stats.txDropFull++;
        continue;
      } else this.#written.push(copy);
      ok++;
      this.stats.txPackets++;
      this.stats.txBytes += size - hdr;
    }
    const w = this.#writtenWake;
    this.#writtenWake = undefined;
    w?.();
    return ok;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const r = this.#readWake, w = this.#writtenWake;
    this.#readWake = this.#writtenWake = undefined;
    r?.();
    w?.();
  }
}

/**
 * Two memory vifs back to back: what is written to one is read from the other (dropped and
 * counted as `txDropFull` when the other's queue is full).
 */
export function memoryVifPair(opts: MemoryVifOptions = {}): [MemoryVif, MemoryVif] {
  const a = new MemoryVif({ ...opts, name: `${opts.name ?? "mem"}a` });
  const b = new MemoryVif({ ...opts, name: `${opts.name ?? "mem"}b` });
  a.onWrite = (p) => p.length <= b.maxPacketSize() && b.inject(p);
  b.onWrite = (p) => p.length <= a.maxPacketSize() && a.inject(p);
  return [a, b];
}
