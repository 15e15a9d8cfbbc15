/**
 * Accepting peers: the TCP listener and the caps on connections that have not authenticated
 * yet (in total and per source address), so that junk connections cannot exhaust the node
 * or lock legitimate peers out. A connection counts as unauthenticated from accept until its
 * session opens or closes.
 * @module
 */
import type { HostPort } from "../net/mod.ts";
import net from "node:net";
import type tls from "node:tls";
import { getLogger } from "@logtape/logtape";

import type { Link } from "./link.ts";
import type { Session } from "./session.ts";
import { acceptTls } from "./tls_link.ts";

const log = getLogger(["vmesh", "session"]);

/** What the {@link Acceptor} needs. */
export interface AcceptorOptions {
  /** Concurrent not-yet-authenticated inbound connections, in total (default 64). */
  maxUnauthenticated?: number;
  /** … and per source address (default 8). */
  maxUnauthenticatedPerAddress?: number;
  /** Our certificate and key for the TLS server side. */
  secureContext: tls.SecureContext;
  /** Makes the session of an accepted link. */
  session(link: Link, remote: HostPort): Session;
  /** A connection was refused by the caps (`message` says which). */
  onRefused(remote: HostPort, message: string): void;
}

/** The listening side of the manager. */
export class Acceptor {
  readonly #o: AcceptorOptions;
  readonly #unauth = new Map<Session, string>();
  readonly #perAddr = new Map<string, number>();
  #server: net.Server | undefined;
  #stopped = false;

  /** @param opts caps, TLS context and the session factory */
  constructor(opts: AcceptorOptions) {
    this.#o = opts;
  }

  /** Connections accepted but not yet authenticated. */
  get unauthenticated(): number {
    return this.#unauth.size;
  }

  /**
   * Binds and listens.
   * @returns the bound address (with the real port)
   * @throws when the address cannot be bound
   */
  async listen(at: HostPort): Promise<HostPort> {
    const server = net.createServer((raw) => this.#accept(raw));
    server.on("error", (e) => log.error("listener error: {error}", { error: e }));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: at.host, port: at.port }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.#server = server;
    const a = server.address() as net.AddressInfo;
    log.info("listening on {host} port {port}", { host: a.address, port: a.port });
    return { host: a.address, port: a.port };
  }

  /** The session authenticated or closed: it no longer counts against the caps. */
  release(s: Session): void {
    const host = this.#unauth.get(s);
    if (host === undefined) return;
    this.#unauth.delete(s);
    const n = (this.#perAddr.get(host) ?? 1) - 1;
    if (n <= 0) this.#perAddr.delete(host);
    else this.#perAddr.set(host, n);
  }

  /**
   * Stops accepting. Resolves when the listener has closed, which (net.Server semantics)
   * waits for the connections it accepted to end.
   */
  async close(): Promise<void> {
    this.#stopped = true;
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #accept(raw: net.Socket): void {
    const host = raw.remoteAddress ?? "unknown";
    const remote = { host, port: raw.remotePort ?? 0 };
    if (this.#stopped) {
      raw.destroy();
      return;
    }
    const perAddr = this.#perAddr.get(host) ?? 0;
    const maxTotal = this.#o.maxUnauthenticated ?? 64;
    const maxPer = this.#o.maxUnauthenticatedPerAddress ?? 8;
    if (this.#unauth.size >= maxTotal || perAddr >= maxPer) {
      raw.destroy();
      this.#o.onRefused(
        remote,
        `too many unauthenticated connections (${this.#unauth.size}/${maxTotal} in total, ` +
          `${perAddr}/${maxPer} from this address)`,
      );
      return;
    }
    const session = this.#o.session(acceptTls(raw, this.#o.secureContext), remote);
    if (session.state === "closed") return;
    this.#unauth.set(session, host);
    this.#perAddr.set(host, perAddr + 1);
  }
}
