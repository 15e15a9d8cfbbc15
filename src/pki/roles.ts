/**
 * Certificate roles. One certificate has one role, and the roles do not mix:
 * - a **node** certificate has a CN (the node name), basicConstraints absent or CA:FALSE, and
 *   no `vnet-conf://` URI (a pinned external may be CA:TRUE: it is trusted as itself only);
 * - a **DC certificate** (the signature on a distributed config) has exactly one
 *   `vnet-conf://` URI (checked by src/dc), no CN and no DNS name, and is not a CA;
 * - the **CA** is whatever the trust store was built from; it is never a peer.
 * So a certificate that could carry a DC is never accepted as a node, and a node's
 * certificate never carries a DC.
 * @module
 */
import type { ParsedCertificate } from "./certificate.ts";
import { CertificateError } from "./errors.ts";

/** The URI scheme that marks a DC certificate. */
export const DC_URI_SCHEME = "vnet-conf";

function hasDcUri(c: ParsedCertificate): boolean {
  return c.uriSans.some((u) => u.toLowerCase().startsWith(`${DC_URI_SCHEME}:`));
}

/**
 * Refuses a certificate that may not be a node identity: a CA (basicConstraints CA:TRUE)
 * or a DC certificate (a `vnet-conf:` URI).
 * @param c The certificate.
 * @param what What it is, for messages.
 * @param opts `pinned`: a pinned external certificate, trusted as exactly itself and never as
 *   an issuer, so CA:TRUE (which `openssl req -x509` sets by default) grants it nothing and is
 *   accepted; the DC URI is refused all the same.
 * @throws {CertificateError} "wrong_role".
 */
export function checkNodeRole(
  c: ParsedCertificate,
  what: string,
  opts: { pinned?: boolean } = {},
): void {
  if (c.basicConstraints?.ca && !opts.pinned) {
    throw new CertificateError(
      "wrong_role",
      `${what} "${c.cn ?? ""}" is a CA certificate (basicConstraints CA:TRUE), not a node's`,
    );
  }
  if (hasDcUri(c)) {
    throw new CertificateError(
      "wrong_role",
      `${what} "${c.cn ?? ""}" carries a ${DC_URI_SCHEME}:// URI: it signs distributed ` +
        "configs and is not a node's",
    );
  }
}

/**
 * Refuses a DC certificate that could also be a node's or a CA: one with a subject CN, a DNS
 * name, or basicConstraints CA:TRUE (vmesh sign and the Go vnconfigsign make an empty subject
 * and no DNS name).
 * @throws {CertificateError} "wrong_role".
 */
export function checkDcSignerRole(c: ParsedCertificate, what: string): void {
  if (c.basicConstraints?.ca) {
    throw new CertificateError("wrong_role", `${what} is a CA certificate (CA:TRUE)`);
  }
  if ((c.cn !== undefined && c.cn !== "") || c.dnsSans.length > 0) {
    const names = [...(c.cn ? [`CN "${c.cn}"`] : []), ...c.dnsSans.map((n) => `DNS "${n}"`)];
    throw new CertificateError(
      "wrong_role",
      `${what} names a node (${names.join(", ")}): a node's certificate does not sign ` +
        "distributed configs",
    );
  }
}
