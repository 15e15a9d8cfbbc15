/**
 * vmesh as a library: the node config, the PKI (CA, node certificates, our own peer
 * certificate checks), the distributed config (DC: signing, verification, order), IPv6
 * prefixes, the longest-prefix-match table the node forwards with, and the node itself.
 *
 * What `vmesh run` does is `runNode(await prepareNode(configPath), options)`: {@link prepareNode}
 * loads and checks the config file, the CA, the pinned certificates, the node certificate and
 * key and the initial DC (as `vmesh run --check`), and {@link runNode} runs the node until
 * SIGINT/SIGTERM. {@link controlRequest} asks a running node for its `status`, `routes` or `dc`
 * over its control socket, as `vmesh status` does. The examples below need no files, no root
 * and no network; `deno task check` runs them (`deno test --doc mod.ts`).
 *
 * @example Parse IPv6 prefixes and test containment
 * ```ts
 * import { formatPrefix, parsePrefix, prefixCovers } from "@vmesh/vmesh";
 * import assert from "node:assert/strict";
 *
 * const site = parsePrefix("2001:db8:a::/48");
 * const lan = parsePrefix("2001:db8:a:1::/64");
 * assert.equal(formatPrefix(site), "2001:db8:a::/48");
 * assert.ok(prefixCovers(site, lan));
 * assert.ok(!prefixCovers(lan, site));
 * // Host bits set are an error unless asked for (then they are cleared).
 * assert.throws(() => parsePrefix("2001:db8:a::1/48"));
 * assert.equal(formatPrefix(parsePrefix("2001:db8:a::1/48", true)), "2001:db8:a::/48");
 * ```
 *
 * @example Build a forwarding table and look destinations up (longest prefix wins)
 * ```ts
 * import { Fib, parseIpv6, parsePrefix } from "@vmesh/vmesh";
 * import assert from "node:assert/strict";
 *
 * const fib = new Fib<string>();
 * fib.set(parsePrefix("::/0"), "default");
 * fib.set(parsePrefix("2001:db8::/32"), "peer b");
 * fib.set(parsePrefix("2001:db8:a::/48"), "local tun0");
 * assert.equal(fib.lookupAddress(parseIpv6("2001:db8:a::1")), "local tun0");
 * assert.equal(fib.lookupAddress(parseIpv6("2001:db8:ffff::1")), "peer b");
 * assert.equal(fib.lookupAddress(parseIpv6("fd00::1")), "default");
 * fib.delete(parsePrefix("::/0"));
 * assert.equal(fib.lookupAddress(parseIpv6("fd00::1")), undefined);
 * ```
 *
 * @example Parse a node config from a string; every problem is reported at once
 * ```ts
 * import { ConfigError, parseNodeConfig } from "@vmesh/vmesh";
 * import assert from "node:assert/strict";
 *
 * const text = JSON.stringify({
 *   listen_addr: "[::]:5120",
 *   ca: "ca.crt",
 *   cert: "a.crt",
 *   private_key: "a.key",
 *   local_announcements: [{ prefix: "2001:db8:a::/48", vif: "tun0" }],
 *   peers: [{ addr: "b.example.net:5120", name: "b.vnet.example.com" }],
 *   vifs: { tun0: { type: "tun", addresses: ["2001:db8:a::1/48"], mtu: 1420 } },
 * });
 * // `path` only anchors relative file names; nothing is read.
 * const { config } = parseNodeConfig(text, { path: "/etc/vmesh/config.json" });
 * assert.equal(config.ca, "/etc/vmesh/ca.crt");
 * assert.equal(config.peers[0].name, "b.vnet.example.com");
 * assert.equal(config.hysteresisMs, 10); // a default the Go vmesh does not have
 *
 * const bad = JSON.stringify({ listen_addr: "nowhere", ca: "ca.crt" });
 * assert.throws(
 *   () => parseNodeConfig(bad, { path: "/etc/vmesh/config.json" }),
 *   (e) => e instanceof ConfigError && /listen_addr/.test(e.message) && /cert/.test(e.message),
 * );
 * ```
 *
 * @example Make a CA and a node certificate, and check a peer's certificate as a node does
 * ```ts
 * import {
 *   CertificateError,
 *   createCa,
 *   identityFromPem,
 *   issueNodeCertificate,
 *   trustStoreFromPem,
 *   verifyPeerCertificate,
 * } from "@vmesh/vmesh";
 * import assert from "node:assert/strict";
 *
 * const ca = await createCa({ name: "vnet.example.com" });
 * const issue = (name: string) =>
 *   issueNodeCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, name });
 * const trust = await trustStoreFromPem(ca.certPem);
 *
 * const aFiles = await issue("a.vnet.example.com");
 * const a = await identityFromPem(aFiles.certPem, aFiles.keyPem, trust);
 * assert.equal(a.domain, "vnet.example.com");
 *
 * // B's certificate DER, as A reads it from the TLS session:
 * const bFiles = await issue("b.vnet.example.com");
 * const b = await identityFromPem(bFiles.certPem, bFiles.keyPem, trust);
 * const peer = await verifyPeerCertificate(b.certDer, trust, {
 *   now: new Date(),
 *   localDomain: a.domain,
 * });
 * assert.equal(peer.name, "b.vnet.example.com");
 * assert.equal(peer.id, b.id); // SHA-256 of the certificate
 * assert.ok(!peer.external);
 *
 * // A certificate from another CA of the same name is refused: its signature does not verify
 * // with our CA's key.
 * const other = await createCa({ name: "vnet.example.com" });
 * const forged = await issueNodeCertificate({
 *   caCertPem: other.certPem,
 *   caKeyPem: other.keyPem,
 *   name: "b.vnet.example.com",
 * });
 * const otherTrust = await trustStoreFromPem(other.certPem);
 * const f = await identityFromPem(forged.certPem, forged.keyPem, otherTrust);
 * await assert.rejects(
 *   verifyPeerCertificate(f.certDer, trust, { now: new Date(), localDomain: a.domain }),
 *   (e) => e instanceof CertificateError && e.reason === "bad_signature",
 * );
 * ```
 *
 * @example Sign a distributed config, verify it, and see tampering refused
 * ```ts
 * import { createCa, DcError, decodeDc, encodeDc, isNewer, signDc, verifyDc } from "@vmesh/vmesh";
 * import assert from "node:assert/strict";
 *
 * const hourAgo = new Date(Date.now() - 3_600_000);
 * const ca = await createCa({ name: "vnet.example.com", now: hourAgo });
 * const content = new TextEncoder().encode(JSON.stringify({
 *   prefix_whitelist: { "a.vnet.example.com": ["2001:db8:a::/48,max_prefix_len=64"] },
 * }));
 * const signed = await signDc({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, content, now: hourAgo });
 * // signed.bytes is what `vmesh sign` writes to signed.fileName.
 * const dc = await verifyDc(signed.bytes, ca.certPem);
 * const [entry] = dc.content.prefixWhitelist.get("a.vnet.example.com")!;
 * assert.equal(entry.maxPrefixLen, 64);
 *
 * // A DC signed later is newer; the same DC is not newer than itself (two DCs signed in the
 * // same second are ordered by their content hash, the greater one newer).
 * const later = await signDc({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, content });
 * assert.ok(isNewer(await verifyDc(later.bytes, ca.certPem), dc));
 * assert.ok(!isNewer(dc, dc));
 *
 * // Changing one byte of the content breaks the hash the certificate carries.
 * const msg = decodeDc(signed.bytes);
 * const tampered = encodeDc({ ...msg, content: msg.content.map((x, i) => i === 2 ? x ^ 1 : x) });
 * await assert.rejects(
 *   verifyDc(tampered, ca.certPem),
 *   (e) => e instanceof DcError && e.reason === "hash_mismatch",
 * );
 * ```
 * @module
 */

