/**
 * Each refused connection is refused for the right reason, and the session that is already
 * up (B dialled A) stays up meanwhile.
 */
import net from "node:net";
import { assert, assertEquals, assertStringIncludes } from "./_harness/assert.ts";
import { makeTestPki } from "./_harness/pki.ts";
import { domainOf, type NodeIdentity } from "../src/pki/mod.ts";
import { encodeFrame, FrameType } from "../src/session/mod.ts";
import { rawPeer, startNode, stopAll, type TestNode, waitUntil } from "./session_helpers.ts";

const pki = await makeTestPki();
const a = await pki.issue("a");
const b = await pki.issue("b");
const c = await pki.issue("c");
const ext = await pki.selfSigned("ext.example.org");
const inDomain = await pki.selfSigned("evil.vnet.test");
const trustA = await pki.trustWith([ext, inDomain]);

/** A listening with B's session up; runs `fn`; checks the B session survived. */
async function withPair(
  fn: (na: TestNode, nb: TestNode) => Promise<void>,
  optsA: Parameters<typeof startNode>[2] = {},
): Promise<void> {
  const na = await startNode(a.identity, trustA, optsA);
  const nb = await startNode(b.identity, pki.trust, { peers: [na.asPeer()] });
  try {
    await waitUntil(() => na.up.length === 1 && nb.up.length === 1, "A–B session up");
    await fn(na, nb);
    assertEquals(na.down.length, 0, "the A–B session stayed up");
    assertEquals(na.mgr.sessions().map((s) => s.peer.name).includes(b.name), true);
  } finally {
    await stopAll(na, nb);
  }
}

async function expectFailure(na: TestNode, reason: string, includes: string): Promise<void> {
  await waitUntil(() => na.failures.some((f) => f.reason === reason), `failure "${reason}"`);
  const f = na.failures.find((f) => f.reason === reason)!;
  assertStringIncludes(f.message, includes);
  assertEquals(na.mgr.handshakeFailures()[reason] >= 1, true);
}

function identityOf(
  cert: { certPem: string; keyPem: string; certDer: Uint8Array; id: string; name: string },
): NodeIdentity {
  return { ...cert, domain: domainOf(cert.name) };
}

Deno.test("a certificate from another CA for a node's exact name is refused", async () => {
  const impostor = await pki.foreign.issue(c.name); // "c.vnet.test" from the foreign CA
  await withPair(async (na) => {
    const p = rawPeer(na.mgr.listenAddr()!.port, impostor);
    await p.closed;
    await expectFailure(na, "certificate", "not_issued_by_ca");
    assertEquals(p.received(), 0, "no hello is sent to an unauthenticated peer");
  });
});

Deno.test("an expired certificate from our CA is refused", async () => {
  await withPair(async (na) => {
    const p = rawPeer(na.mgr.listenAddr()!.port, pki.expired);
    await p.closed;
    await expectFailure(na, "certificate", "expired");
  });
});

Deno.test("an unknown self-signed certificate is refused", async () => {
  const stranger = await pki.selfSigned("stranger.example.org");
  await withPair(async (na) => {
    await rawPeer(na.mgr.listenAddr()!.port, stranger).closed;
    await expectFailure(na, "certificate", "stranger.example.org");
  });
});

Deno.test("a client without a certificate is refused", async () => {
  await withPair(async (na) => {
    const p = rawPeer(na.mgr.listenAddr()!.port, { certPem: "", keyPem: "" });
    await p.closed;
    await expectFailure(na, "no-certificate", "no certificate");
  });
});

Deno.test("a pinned external certificate is accepted", async () => {
  await withPair(async (na) => {
    const ne = await startNode(identityOf(ext), pki.trust, { peers: [na.asPeer()] });
    try {
      // Both ends: each opens on the other's hello, so one may open a moment before the other.
      await waitUntil(
        () => na.up.some((s) => s.peer.name === ext.name) && ne.up.length === 1,
        "external session up at both ends",
      );
      const s = na.up.find((s) => s.peer.name === ext.name)!;
      assertEquals(s.peer.external, true);
      assertEquals(ne.up[0].peer.name, a.name);
    } finally {
      await stopAll(ne);
    }
    await waitUntil(() => na.down.length === 1, "external session down");
    na.down.length = 0; // expected: not the A–B session
  });
});

