/** The handshake of one session, over an in-memory link with a manual clock. */
import { assert, assertEquals, assertStringIncludes } from "../../tests/_harness/assert.ts";
import { makeTestPki } from "../../tests/_harness/pki.ts";
import { sessionFixture, until } from "../../tests/_harness/session_fixture.ts";
import { encodeFrame, FrameType } from "./frame.ts";
import { MAX_EARLY_BYTES } from "./receive.ts";
import { keyFingerprint } from "../pki/mod.ts";

const pki = await makeTestPki();
const a = await pki.issue("a");
const b = await pki.issue("b");

Deno.test("a session sends nothing before TLS, its hello after its checks, and opens on the peer's", async () => {
  const f = sessionFixture(a.identity, b.identity, pki.trust);
  await f.settle();
  assertEquals(f.session.state, "tls");
  assertEquals(f.link.bytesWritten, 0, "nothing before TLS");
  f.peerLink.secure();
  assertEquals(f.session.state, "verifying");
  assertEquals(f.link.bytesWritten, 0, "nothing while our checks run");
  await until(f, () => f.session.state === "hello", "checks passed");
  await until(f, () => f.frames.length === 1, "our hello");
  assertEquals(f.frames.map((x) => x.type), [FrameType.Hello]);
  assertEquals(f.recorded.opened, 0, "not open before the peer's hello");
  await f.sendHello();
  await until(f, () => f.session.state === "open", "open");
  assertEquals(f.recorded.opened, 1);
  assertEquals(f.session.peer.name, b.name);
  assertEquals(f.session.channelSecret.length, 32);
  await until(f, () => f.frames.length === 2, "first ping");
  assertEquals(f.frames[1].type, FrameType.Ping, "pings start once open");
  assertEquals(f.recorded.closed, []);
});

Deno.test("a hello that arrives while our checks still run is held and read afterwards", async () => {
  const f = sessionFixture(a.identity, b.identity, pki.trust);
  const hello = await f.prepareHello();
  f.peerLink.secure();
  f.peerLink.write(hello); // the peer is faster than our checks
  await Promise.resolve();
  await Promise.resolve();
  assertEquals(f.session.state, "verifying", "the hello arrived before our checks finished");
  assert(f.session.stats().counters.bytesIn > 0, "it was received (and held)");
  await until(f, () => f.session.state === "open", "open");
  assertEquals(f.frames[0].type, FrameType.Hello, "we still sent our hello first");
  assertEquals(f.recorded.opened, 1);
});

Deno.test("more than one hello's worth of data before our checks finish closes the connection", async () => {
  const f = sessionFixture(a.identity, b.identity, pki.trust);
  f.peerLink.secure();
  f.peerLink.write(new Uint8Array(MAX_EARLY_BYTES + 1));
  await until(f, () => f.session.state === "closed", "closed");
  assertEquals(f.recorded.closed.length, 1);
  assertEquals(f.recorded.closed[0].reason, "malformed-hello");
  assertStringIncludes(f.recorded.closed[0].message, "too much data before the hello");
  await until(f, () => f.peerClosed(), "link closed");
  assertEquals(f.frames, [], "no hello to an unchecked peer");
});

Deno.test("exactly one hello's worth of early data is accepted", async () => {
  const f = sessionFixture(a.identity, b.identity, pki.trust);
  f.peerLink.secure();
  // Junk of the largest allowed size: held, then refused as a hello (not as too much data).
  f.peerLink.write(encodeFrame(0x55, new Uint8Array(MAX_EARLY_BYTES - 4)));
  await until(f, () => f.session.state === "closed", "closed");
  assertEquals(f.recorded.closed[0].reason, "malformed-hello");
  assertStringIncludes(f.recorded.closed[0].message, "expected a hello");
});

Deno.test("a frame other than a hello first closes the connection", async () => {
  const f = sessionFixture(a.identity, b.identity, pki.trust);
  f.peerLink.secure();
  await until(f, () => f.session.state === "hello", "checks passed");
  f.send(FrameType.IpPacket, new Uint8Array(40));
  await until(f, () => f.session.state === "closed", "closed");
  assertEquals(f.recorded.closed[0].reason, "malformed-hello");
  assertEquals(f.recorded.opened, 0);
});

Deno.test("a handshake that never starts TLS times out, naming the stage", async () => {
  const f = sessionFixture(a.identity, b.identity, pki.trust);
  f.clock.advance(4999);
  assertEquals(f.session.state, "tls");
  f.clock.advance(1);
  assertEquals(f.session.state, "closed");
  assertEquals(f.recorded.closed[0].reason, "handshake-timeout");
  assertStringIncludes(f.recorded.closed[0].message, "stage: tls");
  await until(f, () => f.peerClosed(), "link closed");
  assertEquals(f.clock.pending, 0, "no timer left");
});

