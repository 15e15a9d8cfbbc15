/**
 * The UDP endpoint: one socket on the TLS listener's host and port, shared by every peer's
 * {@link UdpChannel}. It receives in batches, demultiplexes by the receiver index in the
 * header (no trial decryption), hands each datagram to its channel, then lets every channel
 * that got data deliver it in one `onPackets` call. Its own maintenance timer (every 250 ms,
 * apart from the receive loop) drives keepalives and usability expiry.
 *
 * Receive pipeline per batch: socket batch (up to 64 datagrams; socket_ffi.ts reads back
 * to back while busy and parks on SIGIO when empty) → header check (length, type, reserved
 * bytes; else `dropMalformed`) → channel lookup by index (else `dropUnknownIndex`) →
 * `channel.receive()` → after the batch, `channel.flush()` → `socket.flush()` (keepalive
 * replies and challenge answers go out). Channels decrypt in place and hand out views into
 * the socket's receive buffers, which stay untouched until the next `receive()`: every
 * channel is flushed before that.
 *
 * Send side: `channel.send()` queues into the socket; whoever sends flushes at the end of
 * its batch ({@link UdpEndpoint.flush}; the forwarder does it through its peer sinks).
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { type Clock, every, realClock } from "../clock/mod.ts";
import { checkHeader, readReceiver } from "./datagram.ts";
import type { UdpAddress } from "./address.ts";
import { DEFAULT_MAX_DATAGRAM_BYTES, UdpChannel, type UdpChannelOptions } from "./channel.ts";
import { openDenoUdpSocket, type UdpSocket, type UdpSocketStats } from "./socket.ts";
import { openFfiUdpSocket } from "./socket_ffi.ts";

const log = getLogger(["vmesh", "udp"]);

/** Most channels one endpoint serves (each holds a receiver index and keys). */
export const MAX_CHANNELS = 4096;
const TICK_MS = 250;

/** Options for {@link UdpEndpoint.open}. */
export interface UdpEndpointOptions {
  /** Local address: the TLS listener's host (an IP literal; "0.0.0.0" and "::" bind all). */
  readonly hostname: string;
  /** Local port: the TLS listener's port (UDP and TCP ports are separate); 0 picks one. */
  readonly port: number;
  /**
   * Socket implementation: "ffi" (recvmmsg/sendmmsg, fastest), "deno" (Deno.listenDatagram),
   * or "auto" (default): FFI, falling back to Deno when FFI is not available.
   */
  readonly backend?: "auto" | "ffi" | "deno";
  /** Largest datagram sent and received; default 1452 (1500-byte IPv6 underlay). */
  readonly maxDatagram?: number;
  /**
   * The node's clock: channels read it and the keepalive timer runs on it (tests may inject
   * a manual clock); default the real clock.
   */
  readonly clock?: Clock;
  /** Keepalive interval for channels; default 1000 ms. */
  readonly keepaliveMs?: number;
  /** Silence until a channel is unusable; default 3000 ms. */
  readonly usableTimeoutMs?: number;
  /**
   * Run the keepalive timer while there are channels (default true; tests that drive `tick()`
   * by hand pass false).
   */
  readonly timer?: boolean;
}

/** Endpoint counters; monotonic. */
export interface UdpEndpointStats {
  /** Datagrams received by the socket. */
  rxDatagrams: number;
  /** Dropped: too short, unknown type or non-zero reserved bytes. */
  dropMalformed: number;
  /** Dropped: no channel has that receiver index (stale, or scanning). */
  dropUnknownIndex: number;
}

/** What a channel needs beyond what the endpoint supplies. */
export type ChannelParams = Omit<
  UdpChannelOptions,
  "transmit" | "now" | "maxDatagram" | "keepaliveMs" | "usableTimeoutMs"
>;