Deno.test("a pinned external certificate named inside our own domain is refused", async () => {
  await withPair(async (na) => {
    await rawPeer(na.mgr.listenAddr()!.port, inDomain).closed;
    await expectFailure(na, "certificate", "external_in_own_domain");
  });
});

Deno.test("the dialer refuses a listener whose certificate is for another name", async () => {
  await withPair(async (na) => {
    const nc = await startNode(c.identity, pki.trust);
    try {
      // A believes B's name lives at C's address.
      na.mgr.updatePeers([{ addr: nc.asPeer().addr, name: "d.vnet.test" }]);
      await expectFailure(na, "name-mismatch", 'dialled "d.vnet.test"');
      const f = na.failures.find((f) => f.reason === "name-mismatch")!;
      assertEquals(f.dialedName, "d.vnet.test");
      assertEquals(nc.up.length, 0);
      na.mgr.updatePeers([]);
    } finally {
      await stopAll(nc);
    }
  });
});

Deno.test("the dialer refuses a listener with another CA's certificate for the right name", async () => {
  const impostor = await pki.foreign.issue(c.name);
  await withPair(async (na) => {
    const ni = await startNode(impostor.identity, pki.foreign.trust);
    try {
      na.mgr.updatePeers([{ addr: ni.asPeer().addr, name: c.name }]);
      await expectFailure(na, "certificate", "not_issued_by_ca");
      na.mgr.updatePeers([]);
    } finally {
      await stopAll(ni);
    }
  });
});

Deno.test("a node never keeps a session with itself", async () => {
  await withPair(async (na) => {
    na.mgr.updatePeers([{ addr: na.asPeer().addr, name: a.name }]);
    await expectFailure(na, "self", "this node itself");
    na.mgr.updatePeers([]);
    assert(na.mgr.sessions().every((s) => s.peer.id !== a.id));
  });
});

Deno.test("raw TCP junk before the TLS handshake is refused", async () => {
  await withPair(async (na) => {
    const sock = net.connect({ host: "127.0.0.1", port: na.mgr.listenAddr()!.port });
    sock.on("error", () => {});
    sock.resume(); // read, so that the server's close is seen
    sock.write("GET / HTTP/1.1\r\nHost: example\r\n\r\n" + "x".repeat(2000));
    await new Promise((r) => sock.once("close", r));
    await expectFailure(na, "tls-error", "TLS handshake failed");
  });
});

Deno.test("junk inside TLS instead of a hello is refused", async () => {
  await withPair(async (na) => {
    const p = rawPeer(na.mgr.listenAddr()!.port, c);
    await p.ready;
    p.socket.write(encodeFrame(FrameType.IpPacket, new Uint8Array(100)));
    await p.closed;
    await expectFailure(na, "malformed-hello", "expected a hello");
  });
});

Deno.test("a hello that is not a hello (bad magic) is refused", async () => {
  await withPair(async (na) => {
    const p = rawPeer(na.mgr.listenAddr()!.port, c);
    await p.ready;
    p.socket.write(encodeFrame(FrameType.Hello, new TextEncoder().encode("x".repeat(120))));
    await p.closed;
    await expectFailure(na, "malformed-hello", "bad magic");
  });
});

Deno.test("a hello signed for another node's certificate is refused", async () => {
  await withPair(async (na) => {
    // TLS with C's certificate, hello claiming (and signed as) B.
    const p = rawPeer(na.mgr.listenAddr()!.port, c, b.identity);
    await p.closed;
    await expectFailure(na, "proof-invalid", "does not verify");
  });
});

Deno.test("an oversize frame after the handshake closes only that session", async () => {
  await withPair(async (na) => {
    const p = rawPeer(na.mgr.listenAddr()!.port, c, c.identity);
    await waitUntil(() => na.up.some((s) => s.peer.name === c.name), "C session up");
    p.socket.write(new Uint8Array([FrameType.IpPacket, 0x02, 0x00, 0x00])); // 128 KiB
    await p.closed;
    await waitUntil(() => na.down.length === 1, "C session down");
    assertEquals(na.down[0].session.peer.name, c.name);
    assertStringIncludes(na.down[0].reason, "more than the limit");
    na.down.length = 0;
  });
});

