/**
 * Our own check of a certificate received in a TLS session. TLS libraries here add the
 * system trust store to any CA we give them, so the session layer calls this on the peer's
 * DER and trusts nothing else.
 * @module
 */
import { parseCertificate } from "./certificate.ts";
import { checkIssuedBy, checkValidity } from "./chain.ts";
import { bytesEqual } from "./der.ts";
import { CertificateError } from "./errors.ts";
import { isInDomain } from "./names.ts";
import { nodeIdOf, type PeerId, peerIdOf } from "./peer_id.ts";
import { checkNodeRole } from "./roles.ts";
import { meshDomainsOf, parsedCa, type TrustStore } from "./trust.ts";

/** A peer certificate that passed {@link verifyPeerCertificate}. */
export interface VerifiedPeer {
  /**
   * The peer's ID: for a node of our CA the SHA-256 of its canonical DER (see
   * {@link nodeIdOf}); for a pinned external the SHA-256 of the pinned DER.
   */
  id: PeerId;
  /** The certificate's CN. */
  name: string;
  /** True for a pinned external certificate, false for one issued by our CA. */
  external: boolean;
  /** When the certificate expires (a session should not outlive it). */
  notAfter: Date;
}

/**
 * The key under which a node keeps at most one session: the node name (lower case, without
 * trailing dots) for a node of our CA, so that two certificates the CA issued for one name
 * (a renewal, or a twin encoding) are one peer; the pinned certificate for an external.
 * @param peer A verified peer.
 * @returns A string that is equal for peers that must share one session slot.
 */
export function sessionKeyOf(peer: Pick<VerifiedPeer, "id" | "name" | "external">): string {
  return peer.external
    ? `pinned:${peer.id}`
    : `node:${peer.name.toLowerCase().replace(/\.+$/, "")}`;
}

function namesOf(cert: { cn?: string; dnsSans: readonly string[] }): string[] {
  return [...(cert.cn ? [cert.cn] : []), ...cert.dnsSans];
}

/**
 * Verifies a peer's certificate:
 * - byte-for-byte equal to a pinned external certificate → accepted as external, unless one
 *   of its names (CN or DNS SAN) falls inside our own domain (`external_in_own_domain`) or
 *   inside another domain our CA issues for (`external_in_mesh_domain`, see
 *   {@link meshDomainsOf}): those names come from our CA only, and an external under them
 *   could borrow an internal node's whitelist entry. It is also refused outside its validity
 *   window, or when it carries a DC's `vnet-conf://` URI;
 * - otherwise it must be issued by our CA (signature checked with the CA key, the CA's
 *   nameConstraints honoured), both inside their validity windows, the CA allowed to sign, and
 *   the certificate a node's (not CA:TRUE, no `vnet-conf://` URI).
 * The certificate must have a CN. Never consults any system trust store.
 * @param der The peer's leaf certificate, DER.
 * @param trust Our CA and pinned certificates.
 * @param opts `now` for validity; `localDomain` is our own domain ({@link domainOf} of our name).
 * @returns The peer's id, name and kind.
 * @throws {CertificateError} with the reason for refusal.
 */
export async function verifyPeerCertificate(
  der: Uint8Array,
  trust: TrustStore,
  opts: { now: Date; localDomain: string },
): Promise<VerifiedPeer> {
  const cert = parseCertificate(der);
  const name = cert.cn;
  if (name === undefined || name === "") {
    throw new CertificateError("no_name", "the peer certificate has no subject CN");
  }
  const pinnedId = await peerIdOf(der);
  const pinned = trust.externalIds.has(pinnedId) &&
    trust.externalDers.some((d) => bytesEqual(d, der));
  if (pinned) {
    for (const n of namesOf(cert)) {
      if (isInDomain(n, opts.localDomain)) {
        throw new CertificateError(
          "external_in_own_domain",
          `pinned external certificate "${name}" names "${n}", inside our own domain ` +
            `"${opts.localDomain}": names in our domain must be issued by our CA`,
        );
      }
      const mesh = meshDomainsOf(trust).find((d) => isInDomain(n, d));
      if (mesh !== undefined) {
        throw new CertificateError(
          "external_in_mesh_domain",
          `pinned external certificate "${name}" names "${n}", inside "${mesh}", a domain our ` +
            `CA "${trust.caName}" issues for: names there must be issued by our CA`,
        );
      }
    }
    checkNodeRole(cert, "pinned external certificate", { pinned: true });
    checkValidity(cert, opts.now, `pinned external certificate "${name}"`);
    return { id: pinnedId, name, external: true, notAfter: cert.notAfter };
  }
  const ca = parsedCa(trust);
  await checkIssuedBy(cert, ca, opts.now, "peer certificate");
  checkNodeRole(cert, "peer certificate");
  return { id: await nodeIdOf(cert, ca), name, external: false, notAfter: cert.notAfter };
}