Deno.test("a peer that never sends its hello times out in the hello stage", async () => {
  const f = sessionFixture(a.identity, b.identity, pki.trust);
  f.peerLink.secure();
  await until(f, () => f.session.state === "hello", "checks passed");
  f.clock.advance(5000);
  assertEquals(f.session.state, "closed");
  assertEquals(f.recorded.closed[0].reason, "handshake-timeout");
  assertStringIncludes(f.recorded.closed[0].message, "stage: hello");
});

Deno.test("an open session is not closed by the handshake timer", async () => {
  const f = sessionFixture(a.identity, b.identity, pki.trust, {
    ctx: { liveness: { intervalMs: 60_000 } },
  });
  f.peerLink.secure();
  await f.sendHello();
  await until(f, () => f.session.state === "open", "open");
  f.clock.advance(10_000);
  assertEquals(f.session.state, "open");
});

Deno.test("a dialer refuses a peer whose certificate is not for the name it dialled", async () => {
  const f = sessionFixture(a.identity, b.identity, pki.trust, {
    role: "dialer",
    expectedName: "c.vnet.test",
  });
  f.peerLink.secure();
  await until(f, () => f.session.state === "closed", "closed");
  assertEquals(f.recorded.closed[0].reason, "name-mismatch");
  assertEquals(f.frames, [], "no hello to the wrong peer");
});

Deno.test("a peer presenting our own certificate is refused as ourselves", async () => {
  const f = sessionFixture(a.identity, a.identity, pki.trust);
  f.peerLink.secure();
  await until(f, () => f.session.state === "closed", "closed");
  assertEquals(f.recorded.closed[0].reason, "self");
});

Deno.test("TLS below 1.3 is refused before any hello", async () => {
  const f = sessionFixture(a.identity, b.identity, pki.trust);
  (f.link.tls() as { protocol: string }).protocol = "TLSv1.2";
  f.peerLink.secure();
  await until(f, () => f.session.state === "closed", "closed");
  assertEquals(f.recorded.closed[0].reason, "tls-version");
  assertEquals(f.frames, []);
});

Deno.test("a link error before TLS is a TLS failure, a connect error a connect failure", async () => {
  const f = sessionFixture(a.identity, b.identity, pki.trust);
  f.link.fail("handshake junk", "ERR_SSL");
  assertEquals(f.recorded.closed[0].reason, "tls-error");
  const g = sessionFixture(a.identity, b.identity, pki.trust, { role: "dialer" });
  g.link.fail("connection refused", "ECONNREFUSED");
  assertEquals(g.recorded.closed[0].reason, "connect-failed");
  await f.settle();
  assertEquals(f.recorded.closed.length, 1, "the close that follows the error changes nothing");
});

Deno.test("a peer refusePeer refuses (revoked) is closed after the TLS checks, before any hello", async () => {
  const seen: { name: string; key: string }[] = [];
  const f = sessionFixture(a.identity, b.identity, pki.trust, {
    ctx: {
      refusePeer: (peer, keySha256) => {
        seen.push({ name: peer.name, key: keySha256 });
        return `${peer.name} is revoked: its key is revoked by the DC`;
      },
    },
  });
  f.peerLink.secure();
  await until(f, () => f.session.state === "closed", "closed");
  assertEquals(f.recorded.closed.length, 1);
  assertEquals(f.recorded.closed[0].reason, "revoked");
  assertStringIncludes(f.recorded.closed[0].message, "is revoked");
  assertEquals(f.recorded.opened, 0);
  assertEquals(f.frames, [], "no hello to a revoked peer");
  // The fingerprint it was asked about is the one `vmesh cert fingerprint` prints.
  assertEquals(seen, [{ name: b.name, key: keyFingerprint(b.identity.certDer) }]);
});

Deno.test("a peer refusePeer accepts opens, with its key fingerprint on the session", async () => {
  const f = sessionFixture(a.identity, b.identity, pki.trust, {
    ctx: { refusePeer: () => undefined },
  });
  f.peerLink.secure();
  await until(f, () => f.session.state === "hello", "checks passed");
  await f.sendHello();
  await until(f, () => f.session.state === "open", "open");
  assertEquals(f.session.peerKeySha256, keyFingerprint(b.identity.certDer));
});
