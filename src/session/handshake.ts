/**
 * Handshake cryptography and checks after TLS: the hello proof of possession (a signature
 * with the certificate's key over the TLS session's Finished messages), the hello's
 * consistency with the certificate, and the X25519 agreement of the UDP channel secret.
 *
 * Why a proof of possession on top of TLS: our TLS peers run with `rejectUnauthorized: false`
 * so that no system trust store is consulted, and in that mode Deno's rustls client does not
 * check the server's CertificateVerify signature. A listener could otherwise present another
 * node's (public) certificate without its key. The hello signature closes that gap for both
 * directions, whatever the TLS library does.
 * @module
 */
import { Buffer } from "node:buffer";
import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  sign,
  verify,
  X509Certificate,
} from "node:crypto";
import type { VerifiedPeer } from "../pki/mod.ts";
import { concatBytes } from "./bytes.ts";
import { SessionError } from "./errors.ts";
import { type Hello, PROTOCOL_VERSION, type Role } from "./hello.ts";

/** DER prefix of an X25519 SubjectPublicKeyInfo; the 32 key bytes follow. */
const X25519_SPKI_PREFIX = Uint8Array.fromHex("302a300506032b656e032100");

/** A fresh X25519 key pair for one handshake. */
export interface EphemeralKey {
  /** Private half (never leaves this process). */
  privateKey: KeyObject;
  /** Raw 32-byte public key for the hello. */
  publicRaw: Uint8Array;
}

/** Generates a fresh X25519 key pair. */
export function generateEphemeralKey(): EphemeralKey {
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  const spki = new Uint8Array(publicKey.export({ type: "spki", format: "der" }));
  return { privateKey, publicRaw: spki.slice(X25519_SPKI_PREFIX.length) };
}

/** The digest argument node:crypto expects for a key type (null for EdDSA). */
function digestFor(key: KeyObject): string | null {
  switch (key.asymmetricKeyType) {
    case "ed25519":
    case "ed448":
      return null;
    case "ec":
    case "rsa":
    case "rsa-pss":
      return "sha256";
    default:
      throw new SessionError(
        "proof-invalid",
        `certificate key type ${key.asymmetricKeyType} is not supported for the hello proof`,
      );
  }
}

/**
 * Reads our private key once for signing hellos.
 * @param keyPem PKCS#8 (or SEC1/PKCS#1) PEM
 */
export function signingKeyOf(keyPem: string): KeyObject {
  return createPrivateKey(keyPem);
}

/** Signs hello signing input with our certificate's private key. */
export function signProof(key: KeyObject, input: Uint8Array): Uint8Array {
  return new Uint8Array(sign(digestFor(key), input, key));
}

/**
 * Checks a hello signature against the public key of the peer's certificate.
 * @throws {SessionError} "proof-invalid" when it does not verify
 */
export function verifyProof(certDer: Uint8Array, input: Uint8Array, signature: Uint8Array): void {
  let ok = false;
  try {
    const key = new X509Certificate(certDer).publicKey;
    ok = verify(digestFor(key), input, key, signature);
  } catch (e) {
    if (e instanceof SessionError) throw e;
    throw new SessionError("proof-invalid", `cannot check the hello signature: ${e}`, { cause: e });
  }
  if (!ok) {
    throw new SessionError(
      "proof-invalid",
      "the hello signature does not verify with the certificate's key for this TLS session " +
        "(a peer presenting a certificate whose key it does not hold, or a relayed hello)",
    );
  }
}

/**
 * Checks that a (signature-verified) hello agrees with the verified certificate.
 * @throws {SessionError} "hello-mismatch"
 */
export function checkHelloMatchesPeer(hello: Hello, peer: VerifiedPeer): void {
  if (hello.version !== PROTOCOL_VERSION) {
    throw new SessionError(
      "hello-mismatch",
      `peer speaks session protocol version ${hello.version}, we speak ${PROTOCOL_VERSION}`,
    );
  }
  if (hello.name !== peer.name) {
    throw new SessionError(
      "hello-mismatch",
      `hello name "${hello.name}" differs from the certificate name "${peer.name}"`,
    );
  }
  if (hello.id.toHex() !== peer.id) {
    throw new SessionError("hello-mismatch", "hello ID differs from the certificate's ID");
  }
}

const CHANNEL_INFO = new TextEncoder().encode("vmesh udp channel v1");

/**
 * Derives the UDP channel secret: HKDF-SHA256 over the X25519 shared secret, salted with both
 * TLS Finished messages and bound to both hello bodies (dialer's first).
 * @returns 32 secret bytes, the same on both ends
 * @throws {SessionError} "proof-invalid" for a low-order peer key (all-zero shared secret)
 */
export function deriveChannelSecret(
  ours: EphemeralKey,
  peerPublicRaw: Uint8Array,
  clientFinished: Uint8Array,
  serverFinished: Uint8Array,
  dialerBody: Uint8Array,
  listenerBody: Uint8Array,
): Uint8Array {
  const spki = new Uint8Array(X25519_SPKI_PREFIX.length + 32);
  spki.set(X25519_SPKI_PREFIX, 0);
  spki.set(peerPublicRaw, X25519_SPKI_PREFIX.length);
  let shared: Uint8Array;
  try {
    const peerKey = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
    shared = new Uint8Array(diffieHellman({ privateKey: ours.privateKey, publicKey: peerKey }));
  } catch (e) {
    // OpenSSL refuses low-order points itself ("failed during derivation").
    throw new SessionError("proof-invalid", `peer sent an unusable X25519 key: ${e}`, { cause: e });
  }
  if (shared.every((b) => b === 0)) {
    throw new SessionError("proof-invalid", "peer sent a low-order X25519 key");
  }
  const salt = concatBytes([clientFinished, serverFinished]);
  const info = concatBytes([CHANNEL_INFO, dialerBody, listenerBody]);
  const out = new Uint8Array(hkdfSync("sha256", shared, salt, info, 32));
  shared.fill(0);
  return out;
}

/** Role of the other end. */
export function otherRole(role: Role): Role {
  return role === "dialer" ? "listener" : "dialer";
}
