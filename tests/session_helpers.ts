/**
 * Helpers for the session tests: managers on loopback that record their events.
 * @module
 */
import tls from "node:tls";
import { copyPackets } from "../src/net/packet_batch.ts";
import type { NodeIdentity, TrustStore } from "../src/pki/mod.ts";
import { generateEphemeralKey, signingKeyOf, signProof } from "../src/session/handshake.ts";
import { encodeHello, encodeHelloBody, helloSigningInput } from "../src/session/hello.ts";
import {
  type DialTarget,
  encodeFrame,
  FrameType,
  type HandshakeFailure,
  PROTOCOL_VERSION,
  type Session,
  SessionManager,
  type SessionManagerOptions,
} from "../src/session/mod.ts";

/** A manager with its recorded events. */
export interface TestNode {
  mgr: SessionManager;
  name: string;
  up: Session[];
  down: { session: Session; reason: string }[];
  control: { session: Session; type: number; payload: Uint8Array }[];
  packets: { session: Session; packets: Uint8Array[]; vnet: boolean[] }[];
  failures: HandshakeFailure[];
  /** RTT events: session and sample, ms. */
  rtt: { session: Session; ms: number }[];
  /** The listen address as a peer entry for others. */
  asPeer(): DialTarget;
}

/** Fast settings for tests: short handshake timeout, fast pings, fast reconnects. */
export const FAST = {
  handshakeTimeoutMs: 5000,
  // Dead after 3 s without an answer: every node of a test shares one process, which a
  // loaded machine can leave unscheduled for most of a second (with 200 ms, a 1 s stall
  // dropped every session). Tests of liveness itself set their own interval.
  ping: { intervalMs: 1000, deadAfter: 3 },
  backoff: { initialMs: 50, maxMs: 400, stableMs: 1000 },
};

/** Starts a manager listening on 127.0.0.1 (ephemeral port) that records its events. */
export async function startNode(
  identity: NodeIdentity,
  trust: TrustStore,
  opts: Partial<SessionManagerOptions> = {},
): Promise<TestNode> {
  const node: TestNode = {
    mgr: undefined as unknown as SessionManager,
    name: identity.name,
    up: [],
    down: [],
    control: [],
    packets: [],
    failures: [],
    rtt: [],
    asPeer() {
      const a = node.mgr.listenAddr()!;
      return { addr: { host: "127.0.0.1", port: a.port }, name: identity.name };
    },
  };
  node.mgr = new SessionManager({
    identity,
    trust,
    listen: { host: "127.0.0.1", port: 0 },
    ...FAST,
    ...opts,
    onSessionUp: (s) => node.up.push(s),
    onSessionDown: (s, reason) => node.down.push({ session: s, reason }),
    onControl: (s, type, payload) =>
      node.control.push({ session: s, type, payload: payload.slice() }),
    onPackets: (s, batch) =>
      node.packets.push({
        session: s,
        packets: copyPackets(batch),
        vnet: batch.vnet.slice(0, batch.count),
      }),
    onHandshakeFailure: (f) => node.failures.push(f),
    onRtt: (session, ms) => node.rtt.push({ session, ms }),
  });
  await node.mgr.start();
  return node;
}

/** Polls `cond` every 10 ms until it holds; throws after `timeoutMs` naming `what`. */
export async function waitUntil(
  cond: () => boolean,
  what: string,
  timeoutMs = 8000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Stops all managers. */
export async function stopAll(...nodes: (TestNode | SessionManager | undefined)[]): Promise<void> {
  await Promise.all(
    nodes.map((n) =>
      n === undefined ? undefined : (n instanceof SessionManager ? n : n.mgr).stop()
    ),
  );
  // Let close frames and socket teardown finish so that the test sanitizers see no leaks.
  await new Promise((r) => setTimeout(r, 50));
}

/** A hand-driven peer: real TLS with a real certificate, then whatever the test writes. */
export interface RawPeer {
  socket: tls.TLSSocket;
  /** Resolves once TLS is up and (when `hello`) our valid hello is sent. */
  ready: Promise<void>;
  /** Bytes received so far. */
  received: () => number;
  /** Resolves when the connection closes. */
  closed: Promise<void>;
}

/**
 * Dials `port` on 127.0.0.1 over TLS with `certPem`/`keyPem`. With `hello`, sends a correct
 * signed hello for `identity` as soon as TLS is up (it does not check the listener's).
 */
export function rawPeer(
  port: number,
  cert: { certPem: string; keyPem: string },
  hello?: NodeIdentity,
): RawPeer {
  const socket = tls.connect({
    host: "127.0.0.1",
    port,
    cert: cert.certPem,
    key: cert.keyPem,
    rejectUnauthorized: false,
    minVersion: "TLSv1.3",
  });
  let received = 0;
  socket.on("data", (d: Uint8Array) => (received += d.length));
  socket.on("error", () => {});
  const closed = new Promise<void>((r) => socket.once("close", () => r()));
  const ready = new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.once("secureConnect", () => {
      if (hello) {
        const body = encodeHelloBody({
          version: PROTOCOL_VERSION,
          features: 0,
          instance: new Uint8Array(8),
          id: Uint8Array.fromHex(hello.id),
          x25519: generateEphemeralKey().publicRaw,
          name: hello.name,
        });
        const input = helloSigningInput(
          "dialer",
          new Uint8Array(socket.getFinished()!),
          new Uint8Array(socket.getPeerFinished()!),
          body,
        );
        const sig = signProof(signingKeyOf(hello.keyPem), input);
        socket.write(encodeFrame(FrameType.Hello, encodeHello(body, sig)));
      }
      resolve();
    });
  });
  return { socket, ready, received: () => received, closed };
}