/** A bound UDP endpoint serving many channels. */
export class UdpEndpoint {
  /** The bound UDP port. */
  readonly port: number;
  /** Which socket implementation is in use. */
  readonly backend: "ffi" | "deno";
  /** Counters. */
  readonly stats: UdpEndpointStats = { rxDatagrams: 0, dropMalformed: 0, dropUnknownIndex: 0 };
  readonly #socket: UdpSocket;
  readonly #opts: UdpEndpointOptions;
  readonly #channels = new Map<number, UdpChannel>();
  readonly #reserved = new Set<number>();
  readonly #clock: Clock;
  #stopTimer: (() => void) | undefined;
  #done: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(socket: UdpSocket, opts: UdpEndpointOptions) {
    this.#socket = socket;
    this.#opts = opts;
    this.port = socket.port;
    this.backend = socket.kind;
    this.#clock = opts.clock ?? realClock;
  }

  /** Starts the receive loop (the constructor does no I/O). */
  #start(): this {
    this.#done = this.#run();
    return this;
  }

  /**
   * Binds the UDP socket and starts receiving.
   * @throws {SyscallError | Deno.errors.AddrInUse | SyntaxError} when the socket cannot be
   *   bound (port in use, host not local, host not an IP literal).
   */
  static open(opts: UdpEndpointOptions): UdpEndpoint {
    const maxDatagram = opts.maxDatagram ?? DEFAULT_MAX_DATAGRAM_BYTES;
    if (!Number.isInteger(maxDatagram) || maxDatagram < 128 || maxDatagram > 65507) {
      throw new RangeError(`UDP endpoint: maxDatagram must be 128–65507, got ${maxDatagram}`);
    }
    const sockOpts = { hostname: opts.hostname, port: opts.port, maxDatagram };
    const backend = opts.backend ?? "auto";
    let socket: UdpSocket;
    if (backend === "deno") {
      socket = openDenoUdpSocket(sockOpts);
    } else {
      try {
        socket = openFfiUdpSocket(sockOpts);
      } catch (e) {
        if (backend === "ffi" || !isFfiUnavailable(e)) throw e;
        log.warn("FFI UDP socket unavailable ({error}); using Deno.listenDatagram", {
          error: String(e),
        });
        socket = openDenoUdpSocket(sockOpts);
      }
    }
    return new UdpEndpoint(socket, { ...opts, maxDatagram }).#start();
  }

  /** Socket counters (datagrams in/out, send drops). */
  get socketStats(): UdpSocketStats {
    return this.#socket.stats;
  }

  /** Number of live channels. */
  get channelCount(): number {
    return this.#channels.size;
  }

  /** True after {@link close}. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Reserves a fresh random receiver index (never 0, never in use).
   * @throws {RangeError} when the endpoint is closed or serves {@link MAX_CHANNELS} already.
   */
  reserveIndex(): number {
    if (this.#closed) throw new RangeError("UDP endpoint is closed");
    if (this.#channels.size + this.#reserved.size >= MAX_CHANNELS) {
      throw new RangeError(`UDP endpoint: ${MAX_CHANNELS} channels in use; refusing another`);
    }
    const r = new Uint32Array(1);
    for (;;) {
      crypto.getRandomValues(r);
      const i = r[0];
      if (i !== 0 && !this.#channels.has(i) && !this.#reserved.has(i)) {
        this.#reserved.add(i);
        return i;
      }
    }
  }

  /** Gives back a reserved index that will not be used. */
  releaseIndex(index: number): void {
    this.#reserved.delete(index);
  }

  /**
   * Creates a channel on a reserved index (see setup.ts, which calls this).
   * @throws {RangeError} when the index was not reserved or the endpoint is closed.
   */
  createChannel(params: ChannelParams): UdpChannel {
    if (this.#closed) throw new RangeError("UDP endpoint is closed");
    if (!this.#reserved.delete(params.localIndex)) {
      throw new RangeError(`UDP endpoint: receiver index ${params.localIndex} was not reserved`);
    }
    const o = this.#opts;
    const ch = new UdpChannel({
      ...params,
      transmit: (d, to) => this.#socket.send(d, to),
      now: () => this.#clock.now(),
      maxDatagram: o.maxDatagram,
      keepaliveMs: o.keepaliveMs,
      usableTimeoutMs: o.usableTimeoutMs,
    });
    this.#channels.set(params.localIndex, ch);
    // The keepalive timer runs while there are channels: a node without UDP peers never wakes
    // for it.
    if ((o.timer ?? true) && this.#stopTimer === undefined) {
      this.#stopTimer = every(this.#clock, TICK_MS, () => this.tick());
    }
    ch.tick(); // first keepalive: lets the peer learn our address and that we are here
    this.#socket.flush();
    return ch;
  }

  /** Closes and forgets a channel. */
  removeChannel(ch: UdpChannel): void {
    ch.close();
    if (this.#channels.get(ch.localIndex) === ch) this.#channels.delete(ch.localIndex);
    if (this.#channels.size === 0) {
      this.#stopTimer?.();
      this.#stopTimer = undefined;
    }
  }

  /** Whether the keepalive timer is running (it does while there are channels). */
  get timerRunning(): boolean {
    return this.#stopTimer !== undefined;
  }

  /** Sends the datagrams channels queued (end of a batch of `send()`s). */
  flush(): void {
    this.#socket.flush();
  }

  /** Keepalives and usability expiry for every channel (the timer calls it every 250 ms). */
  tick(): void {
    for (const ch of this.#channels.values()) ch.tick();
    this.#socket.flush();
  }

  /** Hands one datagram to the demultiplexer as if the socket had received it (tests, bench). */
  deliver(datagram: Uint8Array, from: UdpAddress): UdpChannel | undefined {
    this.stats.rxDatagrams++;
    const type = checkHeader(datagram);
    if (type === 0) {
      this.stats.dropMalformed++;
      return undefined;
    }
    const ch = this.#channels.get(readReceiver(datagram));
    if (ch === undefined) {
      this.stats.dropUnknownIndex++;
      return undefined;
    }
    ch.receive(datagram, type, from);
    return ch;
  }

  async #run(): Promise<void> {
    const sock = this.#socket;
    const { bufs, sizes, addrs } = sock.batch;
    const touched = new Set<UdpChannel>();
    while (!this.#closed) {
      let n: number;
      try {
        n = await sock.receive();
      } catch (e) {
        log.error("UDP receive failed; the UDP endpoint stops: {error}", { error: String(e) });
        break;
      }
      if (n === 0) break;
      for (let i = 0; i < n; i++) {
        const ch = this.deliver(bufs[i].subarray(0, sizes[i]), addrs[i]);
        if (ch !== undefined) touched.add(ch);
      }
      for (const ch of touched) ch.flush();
      touched.clear();
      sock.flush();
    }
  }

  /** Closes every channel and the socket; resolves when the receive loop has ended. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#stopTimer?.();
      for (const ch of this.#channels.values()) ch.close();
      this.#channels.clear();
      this.#reserved.clear();
      this.#socket.close();
    }
    return this.#done;
  }
}

function isFfiUnavailable(e: unknown): boolean {
  return e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied ||
    (e instanceof Error && /libc\.so\.6|dlopen|EAFNOSUPPORT/.test(e.message));
}
