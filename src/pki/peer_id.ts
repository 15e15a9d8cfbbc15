/**
 * Peer identity. As in the Go vmesh, a node's ID is the SHA-256 of its certificate's DER,
 * with one refinement: the DER is taken in its canonical form (an ECDSA signature in low-s
 * form, see {@link canonicalCertificateDer}), so a certificate and its re-signed twin
 * (s → n − s) are one node. Certificates vmesh issues are canonical already, as are Ed25519
 * and RSA ones: for them the ID is exactly the Go vmesh's. An openssl-made ECDSA certificate
 * whose s happens to be high (about half of them) gets the ID of its low-s twin.
 * @module
 */
import { createHash } from "node:crypto";
import type { ParsedCertificate } from "./certificate.ts";
import { canonicalCertificateDer } from "./signature.ts";

/** A node ID: 64 lower-case hex characters, the SHA-256 of the node certificate's DER. */
export type PeerId = string;

/**
 * Computes the SHA-256 of a DER certificate as it is (the ID of a pinned external peer).
 * Synchronous node:crypto inside (about 5 µs for a certificate, where `crypto.subtle.digest`
 * takes about 180 µs: every accepted handshake computes one or two); async for its callers.
 */
// deno-lint-ignore require-await
export async function peerIdOf(der: Uint8Array): Promise<PeerId> {
  return new Uint8Array(createHash("sha256").update(der).digest()).toHex();
}

/**
 * The ID of a certificate issued by `issuer`: the SHA-256 of its canonical DER.
 * @param cert The node certificate.
 * @param issuer The CA that issued it (whose curve fixes the canonical ECDSA form).
 */
export async function nodeIdOf(
  cert: ParsedCertificate,
  issuer: ParsedCertificate,
): Promise<PeerId> {
  return await peerIdOf(canonicalCertificateDer(cert, issuer));
}

/** Short form for logs and tables: the first 12 hex characters. */
export function shortId(id: PeerId): string {
  return id.slice(0, 12);
}

/** True when `text` is a well-formed PeerId. */
export function isPeerId(text: unknown): text is PeerId {
  return typeof text === "string" && /^[0-9a-f]{64}$/.test(text);
}
