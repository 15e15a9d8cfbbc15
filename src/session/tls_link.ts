/**
 * The production {@link Link}: a `node:tls` socket (TLS 1.3, our certificate, no library
 * certificate checks: the session checks the peer itself). {@link dialTls} opens one to a
 * peer, {@link acceptTls} wraps an accepted TCP connection.
 *
 * Both ends set TCP_NODELAY: the session already batches (one write per forwarder batch), so
 * Nagle's algorithm only adds waits: a small packet written while an earlier segment is
 * unacknowledged would sit in the kernel until that ACK (up to the peer's delayed-ACK time)
 * arrives. `node:net` leaves Nagle on unless asked (checked with strace).
 * @module
 */
import type net from "node:net";
import tls from "node:tls";
import type { NodeIdentity } from "../pki/mod.ts";
import type { Link, LinkHandlers, TlsFacts } from "./link.ts";
import { receiveReclaimer } from "./reclaim.ts";

/** A TLS socket behind the {@link Link} interface. */
export class TlsLink implements Link {
  readonly #socket: tls.TLSSocket;
  readonly #secureEvent: "secure" | "secureConnect";

  /**
   * @param socket a TLS socket whose handshake is under way
   * @param isServer true for an accepted connection (its handshake ends with "secure")
   */
  constructor(socket: tls.TLSSocket, isServer: boolean) {
    this.#socket = socket;
    this.#secureEvent = isServer ? "secure" : "secureConnect";
  }

  /** Sets the handlers on the socket's events. */
  attach(h: LinkHandlers): void {
    const s = this.#socket;
    s.once(this.#secureEvent, () => h.onSecure());
    // Plain Uint8Array views: Buffer.slice() would share memory where callers expect a copy.
    s.on("data", (c: Uint8Array) => {
      h.onData(new Uint8Array(c.buffer, c.byteOffset, c.length));
      // After the chunk is handled: it is garbage from here on (see reclaim.ts).
      receiveReclaimer.received(c.length);
    });
    s.on("error", (e: Error) => h.onError(e.message, (e as { code?: string }).code ?? ""));
    s.on("end", () => h.onClose("peer ended the connection"));
    s.on("close", () => h.onClose("connection closed"));
  }

  /** Writes to the socket (which keeps the buffer until the write's callback: then `done`). */
  write(bytes: Uint8Array, done?: () => void): void {
    if (done === undefined) this.#socket.write(bytes);
    else this.#socket.write(bytes, (e) => e ? undefined : done());
  }

  /** The socket's `writableLength`. */
  backlog(): number {
    return this.#socket.writableLength;
  }

  /** Flushes and half-closes the socket. */
  end(): void {
    this.#socket.end();
  }

  /** Closes the socket now. */
  destroy(): void {
    this.#socket.destroy();
  }

  /** Protocol, peer certificate and Finished messages from the TLS session. */
  tls(): TlsFacts {
    const s = this.#socket;
    const raw = s.getPeerCertificate(true)?.raw;
    const mine = s.getFinished();
    const theirs = s.getPeerFinished();
    return {
      protocol: s.getProtocol() ?? null,
      peerCertificate: raw && raw.length > 0 ? new Uint8Array(raw) : undefined,
      finished: mine ? new Uint8Array(mine) : undefined,
      peerFinished: theirs ? new Uint8Array(theirs) : undefined,
    };
  }
}

/**
 * Dials a peer over TLS 1.3 with our certificate.
 * @param host peer host
 * @param port peer port
 * @param identity our certificate and key
 */
export function dialTls(host: string, port: number, identity: NodeIdentity): TlsLink {
  const socket = tls.connect({
    host,
    port,
    cert: identity.certPem,
    key: identity.keyPem,
    rejectUnauthorized: false,
    minVersion: "TLSv1.3",
  });
  socket.setNoDelay(true); // applied once connected
  return new TlsLink(socket, false);
}

/**
 * Starts the server side of TLS on an accepted TCP connection, asking for a client
 * certificate (checked by the session, not by the TLS library).
 * @param raw the accepted connection
 * @param secureContext our certificate and key, TLS 1.3 only
 */
export function acceptTls(raw: net.Socket, secureContext: tls.SecureContext): TlsLink {
  raw.on("error", () => {}); // reported through the TLS socket
  raw.setNoDelay(true);
  const socket = new tls.TLSSocket(raw, {
    isServer: true,
    secureContext,
    requestCert: true,
    rejectUnauthorized: false,
  });
  return new TlsLink(socket, true);
}

/** The secure context of a listener: our certificate and key, TLS 1.3 only. */
export function serverContext(identity: NodeIdentity): tls.SecureContext {
  return tls.createSecureContext({
    cert: identity.certPem,
    key: identity.keyPem,
    minVersion: "TLSv1.3",
  });
}
