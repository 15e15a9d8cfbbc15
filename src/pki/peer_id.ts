/**
 * Peer identity: as in the Go vmesh, a node's ID is the SHA-256 of its certificate's DER.
 * @module
 */

/** A node ID: 64 lower-case hex characters, the SHA-256 of the node certificate's DER. */
export type PeerId = string;

/** Computes the PeerId of a DER certificate. */
export async function peerIdOf(der: Uint8Array): Promise<PeerId> {
  const digest = await crypto.subtle.digest("SHA-256", der as Uint8Array<ArrayBuffer>);
  return new Uint8Array(digest).toHex();
}

/** Short form for logs and tables: the first 12 hex characters. */
export function shortId(id: PeerId): string {
  return id.slice(0, 12);
}

/** True when `text` is a well-formed PeerId. */
export function isPeerId(text: unknown): text is PeerId {
  return typeof text === "string" && /^[0-9a-f]{64}$/.test(text);
}
