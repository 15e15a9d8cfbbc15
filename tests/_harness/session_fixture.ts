/**
 * Session unit tests without sockets: a {@link Session} under test on one end of an
 * in-memory link, a hand-driven peer on the other (it speaks frames and can send a valid
 * signed hello), and a manual clock.
 * @module
 */
import { copyPackets } from "../../src/net/packet_batch.ts";
import type { NodeIdentity, TrustStore } from "../../src/pki/mod.ts";
import { ManualClock } from "../../src/clock/mod.ts";
import type { SessionContext } from "../../src/session/context.ts";
import { encodeFrame, FrameDecoder, FrameType } from "../../src/session/frame.ts";
import { signingKeyOf } from "../../src/session/handshake.ts";
import { Feature } from "../../src/session/hello.ts";
import { type MemoryLink, memoryLinkPair } from "../../src/session/memory_link.ts";
import { HelloExchange } from "../../src/session/peer_check.ts";
import { Session } from "../../src/session/session.ts";

/** A received frame (payload copied). */
export interface Frame {
  type: number;
  payload: Uint8Array;
}

/** What the session under test reported. */
export interface Recorded {
  opened: number;
  closed: { reason: string; message: string }[];
  control: Frame[];
  packets: Uint8Array[][];
  rtt: number[];
}

/** Settings of {@link sessionFixture}. */
export interface FixtureOptions {
  /** Context fields to override (handlers replace the recording ones). */
  ctx?: Partial<SessionContext>;
  /** Role of the session under test (default "listener"). */
  role?: "dialer" | "listener";
  /** For a dialer: the name it dialled (default the peer's name). */
  expectedName?: string;
}

/** A session under test and a hand-driven peer. */
export interface Fixture {
  clock: ManualClock;
  session: Session;
  /** The session's end of the link. */
  link: MemoryLink;
  /** The peer's end of the link. */
  peerLink: MemoryLink;
  /** Frames the peer received from the session. */
  frames: Frame[];
  /** True once the peer's end saw the link close. */
  peerClosed(): boolean;
  recorded: Recorded;
  /** The peer writes one frame. */
  send(type: number, payload: Uint8Array): void;
  /** The peer runs its checks on the session's certificate and builds its valid hello frame. */
  prepareHello(): Promise<Uint8Array>;
  /** {@link prepareHello}, then the peer sends it. */
  sendHello(): Promise<void>;
  /** Runs pending microtasks and promise jobs (the in-memory link and the PKI checks). */
  settle(): Promise<void>;
}

/**
 * Builds a session of `self` (listener by default) facing `peer` over an in-memory link.
 * Nothing happens until the test calls `peerLink.secure()`.
 */
export function sessionFixture(
  self: NodeIdentity,
  peer: NodeIdentity,
  trust: TrustStore,
  opts: FixtureOptions = {},
): Fixture {
  const clock = new ManualClock();
  const role = opts.role ?? "listener";
  const [d, l] = memoryLinkPair(
    role === "listener"
      ? { dialerCertificate: peer.certDer, listenerCertificate: self.certDer }
      : { dialerCertificate: self.certDer, listenerCertificate: peer.certDer },
  );
  const [link, peerLink] = role === "listener" ? [l, d] : [d, l];
  const recorded: Recorded = { opened: 0, closed: [], control: [], packets: [], rtt: [] };
  const ctx: SessionContext = {
    identity: self,
    signingKey: signingKeyOf(self.keyPem),
    trust,
    clock,
    instance: crypto.getRandomValues(new Uint8Array(8)),
    features: Feature.VnetHdr,
    handshakeTimeoutMs: 5000,
    liveness: { intervalMs: 1000, deadAfter: 3 },
    queue: {},
    onOpen: () => recorded.opened++,
    onClosed: (_s, reason, message) => recorded.closed.push({ reason, message }),
    onControl: (_s, type, payload) => recorded.control.push({ type, payload: payload.slice() }),
    onPackets: (_s, batch) => recorded.packets.push(copyPackets(batch)),
    onRtt: (_s, ms) => recorded.rtt.push(ms),
    ...opts.ctx,
  };
  const session = new Session(
    link,
    ctx,
    role,
    { host: "mem", port: 0 },
    role === "dialer" ? (opts.expectedName ?? peer.name) : undefined,
  );
  const frames: Frame[] = [];
  const decoder = new FrameDecoder();
  let closed = false;
  peerLink.attach({
    onSecure() {},
    onData: (chunk) =>
      decoder.push(chunk, {
        onFrame: (type, payload) => (frames.push({ type, payload: payload.slice() }), true),
        onChunkEnd() {},
      }),
    onClose: () => (closed = true),
    onError() {},
  });
  const hellos = new HelloExchange(
    {
      identity: peer,
      signingKey: signingKeyOf(peer.keyPem),
      trust,
      features: Feature.VnetHdr,
      instance: new Uint8Array(8),
    },
    role === "listener" ? "dialer" : "listener",
    undefined,
  );
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 0));
  };
  return {
    clock,
    session,
    link,
    peerLink,
    frames,
    peerClosed: () => closed,
    recorded,
    send: (type, payload) => peerLink.write(encodeFrame(type, payload)),
    async prepareHello() {
      await hellos.check(peerLink.tls());
      return encodeFrame(FrameType.Hello, hellos.ourHello);
    },
    async sendHello() {
      await hellos.check(peerLink.tls());
      peerLink.write(encodeFrame(FrameType.Hello, hellos.ourHello));
    },
    settle,
  };
}

/** Settles until `cond` holds (at most `rounds` rounds); throws naming `what`. */
export async function until(f: Fixture, cond: () => boolean, what: string, rounds = 50) {
  for (let i = 0; i < rounds && !cond(); i++) await f.settle();
  if (!cond()) throw new Error(`never happened: ${what}`);
}
