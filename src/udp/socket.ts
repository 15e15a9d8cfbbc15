/**
 * The datagram socket the UDP endpoint sits on, behind one small interface with two
 * implementations:
 *
 * - `openFfiUdpSocket` (socket_ffi.ts, the default): `recvmmsg`/`sendmmsg` through
 *   ffi/libc.ts — up to 64 datagrams per system call on receive and on send (runs of equal
 *   datagrams as UDP GSO messages, socket_tx.ts); a drained socket parks on SIGIO.
 * - {@link openDenoUdpSocket} (here): `Deno.listenDatagram` — one awaited `receive()` per
 *   datagram and one promise per `send()`; used when FFI is not permitted.
 *
 * Why FFI is the default: on loopback (scripts/bench_udp.ts; figures in docs/figures.md, "UDP
 * data channel") it moves several times as many datagrams per second as `Deno.listenDatagram`,
 * and `node:dgram` is slower still; system calls cost ~1 µs here, so batching decides.
 *
 * Buffer ownership (the rule of src/net/packet_batch.ts): the socket owns its
 * {@link UdpRecvBatch}; the caller of `receive()` borrows it until its next `receive()` and
 * copies what it keeps. `send()` copies the datagram before it returns.
 * @module
 */
import { type UdpAddress, udpAddress, udpHost, udpPort } from "./address.ts";

/** The datagrams of one `receive()`: datagram i is `bufs[i].subarray(0, sizes[i])`. */
export interface UdpRecvBatch {
  /** Receive buffers (owned by the socket). */
  readonly bufs: readonly Uint8Array[];
  /** Lengths of the received datagrams. */
  readonly sizes: number[];
  /** Source address of each datagram (18-byte {@link UdpAddress}, owned by the socket). */
  readonly addrs: readonly Uint8Array[];
}

/** Socket counters; monotonic. */
export interface UdpSocketStats {
  /** Datagrams received. */
  rxDatagrams: number;
  /** Datagrams dropped on receive because they did not fit the receive buffer. */
  rxDropOversize: number;
  /** Receive errors other than "nothing to read". */
  rxErrors: number;
  /** Datagrams handed to the kernel. */
  txDatagrams: number;
  /** Datagrams dropped because the socket's send buffer was full. */
  txDropFull: number;
  /** Datagrams dropped for another send error (unreachable address, too large…). */
  txErrors: number;
}

/** A bound UDP socket. */
export interface UdpSocket {
  /** Which implementation this is. */
  readonly kind: "ffi" | "deno";
  /** The bound local port. */
  readonly port: number;
  /** Largest datagram the receive buffers hold; longer ones are dropped and counted. */
  readonly maxDatagram: number;
  /** The batch that `receive()` fills. */
  readonly batch: UdpRecvBatch;
  /** Counters. */
  readonly stats: UdpSocketStats;
  /**
   * Waits until datagrams arrive, then fills {@link batch} without further waiting.
   * Resolves with the count (≥ 1), or 0 once the socket is closed. One call at a time.
   */
  receive(): Promise<number>;
  /**
   * Queues one datagram to `addr`; the bytes are copied before return. Queued datagrams go
   * out in one batch at the next {@link flush} (or at once when the queue is full): whoever
   * sends calls `flush()` at the end of its batch.
   * Never throws for network conditions; returns false when the datagram was dropped.
   */
  send(data: Uint8Array, addr: UdpAddress): boolean;
  /** Sends queued datagrams now. */
  flush(): void;
  /** Closes the socket; a pending `receive()` resolves 0. Idempotent. */
  close(): void;
}

/** Options for opening a UDP socket. */
export interface UdpSocketOptions {
  /** Local address to bind ("0.0.0.0", "::", or a literal); the TLS listener's host. */
  readonly hostname: string;
  /** Local port (the TLS listener's port); 0 picks a free one. */
  readonly port: number;
  /** Receive buffer size per datagram; default 2048. */
  readonly maxDatagram?: number;
  /** FFI socket only: send runs of equal datagrams as UDP GSO messages (default true). */
  readonly gso?: boolean;
}

