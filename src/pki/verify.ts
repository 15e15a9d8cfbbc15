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
import { type PeerId, peerIdOf } from "./peer_id.ts";
import { parsedCa, type TrustStore } from "./trust.ts";

/** A peer certificate that passed {@link verifyPeerCertificate}. */
export interface VerifiedPeer {
  /** SHA-256 of the certificate DER. */
  id: PeerId;
  /** The certificate's CN. */
  name: string;
  /** True for a pinned external certificate, false for one issued by our CA. */
  external: boolean;
  /** When the certificate expires (a session should not outlive it). */
  notAfter: Date;
}

/**
 * Verifies a peer's certificate:
 * - byte-for-byte equal to a pinned external certificate → accepted as external, unless its
 *   CN falls inside our own domain (`external_in_own_domain`: our domain's names come from our
 *   CA only) or it is outside its validity window;
 * - otherwise it must be issued by our CA (signature checked with the CA key), both inside
 *   their validity windows, and the CA allowed to sign.
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
  const id = await peerIdOf(der);
  const pinned = trust.externalIds.has(id) && trust.externalDers.some((d) => bytesEqual(d, der));
  if (pinned) {
    if (isInDomain(name, opts.localDomain)) {
      throw new CertificateError(
        "external_in_own_domain",
        `pinned external certificate "${name}" is inside our own domain "${opts.localDomain}": ` +
          "names in our domain must be issued by our CA",
      );
    }
    checkValidity(cert, opts.now, `pinned external certificate "${name}"`);
    return { id, name, external: true, notAfter: cert.notAfter };
  }
  await checkIssuedBy(cert, parsedCa(trust), opts.now, "peer certificate");
  return { id, name, external: false, notAfter: cert.notAfter };
}
