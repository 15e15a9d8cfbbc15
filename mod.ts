/**
 * vmesh as a library: node config loading, the PKI (CA, node certificates, our own peer
 * certificate checks), distributed config (DC) signing and verification, and IPv6 prefix
 * types.
 *
 * @example Check a node's config, certificates and initial DC, as `vmesh run --check` does
 * ```ts
 * import { prepareNode } from "@vmesh/vmesh";
 * const node = await prepareNode("/etc/vmesh/node.json", { initialDcPath: "dconf.bin" });
 * console.log(node.identity.name, node.config.peers.length);
 * ```
 *
 * @example Make a PKI and sign a DC in memory
 * ```ts
 * import { createCa, issueNodeCertificate, signDc, verifyDc } from "@vmesh/vmesh";
 * const ca = await createCa({ name: "vnet.example.com" });
 * const a = await issueNodeCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, name: "a.vnet.example.com" });
 * const content = new TextEncoder().encode('{"prefix_whitelist":{"a.vnet.example.com":["2001:db8:1::/48"]}}');
 * const dc = await signDc({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, content });
 * const verified = await verifyDc(dc.bytes, ca.certPem);
 * ```
 * @module
 */

// --- Node config -------------------------------------------------------------------------------

/** Node config: parse/load the JSON file ({@link loadNodeConfig}), and everything a node needs before it starts ({@link prepareNode}). */
export {
  CONFIG_DEFAULTS,
  ConfigError,
  type DummyVifConfig,
  formatHostPort,
  type HostPort,
  type InterfaceAddress,
  type LoadedConfig,
  loadNodeConfig,
  type LocalAnnouncement,
  MAX_CONFIG_BYTES,
  type NodeConfig,
  parseHostPort,
  parseNodeConfig,
  type PeerConfig,
  type PreparedNode,
  prepareNode,
  type ServiceVifConfig,
  type TunVifConfig,
  type VifConfig,
} from "./src/config/mod.ts";

// --- PKI ---------------------------------------------------------------------------------------

/** PKI: trust store, node identity, peer certificate checks, certificate issuance, names. */
export {
  CertificateError,
  type CertificateErrorReason,
  certificateNames,
  createCa,
  domainOf,
  identityFromPem,
  isInDomain,
  isPeerId,
  issueNodeCertificate,
  isValidNodeName,
  type KeyAlgorithm,
  loadIdentity,
  loadTrustStore,
  type NodeIdentity,
  type PeerId,
  peerIdOf,
  shortId,
  type TrustStore,
  trustStoreFromPem,
  type VerifiedPeer,
  verifyPeerCertificate,
} from "./src/pki/mod.ts";

// --- Distributed config ------------------------------------------------------------------------

/** Distributed config: protobuf codec, signing (vnconfigsign-compatible), verification, order. */
export {
  compareDc,
  type DcContent,
  DcError,
  type DcErrorReason,
  dcFileName,
  type DcMessage,
  decodeDc,
  encodeDc,
  isNewer,
  MAX_DC_BYTES,
  parseDcContent,
  signDc,
  type SignedDc,
  type VerifiedDc,
  verifyDc,
} from "./src/dc/mod.ts";
export type { PrefixWhitelist, WhitelistEntry } from "./src/filter/whitelist.ts";

// --- IPv6 prefixes -----------------------------------------------------------------------------

/** IPv6 addresses and prefixes: parsing, formatting, containment. */
export { formatIpv6, parseIpv6 } from "./src/net/ipv6.ts";
export {
  formatPrefix,
  type Ipv6Prefix,
  parsePrefix,
  prefixCovers,
  prefixEquals,
} from "./src/net/prefix.ts";

// --- The node ----------------------------------------------------------------------------------

/** A running node: `runNode(await prepareNode(path), options)` is what `vmesh run` does. */
export { runNode, type RunNodeOptions } from "./src/node.ts";
/** Reads a running node's `status`, `routes` or `dc` through its control socket. */
export { ControlError, controlRequest } from "./src/node/control.ts";
/** The longest-prefix-match table vmesh forwards with. */
export { Fib } from "./src/routing/fib.ts";

// --- CLI ---------------------------------------------------------------------------------------

/** The options `vmesh run` passes to the node. */
export type { RunOptions } from "./src/cli/run.ts";
/** Logging setup used by the CLI. */
export { setupLogging } from "./src/log.ts";
