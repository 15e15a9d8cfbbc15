/**
 * An in-memory {@link Link} pair for tests, as wireguard-go's `conn/bindtest`: what one end
 * writes reaches the other in a later microtask (as from a socket), in order; the test says
 * when "TLS" is up and what each end's TLS facts are, can stop an end from reading (its
 * peer's backlog then grows), and can make the carrier fail.
 * @module
 */
import type { Link, LinkHandlers, TlsFacts } from "./link.ts";

/** Settings of {@link memoryLinkPair}. */
export interface MemoryLinkOptions {
  /** Certificate DER the dialer end presents (the listener end's peer certificate). */
  dialerCertificate?: Uint8Array;
  /** Certificate DER the listener end presents (the dialer end's peer certificate). */
  listenerCertificate?: Uint8Array;
  /** Negotiated protocol both ends report (default "TLSv1.3"). */
  protocol?: string;
}

/** One end of an in-memory link. */
export class MemoryLink implements Link {
  #peer!: MemoryLink;
  #handlers: LinkHandlers | undefined;
  #facts: TlsFacts;
  /** Written by this end, not yet delivered to the peer (with each write's `done`). */
  #outbox: [Uint8Array, (() => void) | undefined][] = [];
  #outboxBytes = 0;
  #scheduled = false;
  #reading = true;
  #ending = false;
  #closed = false;
  /** Bytes this end has written in total. */
  bytesWritten = 0;

  /** @param facts what {@link tls} returns */
  constructor(facts: TlsFacts) {
    this.#facts = facts;
  }

  /** Connects two ends (used by {@link memoryLinkPair}). */
  static connect(a: MemoryLink, b: MemoryLink): void {
    a.#peer = b;
    b.#peer = a;
  }

  /** Sets the handlers (once). */
  attach(handlers: LinkHandlers): void {
    if (this.#handlers) throw new Error("MemoryLink.attach: handlers already set");
    this.#handlers = handlers;
  }

  /**
   * Queues bytes for the peer (delivered in a later microtask); `done` is called once the
   * peer's `onData` returned (the chunk is only borrowed by it), not when the link closed first.
   */
  write(bytes: Uint8Array, done?: () => void): void {
    if (this.#closed || this.#ending) return;
    this.bytesWritten += bytes.length;
    this.#outbox.push([bytes, done]);
    this.#outboxBytes += bytes.length;
    this.#schedule();
  }

  /** Bytes written and not yet delivered. */
  backlog(): number {
    return this.#outboxBytes;
  }

  /** Delivers what is queued, then closes both ends. */
  end(): void {
    if (this.#closed || this.#ending) return;
    this.#ending = true;
    this.#schedule();
  }

  /** Closes both ends now, dropping what is queued. */
  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#outbox = [];
    this.#outboxBytes = 0;
    queueMicrotask(() => {
      this.#handlers?.onClose("connection closed");
      this.#peer.#lost("connection closed");
    });
  }

  /** The facts given at construction. */
  tls(): TlsFacts {
    return this.#facts;
  }

  /** True once this end closed (destroyed, or ended and drained). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Completes the "TLS handshake": both ends report `onSecure`. */
  secure(): void {
    this.#handlers?.onSecure();
    this.#peer.#handlers?.onSecure();
  }

  /** Stops reading: what the peer writes stays in its backlog. */
  pause(): void {
    this.#reading = false;
  }

  /** Reads again (delivers what the peer queued meanwhile). */
  resume(): void {
    this.#reading = true;
    this.#peer.#schedule();
  }

  /** Makes the carrier fail at this end (as a socket error): `onError`, then `onClose`. */
  fail(message: string, code = ""): void {
    if (this.#closed) return;
    this.#handlers?.onError(message, code);
    this.destroy();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#deliver();
    });
  }

  #deliver(): void {
    const peer = this.#peer;
    while (!this.#closed && peer.#reading && !peer.#closed && this.#outbox.length > 0) {
      const [chunk, done] = this.#outbox.shift()!;
      this.#outboxBytes -= chunk.length;
      peer.#handlers?.onData(chunk);
      done?.();
    }
    if (this.#ending && this.#outbox.length === 0 && !this.#closed) {
      this.#closed = true;
      peer.#lost("peer ended the connection");
      this.#handlers?.onClose("connection closed");
    }
  }

  /** The other end went away. */
  #lost(message: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#outbox = [];
    this.#outboxBytes = 0;
    this.#handlers?.onClose(message);
  }
}

/**
 * Two connected in-memory ends: `[dialer, listener]`. Each reports the other's certificate
 * as its peer certificate and shares one pair of random Finished messages (the dialer's is
 * the client's).
 * @example
 * ```ts
 * const [d, l] = memoryLinkPair();
 * l.attach({ onSecure() {}, onData: (c) => console.log(c), onClose() {}, onError() {} });
 * d.write(new Uint8Array([1, 2, 3]));
 * ```
 */
export function memoryLinkPair(opts: MemoryLinkOptions = {}): [MemoryLink, MemoryLink] {
  const client = crypto.getRandomValues(new Uint8Array(32));
  const server = crypto.getRandomValues(new Uint8Array(32));
  const protocol = opts.protocol ?? "TLSv1.3";
  const dialer = new MemoryLink({
    protocol,
    peerCertificate: opts.listenerCertificate,
    finished: client,
    peerFinished: server,
  });
  const listener = new MemoryLink({
    protocol,
    peerCertificate: opts.dialerCertificate,
    finished: server,
    peerFinished: client,
  });
  MemoryLink.connect(dialer, listener);
  return [dialer, listener];
}
