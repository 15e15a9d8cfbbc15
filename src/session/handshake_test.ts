import { assert, assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import { makeTestPki } from "../../tests/_harness/pki.ts";
import { SessionError } from "./errors.ts";
import {
  checkHelloMatchesPeer,
  deriveChannelSecret,
  generateEphemeralKey,
  signingKeyOf,
  signProof,
  verifyProof,
} from "./handshake.ts";
import { encodeHelloBody, type Hello, PROTOCOL_VERSION } from "./hello.ts";

const pki = await makeTestPki();
const a = await pki.issue("a");
const b = await pki.issue("b");
const ecdsa = await pki.issue("c", { algorithm: "ecdsa-p256" });

Deno.test("verifyProof() accepts a signature by the certificate's key (Ed25519 and P-256)", () => {
  const input = new TextEncoder().encode("transcript");
  verifyProof(a.certDer, input, signProof(signingKeyOf(a.keyPem), input));
  verifyProof(ecdsa.certDer, input, signProof(signingKeyOf(ecdsa.keyPem), input));
});

Deno.test("verifyProof() refuses a signature by another key or over another session", () => {
  const input = new TextEncoder().encode("transcript of session 1");
  // Someone presenting a's certificate without a's key signs with its own key.
  const forged = signProof(signingKeyOf(b.keyPem), input);
  assertThrows(() => verifyProof(a.certDer, input, forged), SessionError, "does not verify");
  // A hello relayed from another TLS session: the signed input differs.
  const relayed = signProof(signingKeyOf(a.keyPem), input);
  const other = new TextEncoder().encode("transcript of session 2");
  assertThrows(() => verifyProof(a.certDer, other, relayed), SessionError, "does not verify");
  assertThrows(() => verifyProof(a.certDer, input, new Uint8Array(3)), SessionError);
});

Deno.test("checkHelloMatchesPeer() refuses a hello whose name, ID or version disagree", () => {
  const peer = { id: a.id, name: a.name, external: false, notAfter: new Date() };
  const hello: Hello = {
    version: PROTOCOL_VERSION,
    features: 0,
    instance: new Uint8Array(8),
    id: Uint8Array.fromHex(a.id),
    x25519: new Uint8Array(32),
    name: a.name,
    signature: new Uint8Array(1),
  };
  checkHelloMatchesPeer(hello, peer);
  assertThrows(() => checkHelloMatchesPeer({ ...hello, name: b.name }, peer), SessionError, "name");
  assertThrows(
    () => checkHelloMatchesPeer({ ...hello, id: Uint8Array.fromHex(b.id) }, peer),
    SessionError,
    "ID",
  );
  assertThrows(
    () => checkHelloMatchesPeer({ ...hello, version: 9 }, peer),
    SessionError,
    "version",
  );
});

Deno.test("deriveChannelSecret() agrees on both ends and differs per session", () => {
  const ka = generateEphemeralKey();
  const kb = generateEphemeralKey();
  assertEquals(ka.publicRaw.length, 32);
  const fc = new Uint8Array(32).fill(1);
  const fs = new Uint8Array(32).fill(2);
  const body = (name: string, k: Uint8Array) =>
    encodeHelloBody({
      version: 1,
      features: 0,
      instance: new Uint8Array(8),
      id: new Uint8Array(32),
      x25519: k,
      name,
    });
  const da = body("a.vnet.test", ka.publicRaw);
  const lb = body("b.vnet.test", kb.publicRaw);
  const s1 = deriveChannelSecret(ka, kb.publicRaw, fc, fs, da, lb);
  const s2 = deriveChannelSecret(kb, ka.publicRaw, fc, fs, da, lb);
  assertEquals(s1, s2);
  assertEquals(s1.length, 32);
  const s3 = deriveChannelSecret(ka, kb.publicRaw, fs, fc, da, lb);
  assert(s3.toHex() !== s1.toHex(), "another TLS session gives another secret");
  assertThrows(
    () => deriveChannelSecret(ka, new Uint8Array(32), fc, fs, da, lb),
    SessionError,
    "X25519",
  );
});
