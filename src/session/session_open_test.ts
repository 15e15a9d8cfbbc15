/** An open session: pings and RTT events, close frames, handler errors. In memory, manual clock. */
import { assert, assertEquals, assertStringIncludes } from "../../tests/_harness/assert.ts";
import { makeTestPki } from "../../tests/_harness/pki.ts";
import {
  type FixtureOptions,
  sessionFixture,
  until,
} from "../../tests/_harness/session_fixture.ts";
import type { PacketBatch } from "../net/mod.ts";
import { SessionError } from "./errors.ts";
import { concatBytes } from "./bytes.ts";
import { encodeFrame, FrameType } from "./frame.ts";
import { PING_LEN } from "./liveness.ts";
import { CLOSE_GRACE_MS } from "./session.ts";

const pki = await makeTestPki();
const a = await pki.issue("a");
const b = await pki.issue("b");

/** A session of A, open with B; pings every 1000 ms, dead after 3 intervals. */
async function open(opts: FixtureOptions = {}) {
  const f = sessionFixture(a.identity, b.identity, pki.trust, opts);
  f.peerLink.secure();
  await f.sendHello();
  await until(f, () => f.session.state === "open", "open");
  await until(f, () => f.frames.some((x) => x.type === FrameType.Ping), "first ping");
  return f;
}

const pings = (f: Awaited<ReturnType<typeof open>>) =>
  f.frames.filter((x) => x.type === FrameType.Ping);

Deno.test("each answered ping is one RTT event with the measured time", async () => {
  const f = await open();
  f.clock.advance(12);
  f.send(FrameType.Pong, pings(f)[0].payload);
  await until(f, () => f.recorded.rtt.length === 1, "first sample");
  f.clock.advance(988);
  await until(f, () => pings(f).length === 2, "second ping");
  f.clock.advance(30);
  f.send(FrameType.Pong, pings(f)[1].payload);
  await until(f, () => f.recorded.rtt.length === 2, "second sample");
  assertEquals(f.recorded.rtt, [12, 30]);
  assertEquals(f.session.stats().samples, 2);
  assertEquals(f.session.state, "open");
});

Deno.test("a peer answering pings before they arrive gets no RTT sample and is declared dead", async () => {
  const f = await open();
  // The attacker guesses sequence numbers (1, 2, 3, ...) and "answers" ahead of each ping.
  for (let t = 0; t < 4; t++) {
    for (let seq = 1; seq <= 8; seq++) {
      const guess = new Uint8Array(PING_LEN);
      new DataView(guess.buffer).setUint32(0, seq);
      f.send(FrameType.Pong, guess);
    }
    await f.settle();
    f.clock.advance(1000);
    await f.settle();
  }
  assertEquals(f.recorded.rtt, [], "no RTT sample");
  assertEquals(f.session.state, "closed", "dead: the real pings were never answered");
  assertEquals(f.recorded.closed[0].reason, "dead");
  assert(f.session.stats().counters.pongsUnmatched >= 24, "guesses counted");
});

Deno.test("a pong with the right sequence number but another nonce is ignored", async () => {
  const f = await open();
  const forged = pings(f)[0].payload.slice();
  forged[PING_LEN - 1] ^= 0xff;
  f.send(FrameType.Pong, forged);
  await f.settle();
  assertEquals(f.recorded.rtt, []);
  assertEquals(f.session.stats().counters.pongsUnmatched, 1);
});

Deno.test("the session answers a ping by echoing its 12 bytes", async () => {
  const f = await open();
  const ping = crypto.getRandomValues(new Uint8Array(PING_LEN));
  f.send(FrameType.Ping, ping);
  await until(f, () => f.frames.some((x) => x.type === FrameType.Pong), "pong");
  assertEquals(f.frames.find((x) => x.type === FrameType.Pong)!.payload, ping);
});

Deno.test("a silent peer is declared dead 3 intervals after the session opened", async () => {
  const f = await open();
  f.clock.advance(2999);
  assertEquals(f.session.state, "open");
  f.clock.advance(1);
  assertEquals(f.session.state, "closed");
  assertEquals(f.recorded.closed[0].reason, "dead");
  assertStringIncludes(f.recorded.closed[0].message, "missed 3 pings");
  await f.settle();
  const close = f.frames.find((x) => x.type === FrameType.Close);
  assert(close !== undefined, "the peer was told why");
  assertStringIncludes(new TextDecoder().decode(close.payload), "missed 3 pings");
});

Deno.test("close() sends a close frame and destroys a link that does not drain after the grace", async () => {
  const f = await open();
  f.peerLink.pause(); // the peer stops reading: our end never drains
  f.session.close("maintenance");
  assertEquals(f.session.state, "closed");
  assertEquals(f.recorded.closed, [{ reason: "local-close", message: "maintenance" }]);
  await f.settle();
  assertEquals(f.link.closed, false, "still draining within the grace");
  f.clock.advance(CLOSE_GRACE_MS - 1);
  assertEquals(f.link.closed, false);
  f.clock.advance(1);
  await f.settle();
  assertEquals(f.link.closed, true, "destroyed after the grace");
  f.session.close("again");
  assertEquals(f.recorded.closed.length, 1, "close is idempotent");
});

