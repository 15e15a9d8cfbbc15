/**
 * Our checks on a TLS session once its handshake completed, and the hello exchange built on
 * them. No TLS library check is trusted: the peer certificate DER is taken from the session
 * and verified by the PKI module against our CA or pinned certificates only.
 * @module
 */
import type { KeyObject } from "node:crypto";
import {
  CertificateError,
  certificateNames,
  keyFingerprint,
  type NodeIdentity,
  type TrustStore,
  type VerifiedPeer,
  verifyPeerCertificate,
} from "../pki/mod.ts";
import { sameName } from "../net/mod.ts";
import { SessionError } from "./errors.ts";
import {
  checkHelloMatchesPeer,
  deriveChannelSecret,
  type EphemeralKey,
  generateEphemeralKey,
  signProof,
  verifyProof,
} from "./handshake.ts";
import {
  decodeHello,
  encodeHello,
  encodeHelloBody,
  type Hello,
  helloSigningInput,
  PROTOCOL_VERSION,
  type Role,
} from "./hello.ts";
import type { TlsFacts } from "./link.ts";

/** The result of {@link checkTlsPeer}. */
export interface CheckedPeer {
  peer: VerifiedPeer;
  /** The peer's leaf certificate DER. */
  der: Uint8Array;
  /** Its key fingerprint (SHA-256 of the SubjectPublicKeyInfo DER, hex). */
  keySha256: string;
  /** Both TLS Finished messages. */
  finished: { client: Uint8Array; server: Uint8Array };
}

/**
 * Checks the peer of a secure link from its TLS facts: TLS 1.3, a certificate that passes
 * `verifyPeerCertificate` (our CA, or a pinned external outside our domain), not ourselves,
 * — for a dialer — the configured name as CN and as every DNS SAN, and not refused by
 * `refusePeer` (revoked by the DC).
 * @throws {SessionError} tls-version, no-certificate, certificate, self, name-mismatch,
 *   revoked, tls-error
 */
async function checkTlsPeer(
  tls: TlsFacts,
  role: Role,
  s: HelloSettings,
  expectedName: string | undefined,
): Promise<CheckedPeer> {
  const { identity, trust } = s;
  if (tls.protocol !== "TLSv1.3") {
    throw new SessionError("tls-version", `peer negotiated ${tls.protocol}, need TLSv1.3`);
  }
  const der = tls.peerCertificate;
  if (der === undefined || der.length === 0) {
    throw new SessionError("no-certificate", "peer presented no certificate");
  }
  let peer: VerifiedPeer;
  try {
    peer = await verifyPeerCertificate(der, trust, {
      now: new Date(),
      localDomain: identity.domain,
    });
  } catch (e) {
    if (e instanceof CertificateError) {
      throw new SessionError("certificate", `certificate refused (${e.reason}): ${e.message}`, {
        cause: e,
      });
    }
    throw e;
  }
  if (peer.id === identity.id) {
    throw new SessionError("self", "the peer is this node itself");
  }
  if (sameName(peer.name, identity.name)) {
    // Another certificate under our own name: a second key for this node, or an impostor.
    throw new SessionError("self", `the peer uses this node's own name "${identity.name}"`);
  }
  if (expectedName !== undefined) {
    const names = certificateNames(der);
    if (
      names.cn === undefined || !sameName(names.cn, expectedName) ||
      names.dnsSans.some((n) => !sameName(n, expectedName))
    ) {
      throw new SessionError(
        "name-mismatch",
        `dialled "${expectedName}" but the certificate is for CN "${names.cn}"` +
          (names.dnsSans.length ? ` (DNS SANs ${names.dnsSans.join(", ")})` : ""),
      );
    }
  }
  const keySha256 = keyFingerprint(der);
  const revoked = s.refusePeer?.(peer, keySha256);
  if (revoked !== undefined) throw new SessionError("revoked", revoked);
  const mine = tls.finished;
  const theirs = tls.peerFinished;
  if (!mine || !theirs) throw new SessionError("tls-error", "TLS Finished messages unavailable");
  const finished = role === "dialer"
    ? { client: mine, server: theirs }
    : { client: theirs, server: mine };
  return { peer, der, keySha256, finished };
}

/** Our side of the hello exchange, kept until the peer's hello arrives. */
export interface OurHello {
  /** The hello frame payload to send. */
  payload: Uint8Array;
  /** The encoded body (covered by the channel-secret derivation). */
  body: Uint8Array;
  /** Our X25519 key for this session. */
  ephemeral: EphemeralKey;
}

