/**
 * The link seam: what a {@link Session} needs from the carrier under it. A link is one
 * connection whose transport security is already handled below it (TLS 1.3 over TCP in
 * production, `memoryLinkPair` in tests); the session sees bytes in, bytes out, a few
 * events and the TLS facts it binds its hello to. Models: yggdrasil-go's `linkProtocol`
 * (`src/core/link.go`) and wireguard-go's `conn.Bind`, with `conn/bindtest` as the
 * in-memory twin.
 *
 * Ownership: `write` takes ownership of the buffer it is given (the caller never touches it
 * again, unless the link calls the write's `done`: then the buffer is the caller's again, to
 * fill anew); a chunk passed to `onData` is borrowed and valid only during the call (copy what
 * you keep).
 * @module
 */

/** What the session binds its handshake to, read once the link is secure. */
export interface TlsFacts {
  /** Negotiated protocol ("TLSv1.3"), or null when unknown. */
  protocol: string | null;
  /** The peer's leaf certificate, DER; undefined when it presented none. */
  peerCertificate: Uint8Array | undefined;
  /** Our TLS Finished verify_data; undefined when unavailable. */
  finished: Uint8Array | undefined;
  /** The peer's TLS Finished verify_data; undefined when unavailable. */
  peerFinished: Uint8Array | undefined;
}

/** Events of a link, set once by its owner with {@link Link.attach}. */
export interface LinkHandlers {
  /** The carrier's handshake completed: {@link Link.tls} now answers. */
  onSecure(): void;
  /** Bytes arrived, in order. Borrowed: valid only during the call. */
  onData(chunk: Uint8Array): void;
  /** The peer ended its side or the connection closed (may be called more than once). */
  onClose(message: string): void;
  /**
   * The carrier failed; `code` is the errno-style code when known ("ECONNREFUSED").
   * `onClose` follows.
   */
  onError(message: string, code: string): void;
}

/** One connection to a peer, as the session sees it. */
export interface Link {
  /** Sets the event handlers (once, before any event can fire). */
  attach(handlers: LinkHandlers): void;
  /**
   * Queues bytes for sending; takes ownership of `bytes`. `done`, when given, is called once
   * the link no longer reads `bytes` (they were handed to the kernel or the other end); it is
   * not called when the write fails or is dropped (the buffer is then left to the GC).
   */
  write(bytes: Uint8Array, done?: () => void): void;
  /** Bytes accepted by `write` and not yet handed to the kernel (or the other end). */
  backlog(): number;
  /** Sends what is queued, then ends our side (a graceful close). */
  end(): void;
  /** Closes at once, dropping anything queued. Idempotent. */
  destroy(): void;
  /** The TLS facts; meaningful once `onSecure` fired. */
  tls(): TlsFacts;
}