Deno.test("a link that closes within the grace cancels the grace timer", async () => {
  const f = await open({ ctx: { liveness: { intervalMs: 60_000 } } });
  f.session.close("bye");
  await until(f, () => f.peerClosed(), "the peer saw the end");
  const close = f.frames.find((x) => x.type === FrameType.Close)!;
  assertEquals(new TextDecoder().decode(close.payload), "bye");
  assertEquals(f.clock.pending, 0, "no timer left");
});

Deno.test("a peer's close frame ends the session without an answer", async () => {
  const f = await open();
  const before = f.frames.length;
  f.send(FrameType.Close, new TextEncoder().encode("shutting down"));
  await until(f, () => f.session.state === "closed", "closed");
  assertEquals(f.recorded.closed[0].reason, "peer-closed");
  assertStringIncludes(f.recorded.closed[0].message, "shutting down");
  await f.settle();
  assertEquals(f.frames.length, before, "no close frame back");
});

Deno.test("an expired peer certificate closes the session at the next ping", async () => {
  let wall = Date.now();
  const f = await open({ ctx: { wallClock: () => wall } });
  wall += 365 * 86_400_000;
  f.clock.advance(1000);
  assertEquals(f.session.state, "closed");
  assertEquals(f.recorded.closed[0].reason, "certificate");
});

Deno.test("a bug in our control handler is logged as ours and keeps the session", async () => {
  let calls = 0;
  const f = await open({
    ctx: {
      onControl: () => {
        calls++;
        throw new TypeError("cannot read properties of undefined");
      },
    },
  });
  f.send(FrameType.RouteAnnounce, new Uint8Array([1, 2, 3]));
  f.send(FrameType.RouteWithdraw, new Uint8Array([4]));
  await until(f, () => calls === 2, "both frames handled");
  assertEquals(f.session.state, "open", "the peer is not blamed");
  assertEquals(f.session.stats().counters.internalErrors, 2);
  assertEquals(f.recorded.closed, []);
});

Deno.test("a bug in our packet or open handler keeps the session", async () => {
  const f = await open({
    ctx: {
      onOpen: () => {
        throw new Error("bug on open");
      },
      onPackets: () => {
        throw new RangeError("bug on packets");
      },
    },
  });
  f.send(FrameType.IpPacket, new Uint8Array(40));
  await until(f, () => f.session.stats().counters.internalErrors === 2, "both errors counted");
  assertEquals(f.session.state, "open");
});

Deno.test("a control handler that reports a malformed payload closes the session as the peer's fault", async () => {
  const f = await open({
    ctx: {
      onControl: () => {
        throw new SessionError("malformed-frame", "announce: truncated");
      },
    },
  });
  f.send(FrameType.RouteAnnounce, new Uint8Array([1]));
  await until(f, () => f.session.state === "closed", "closed");
  assertEquals(f.recorded.closed[0], {
    reason: "malformed-frame",
    message: "announce: truncated",
  });
});

Deno.test("IP frames of one chunk arrive in one call, in order, split where a control frame lies", async () => {
  const f = await open();
  const chunk = concatBytes([
    encodeFrame(FrameType.IpPacket, new Uint8Array([1])),
    encodeFrame(FrameType.IpPacketVnet, new Uint8Array([2])),
    encodeFrame(FrameType.RouteAnnounce, new Uint8Array([9])),
    encodeFrame(FrameType.IpPacket, new Uint8Array([3])),
  ]);
  f.peerLink.write(chunk);
  await until(f, () => f.recorded.packets.length === 2, "two batches");
  const batches = f.recorded.packets.map((p) => p.map((x) => x[0]).join(","));
  assertEquals(batches, ["1,2", "3"]);
  assertEquals(f.recorded.control.length, 1);
});

Deno.test("the packet batch is borrowed: one object reused, its delivered slots emptied so the chunk is not pinned", async () => {
  const seen: { batch: PacketBatch; first: number; count: number }[] = [];
  const f = await open({
    ctx: {
      onPackets: (_s, batch) => seen.push({ batch, first: batch.bufs[0][0], count: batch.count }),
    },
  });
  f.peerLink.write(concatBytes([
    encodeFrame(FrameType.IpPacket, new Uint8Array([1])),
    encodeFrame(FrameType.IpPacketVnet, new Uint8Array([2])),
  ]));
  await until(f, () => seen.length === 1, "first chunk");
  f.send(FrameType.IpPacket, new Uint8Array([3]));
  await until(f, () => seen.length === 2, "second chunk");
  assertEquals(seen.map((s) => [s.first, s.count]), [[1, 2], [3, 1]]);
  assert(seen[0].batch === seen[1].batch, "one batch object");
  const batch = seen[1].batch;
  assertEquals(batch.count, 0, "emptied after the call");
  assert(batch.bufs.every((b) => b.length === 0), "no view into a received chunk is kept");
});

Deno.test("queued packets leave at the session's flush, not on their own", async () => {
  const f = await open();
  const ipFrames = () => f.frames.filter((x) => x.type === FrameType.IpPacket).length;
  assert(f.session.sendPacket(new Uint8Array([0x60, 0, 0, 0])));
  assert(f.session.sendPacket(new Uint8Array([0x60, 0, 0, 1])));
  await f.settle();
  assertEquals(ipFrames(), 0, "nothing written before the flush");
  f.session.flush();
  await until(f, () => ipFrames() === 2, "both packets after the flush");
});