Deno.test("a malformed ping after the handshake closes only that session", async () => {
  await withPair(async (na) => {
    const p = rawPeer(na.mgr.listenAddr()!.port, c, c.identity);
    await waitUntil(() => na.up.some((s) => s.peer.name === c.name), "C session up");
    p.socket.write(encodeFrame(0x99, new Uint8Array(10))); // unknown: skipped
    p.socket.write(encodeFrame(FrameType.Ping, new Uint8Array(3)));
    await p.closed;
    await waitUntil(() => na.down.length === 1, "C session down");
    assertStringIncludes(na.down[0].reason, "ping frame of 3 bytes");
    assertEquals(na.down[0].session.stats().counters.unknownIn, 1);
    na.down.length = 0;
  });
});

Deno.test("a slow handshake is closed after the handshake timeout", async () => {
  await withPair(async (na) => {
    // Silent TCP: never starts TLS.
    const sock = net.connect({ host: "127.0.0.1", port: na.mgr.listenAddr()!.port });
    sock.on("error", () => {});
    sock.resume(); // read, so that the server's close is seen
    // TLS done but no hello.
    const p = rawPeer(na.mgr.listenAddr()!.port, c);
    const t0 = Date.now();
    await Promise.all([new Promise((r) => sock.once("close", r)), p.closed]);
    const took = Date.now() - t0;
    assert(took >= 250 && took < 3000, `closed after ${took} ms`);
    await waitUntil(() => na.mgr.handshakeFailures()["handshake-timeout"] === 2, "two timeouts");
    const msgs = na.failures.filter((f) => f.reason === "handshake-timeout").map((f) => f.message);
    assert(msgs.some((m) => m.includes("stage: tls")), msgs.join("; "));
    assert(msgs.some((m) => m.includes("stage: hello")), msgs.join("; "));
  }, { handshakeTimeoutMs: 300 });
});

Deno.test("the listener caps unauthenticated connections per address and in total", async () => {
  await withPair(async (na) => {
    const port = na.mgr.listenAddr()!.port;
    const open = (localAddress: string) => {
      const s = net.connect({ host: "127.0.0.1", port, localAddress });
      s.on("error", () => {});
      s.resume();
      return s;
    };
    const socks = [1, 2, 3, 4].map(() => open("127.0.0.1"));
    await waitUntil(
      () => na.mgr.handshakeFailures()["unauthenticated-limit"] === 1,
      "per-address cap",
    );
    assertEquals(na.mgr.unauthenticated, 3);
    socks.push(...[1, 2].map(() => open("127.0.0.2")));
    await waitUntil(() => na.mgr.unauthenticated === 5, "5 pending");
    socks.push(open("127.0.0.3"));
    await waitUntil(() => na.mgr.handshakeFailures()["unauthenticated-limit"] === 2, "total cap");
    // A legitimate peer still gets in once the junk is gone.
    for (const s of socks) s.destroy();
    await waitUntil(() => na.mgr.unauthenticated === 0, "pending connections released");
    const nc = await startNode(c.identity, pki.trust, { peers: [na.asPeer()] });
    try {
      await waitUntil(() => nc.up.length === 1, "C session up");
    } finally {
      await stopAll(nc);
    }
    await waitUntil(() => na.down.length === 1, "C session down");
    na.down.length = 0;
  }, { maxUnauthenticated: 5, maxUnauthenticatedPerAddress: 3 });
});

Deno.test("a peer with another certificate under this node's own name is refused", async () => {
  const twin = await pki.issue("a"); // a second key and certificate for A's name
  await withPair(async (na) => {
    rawPeer(na.mgr.listenAddr()!.port, twin, twin.identity);
    await expectFailure(na, "self", `this node's own name "${a.name}"`);
  });
});

Deno.test("a peer's close reason reaches the logs without control characters", async () => {
  await withPair(async (na) => {
    const p = rawPeer(na.mgr.listenAddr()!.port, c, c.identity);
    await waitUntil(() => na.up.some((s) => s.peer.name === c.name), "C session up");
    p.socket.write(
      encodeFrame(FrameType.Close, new TextEncoder().encode("bye\n2026 [ERR] forged line\x1b[0m")),
    );
    await waitUntil(() => na.down.length === 1, "C session down");
    assertStringIncludes(na.down[0].reason, "bye?2026 [ERR] forged line?[0m");
    na.down.length = 0;
  });
});
