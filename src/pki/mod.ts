/**
 * vmesh PKI: our CA, pinned external peers, node identities, and our own certificate checks.
 * @module
 */
export { isPeerId, nodeIdOf, type PeerId, peerIdOf, shortId } from "./peer_id.ts";
export { CertificateError, type CertificateErrorReason } from "./errors.ts";
export {
  loadTrustStore,
  meshDomainsOf,
  parsedCa,
  type TrustStore,
  trustStoreFromPem,
} from "./trust.ts";
export { identityFromPem, loadIdentity, type NodeIdentity } from "./identity.ts";
export { sessionKeyOf, type VerifiedPeer, verifyPeerCertificate } from "./verify.ts";
export { checkDcSignerRole, checkNodeRole } from "./roles.ts";
export { certificateNames, domainOf, isInDomain, isValidNodeName } from "./names.ts";
export {
  createCa,
  issueCertificate,
  issueNodeCertificate,
  type KeyAlgorithm,
  x509Lib,
} from "./issue.ts";
export { parseCertificate, type ParsedCertificate } from "./certificate.ts";
export { checkIssuedBy } from "./chain.ts";
export { decodePem, encodePem, pemCertificates } from "./pem.ts";