/** Builds and signs our hello for a checked TLS session. */
function buildHello(
  identity: NodeIdentity,
  signingKey: KeyObject,
  role: Role,
  checked: CheckedPeer,
  features: number,
  instance: Uint8Array,
): OurHello {
  const ephemeral = generateEphemeralKey();
  const body = encodeHelloBody({
    version: PROTOCOL_VERSION,
    features,
    instance,
    id: Uint8Array.fromHex(identity.id),
    x25519: ephemeral.publicRaw,
    name: identity.name,
  });
  const f = checked.finished;
  const sig = signProof(signingKey, helloSigningInput(role, f.client, f.server, body));
  return { payload: encodeHello(body, sig), body, ephemeral };
}

/**
 * Checks the peer's hello (structure, signature by its certificate's key over this TLS
 * session, name/ID/version) and derives the channel secret.
 * @throws {SessionError} malformed-hello, proof-invalid, hello-mismatch
 */
function acceptHello(
  payload: Uint8Array,
  role: Role,
  checked: CheckedPeer,
  ours: OurHello,
): { hello: Hello; channelSecret: Uint8Array } {
  const { hello, body } = decodeHello(payload);
  const f = checked.finished;
  const peerRole: Role = role === "dialer" ? "listener" : "dialer";
  verifyProof(checked.der, helloSigningInput(peerRole, f.client, f.server, body), hello.signature);
  checkHelloMatchesPeer(hello, checked.peer);
  const [dialerBody, listenerBody] = role === "dialer" ? [ours.body, body] : [body, ours.body];
  const channelSecret = deriveChannelSecret(
    ours.ephemeral,
    hello.x25519,
    f.client,
    f.server,
    dialerBody,
    listenerBody,
  );
  return { hello, channelSecret };
}

/** What {@link HelloExchange} needs to know about this node. */
export interface HelloSettings {
  identity: NodeIdentity;
  signingKey: KeyObject;
  trust: TrustStore;
  features: number;
  instance: Uint8Array;
  /** A message refuses the peer as revoked (see `SessionContext.refusePeer`). */
  refusePeer?(peer: VerifiedPeer, keySha256: string): string | undefined;
}

/**
 * One session's handshake after TLS: our checks on the peer ({@link checkTlsPeer}), our hello
 * ({@link buildHello}) and the peer's ({@link acceptHello}). Holds the ephemeral key only
 * until the peer's hello arrived or the session closed.
 */
export class HelloExchange {
  readonly #s: HelloSettings;
  readonly #role: Role;
  readonly #expectedName: string | undefined;
  #checked: CheckedPeer | undefined;
  #ours: OurHello | undefined;

  /**
   * @param settings our identity, trust store, features and instance
   * @param role our end of the TLS connection
   * @param expectedName for a dialer: the configured peer name
   */
  constructor(settings: HelloSettings, role: Role, expectedName: string | undefined) {
    this.#s = settings;
    this.#role = role;
    this.#expectedName = expectedName;
  }

  /**
   * Checks the peer from the link's TLS facts and builds our hello.
   * @returns the verified peer
   * @throws {SessionError} as {@link checkTlsPeer}
   */
  async check(tls: TlsFacts): Promise<VerifiedPeer> {
    const s = this.#s;
    const checked = await checkTlsPeer(tls, this.#role, s, this.#expectedName);
    this.#ours = buildHello(s.identity, s.signingKey, this.#role, checked, s.features, s.instance);
    this.#checked = checked;
    return checked.peer;
  }

  /** The peer's key fingerprint (after {@link check}; "" before). */
  get keySha256(): string {
    return this.#checked?.keySha256 ?? "";
  }

  /** Our hello frame payload (after {@link check}). */
  get ourHello(): Uint8Array {
    if (this.#ours === undefined) throw new Error("HelloExchange: no hello before check()");
    return this.#ours.payload;
  }

  /**
   * Checks the peer's hello and derives the channel secret (then forgets our ephemeral key).
   * @throws {SessionError} as {@link acceptHello}
   */
  accept(payload: Uint8Array): { hello: Hello; channelSecret: Uint8Array } {
    if (this.#checked === undefined || this.#ours === undefined) {
      throw new Error("HelloExchange: accept() before check()");
    }
    const result = acceptHello(payload, this.#role, this.#checked, this.#ours);
    this.#ours = undefined;
    return result;
  }

  /** Forgets the ephemeral key (the session closed). */
  clear(): void {
    this.#ours = undefined;
  }
}