// --- Node config -------------------------------------------------------------------------------

/** Node config: parse/load the JSON file ({@link loadNodeConfig}), and everything a node needs before it starts ({@link prepareNode}). */
export {
  CONFIG_DEFAULTS,
  ConfigError,
  type DummyVifConfig,
  type InterfaceAddress,
  type LoadedConfig,
  loadNodeConfig,
  type LocalAnnouncement,
  MAX_CONFIG_BYTES,
  type NodeConfig,
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
  type DcRank,
  decodeDc,
  encodeDc,
  isNewer,
  MAX_DC_BYTES,
  parseDcContent,
  type Revocation,
  signDc,
  type SignedDc,
  type VerifiedDc,
  verifyDc,
  type VerifyDcOptions,
} from "./src/dc/mod.ts";
export type { PrefixWhitelist, WhitelistEntry } from "./src/filter/mod.ts";

// --- IPv6 prefixes -----------------------------------------------------------------------------

/** IPv6 addresses and prefixes: parsing, formatting, containment; host:port addresses. */
export {
  formatHostPort,
  formatIpv6,
  formatPrefix,
  type HostPort,
  type Ipv6Prefix,
  parseHostPort,
  parseIpv6,
  parsePrefix,
  prefixCovers,
  prefixEquals,
} from "./src/net/mod.ts";

// --- The node ----------------------------------------------------------------------------------

/** A running node: `runNode(await prepareNode(path), options)` is what `vmesh run` does. */
export { runNode, type RunNodeOptions } from "./src/node/mod.ts";
/** Reads a running node's `status`, `routes` or `dc` through its control socket. */
export { ControlError, controlRequest } from "./src/node/mod.ts";
/** The longest-prefix-match table vmesh forwards with. */
export { Fib } from "./src/fib/mod.ts";
/** The node's clock ({@link RunNodeOptions}`.clock`): the real one, or a manual one for tests. */
export { type Clock, ManualClock, realClock, type TimerHandle } from "./src/clock/mod.ts";

// --- Logging -----------------------------------------------------------------------------------

/** Logging setup used by the CLI. */
export { setupLogging } from "./src/log/mod.ts";
