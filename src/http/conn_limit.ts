/**
 * A bound on the endpoint's TCP connections, which `Deno.serve` does not have (no connection
 * limit, no idle or header timeout: denoland/deno#32497). The public address is a plain TCP
 * listener that accepts at most {@link MAX_CONNECTIONS} connections at a time (closing any
 * beyond at once), closes each one {@link CONNECTION_LIFETIME_MS} after it was accepted
 * whatever it is doing, and relays the bytes of the others to the HTTP server, which listens
 * on an ephemeral loopback port. So a client that opens connections and sends nothing (or
 * trickles a request head) holds at most that many, for at most that long.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { HostPort } from "../net/mod.ts";

const log = getLogger(["vmesh", "http"]);

/** Connections open at the same time; more are closed as soon as they are accepted. */
export const MAX_CONNECTIONS = 32;
/** Longest life of a connection (requests take milliseconds; the page polls on new ones). */
export const CONNECTION_LIFETIME_MS = 30_000;
const ACCEPT_RETRY_MS = 100;

/** Bounds of {@link ConnectionLimiter}. */
export interface ConnectionLimits {
  readonly maxConnections: number;
  readonly lifetimeMs: number;
}

/** The public listener in front of the HTTP server. */
export class ConnectionLimiter {
  readonly #listener: Deno.TcpListener;
  readonly #open = new Set<Deno.Conn>();
  #closed = false;
  readonly #done: Promise<void>;
  /** Connections closed at once because {@link ConnectionLimits.maxConnections} were open. */
  refused = 0;

  /**
   * Listens on `listen` and relays each accepted connection to `127.0.0.1:<innerPort>`.
   * @throws {Deno.errors.AddrInUse} and the like when it cannot listen
   */
  constructor(
    listen: HostPort,
    readonly innerPort: number,
    readonly limits: ConnectionLimits = {
      maxConnections: MAX_CONNECTIONS,
      lifetimeMs: CONNECTION_LIFETIME_MS,
    },
  ) {
    this.#listener = Deno.listen({ hostname: listen.host, port: listen.port });
    this.#done = this.#accept();
  }

  /** Where it listens (the real port when 0 was asked for). */
  get port(): number {
    return this.#listener.addr.port;
  }

  /** Connections open now. */
  get open(): number {
    return this.#open.size;
  }

  async #accept(): Promise<void> {
    while (!this.#closed) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (e) {
        if (this.#closed) return;
        // E.g. out of file descriptors: say so, and do not spin.
        log.warn("HTTP accept failed: {error}", { error: String(e) });
        await new Promise((r) => setTimeout(r, ACCEPT_RETRY_MS));
        continue;
      }
      if (this.#open.size >= this.limits.maxConnections) {
        this.refused++;
        close(conn);
        continue;
      }
      this.#open.add(conn);
      this.#relay(conn).finally(() => this.#open.delete(conn));
    }
  }

  async #relay(client: Deno.Conn): Promise<void> {
    const timer = setTimeout(() => close(client), this.limits.lifetimeMs);
    let inner: Deno.Conn | undefined;
    try {
      inner = await Deno.connect({ hostname: "127.0.0.1", port: this.innerPort });
      const upstream = inner;
      const toServer = copy(client, upstream).then(() => upstream.closeWrite());
      await Promise.all([toServer, copy(upstream, client)]);
    } catch (e) {
      if (!isClosed(e)) log.warn("HTTP connection relay failed: {error}", { error: String(e) });
    } finally {
      clearTimeout(timer);
      close(client);
      if (inner) close(inner);
    }
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
    for (const c of this.#open) close(c);
    await this.#done;
  }
}

/** Copies `from` to `to` until `from` ends (or either side is closed). */
async function copy(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(16 * 1024);
  while (true) {
    let n: number | null;
    try {
      n = await from.read(buf);
    } catch (e) {
      if (isClosed(e)) return;
      throw e;
    }
    if (n === null) return;
    let off = 0;
    try {
      while (off < n) off += await to.write(buf.subarray(off, n));
    } catch (e) {
      if (isClosed(e)) return;
      throw e;
    }
  }
}

/** A connection closed by the other side, by the lifetime timer or by close(): expected. */
function isClosed(e: unknown): boolean {
  return e instanceof Deno.errors.BadResource || e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.BrokenPipe || e instanceof Deno.errors.Interrupted ||
    e instanceof Deno.errors.NotConnected;
}

function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch (e) {
    if (!(e instanceof Deno.errors.BadResource)) throw e;
  }
}