/** Receive batch size (datagrams per system call / per wake-up). */
export const UDP_BATCH = 64;
/** Default per-datagram receive buffer. */
export const DEFAULT_MAX_DATAGRAM = 2048;
const MAX_SENDS_IN_FLIGHT = 1024;

/** Statistics with all counters at zero. */
export function newSocketStats(): UdpSocketStats {
  return {
    rxDatagrams: 0,
    rxDropOversize: 0,
    rxErrors: 0,
    txDatagrams: 0,
    txDropFull: 0,
    txErrors: 0,
  };
}

/**
 * Opens a UDP socket with `Deno.listenDatagram` (needs the unstable "net" feature, enabled in
 * deno.json). One datagram per wake-up; sends are not awaited (at most 1024 in flight).
 * @throws {Deno.errors.AddrInUse} and other `Deno.listenDatagram` errors.
 */
export function openDenoUdpSocket(opts: UdpSocketOptions): UdpSocket {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: opts.hostname, port: opts.port });
  return new DenoUdpSocket(conn, opts.maxDatagram ?? DEFAULT_MAX_DATAGRAM);
}

class DenoUdpSocket implements UdpSocket {
  readonly kind = "deno";
  readonly port: number;
  readonly maxDatagram: number;
  readonly batch: UdpRecvBatch;
  readonly stats = newSocketStats();
  readonly #conn: Deno.DatagramConn;
  readonly #v4: boolean;
  #closed = false;
  #inFlight = 0;
  #lastAddr = new Uint8Array(18);
  #lastNet: Deno.NetAddr | undefined;

  /** Wraps a bound socket (see {@link openDenoUdpSocket}, which binds it). */
  constructor(conn: Deno.DatagramConn, maxDatagram: number) {
    this.maxDatagram = maxDatagram;
    this.#conn = conn;
    const local = this.#conn.addr as Deno.NetAddr;
    this.port = local.port;
    this.#v4 = !local.hostname.includes(":");
    // One spare byte tells an oversize datagram from one that fits exactly.
    this.batch = {
      bufs: [new Uint8Array(this.maxDatagram + 1)],
      sizes: [0],
      addrs: [new Uint8Array(18)],
    };
  }

  async receive(): Promise<number> {
    while (!this.#closed) {
      let got: [Uint8Array, Deno.Addr];
      try {
        got = await this.#conn.receive(this.batch.bufs[0]);
      } catch (e) {
        if (this.#closed || e instanceof Deno.errors.BadResource) return 0;
        this.stats.rxErrors++;
        continue;
      }
      const [data, from] = got;
      if (data.length > this.maxDatagram) {
        this.stats.rxDropOversize++;
        continue;
      }
      const net = from as Deno.NetAddr;
      try {
        this.batch.addrs[0].set(udpAddress(net.hostname, net.port));
      } catch {
        this.stats.rxErrors++;
        continue;
      }
      this.stats.rxDatagrams++;
      this.batch.sizes[0] = data.length;
      return 1;
    }
    return 0;
  }

  send(data: Uint8Array, addr: UdpAddress): boolean {
    if (this.#closed) return false;
    if (this.#inFlight >= MAX_SENDS_IN_FLIGHT) {
      this.stats.txDropFull++;
      return false;
    }
    const to = this.#netAddr(addr);
    if (to === undefined) {
      this.stats.txErrors++;
      return false;
    }
    this.#inFlight++;
    this.#conn.send(data.slice(), to).then(
      () => {
        this.#inFlight--;
        this.stats.txDatagrams++;
      },
      () => {
        this.#inFlight--;
        this.stats.txErrors++;
      },
    );
    return true;
  }

  #netAddr(addr: UdpAddress): Deno.NetAddr | undefined {
    if (this.#lastNet !== undefined && equal18(addr, this.#lastAddr)) return this.#lastNet;
    const host = udpHost(addr);
    if (this.#v4 && host.includes(":")) return undefined; // an IPv4 socket cannot reach IPv6
    this.#lastAddr.set(addr);
    this.#lastNet = { transport: "udp", hostname: host, port: udpPort(addr) };
    return this.#lastNet;
  }

  flush(): void {}

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}

function equal18(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 18; i++) if (a[i] !== b[i]) return false;
  return true;
}
