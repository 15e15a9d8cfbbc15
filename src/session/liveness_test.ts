import { assert, assertEquals } from "../../tests/_harness/assert.ts";
import { ManualClock } from "../clock/mod.ts";
import { Liveness, PING_LEN, pingSeq } from "./liveness.ts";

/** A Liveness whose pings are recorded (copies) and whose death time is kept. */
function probe(clock: ManualClock, opts = {}) {
  const pings: Uint8Array[] = [];
  const samples: number[] = [];
  const r = { pings, samples, deadAt: -1, l: undefined as unknown as Liveness };
  r.l = new Liveness(clock, {
    sendPing: (p) => pings.push(p.slice()),
    onDead: () => (r.deadAt = clock.now()),
    onSample: (ms) => samples.push(ms),
  }, opts);
  return r;
}

Deno.test("Liveness declares a silent peer dead after 3 missed pings, 3 intervals in", () => {
  const clock = new ManualClock();
  const p = probe(clock);
  p.l.start();
  assertEquals(p.pings.map(pingSeq), [1]);
  clock.advance(2999);
  assertEquals(p.deadAt, -1);
  clock.advance(1);
  assertEquals(p.deadAt, 3000);
  assertEquals(p.pings.map(pingSeq), [1, 2, 3]);
  assertEquals(clock.pending, 0, "no timer left after death");
  assertEquals(p.l.tracker.snapshot().loss, 1);
});

Deno.test("Liveness declares a peer dead 3 intervals after its last answer, whatever the phase", () => {
  for (const answerAt of [10, 500, 990]) {
    const clock = new ManualClock();
    const p = probe(clock);
    p.l.start();
    clock.advance(1000); // ping 2 goes out at 1000
    clock.advance(answerAt);
    assert(p.l.onPong(p.pings.at(-1)!)); // the last answer; then the peer freezes
    clock.advance(10_000);
    assertEquals(p.deadAt, 1000 + answerAt + 3000);
    assertEquals(clock.pending, 0);
  }
});

Deno.test("Liveness measures RTT from pongs, reports each sample and stays alive", () => {
  const clock = new ManualClock();
  const p = probe(clock, { intervalMs: 100 });
  p.l.start();
  for (let i = 0; i < 50; i++) {
    clock.advance(7);
    p.l.onPong(p.pings.at(-1)!);
    clock.advance(93);
  }
  assertEquals(p.deadAt, -1);
  const q = p.l.tracker.snapshot();
  assertEquals(q.rttMs, 7);
  assertEquals(q.jitterMs, 0);
  assertEquals(q.loss, 0);
  assertEquals(p.samples.length, 50);
  assert(p.samples.every((s) => s === 7));
  p.l.stop();
  assertEquals(clock.pending, 0);
});

Deno.test("Liveness: a late answer resets the miss count; unknown pongs are ignored", () => {
  const clock = new ManualClock();
  const p = probe(clock);
  p.l.start();
  clock.advance(2500); // pings 1, 2, 3 sent; 1 and 2 missed
  assertEquals(p.l.missed, 2);
  const unknown = new Uint8Array(PING_LEN);
  new DataView(unknown.buffer).setUint32(0, 999);
  assertEquals(p.l.onPong(unknown), false);
  assertEquals(p.l.missed, 2);
  assert(p.l.onPong(p.pings[1])); // late answer to ping 2: the peer is alive
  assertEquals(p.l.missed, 0);
  clock.advance(500);
  assertEquals(p.deadAt, -1);
  assertEquals(p.l.tracker.snapshot().rttMs, 1500);
  assertEquals(p.l.unmatchedPongs, 1);
});

Deno.test("Liveness pings carry a fresh random nonce each", () => {
  const clock = new ManualClock();
  const p = probe(clock);
  p.l.start();
  clock.advance(2000);
  assertEquals(p.pings.length, 3);
  assert(p.pings.every((x) => x.length === PING_LEN));
  const nonces = new Set(p.pings.map((x) => x.subarray(4).toHex()));
  assertEquals(nonces.size, 3);
});

Deno.test("Liveness ignores pongs sent ahead of the pings (guessed sequence, no nonce)", () => {
  const clock = new ManualClock();
  const p = probe(clock);
  // The peer "answers" sequence numbers 1..20 before any ping is sent, and again each time.
  const guesses = (from: number) =>
    Array.from({ length: 20 }, (_, i) => {
      const g = new Uint8Array(PING_LEN);
      new DataView(g.buffer).setUint32(0, from + i);
      return g;
    });
  p.l.start();
  for (let t = 0; t < 10 && p.deadAt < 0; t++) {
    for (const g of guesses(1)) p.l.onPong(g);
    clock.advance(100);
  }
  clock.advance(3000);
  assertEquals(p.samples, [], "no RTT sample from a guessed pong");
  assertEquals(p.deadAt, 3000, "still dead when the real pings go unanswered");
  assert(p.l.unmatchedPongs >= 200);
});

Deno.test("Liveness refuses a pong with the right sequence but a wrong nonce", () => {
  const clock = new ManualClock();
  const p = probe(clock);
  p.l.start();
  const forged = p.pings[0].slice();
  forged[11] ^= 1;
  assertEquals(p.l.onPong(forged), false);
  assertEquals(p.samples, []);
  assert(p.l.onPong(p.pings[0]), "the true echo still counts");
});

/** A clock whose timers fire when due but whose now() can run ahead: a stalled process. */
function stallableClock() {
  const manual = new ManualClock();
  const c = {
    manual,
    stallMs: 0,
    now: () => manual.now() + c.stallMs,
    setTimer: (fn: () => void, ms: number) => manual.setTimer(fn, ms),
    clearTimer: (h: Parameters<ManualClock["clearTimer"]>[0]) => manual.clearTimer(h),
  };
  return c;
}

Deno.test("Liveness gives one more interval when its own deadline fired late (process stalled)", () => {
  const clock = stallableClock();
  const pings: Uint8Array[] = [];
  let dead = false;
  const l = new Liveness(clock, {
    sendPing: (p) => pings.push(p.slice()),
    onDead: () => (dead = true),
  });
  l.start();
  clock.manual.advance(500);
  assert(l.onPong(pings.at(-1)!));
  // The process stalls for 2 s around the deadline: the timer fires 2 s late, with the peer's
  // answers still unread in the socket. The peer is not declared dead for our delay.
  clock.manual.advance(2999);
  clock.stallMs = 2000;
  clock.manual.advance(1);
  assertEquals(dead, false);
  assertEquals(l.stallGraces, 1);
  assert(l.onPong(pings.at(-1)!), "the waiting answer is read and keeps the session");
  clock.stallMs = 0;
  clock.manual.advance(2999);
  assertEquals(dead, false);
  l.stop();
});

Deno.test("Liveness declares a silent peer dead one interval after a late deadline", () => {
  const clock = stallableClock();
  let deadAt = -1;
  const l = new Liveness(clock, {
    sendPing: () => {},
    onDead: () => (deadAt = clock.manual.now()),
  });
  l.start();
  clock.manual.advance(2999);
  clock.stallMs = 5000; // stalled for 5 s, and the peer really is gone
  clock.manual.advance(1);
  assertEquals(deadAt, -1);
  clock.manual.advance(999);
  assertEquals(deadAt, -1);
  clock.manual.advance(1);
  assertEquals(deadAt, 4000, "only one grace per stall");
  assertEquals(l.stallGraces, 1);
});

Deno.test("Liveness keeps a peer alive while its control frames arrive, and not after", () => {
  const clock = new ManualClock();
  const p = probe(clock);
  p.l.start();
  for (let t = 0; t < 10_000; t += 500) {
    clock.advance(500);
    p.l.heard(); // its pongs are stuck behind a long burst of route frames
  }
  assertEquals(p.deadAt, -1, "alive while it sends");
  assertEquals(p.samples, [], "no RTT sample from other frames");
  clock.advance(2999);
  assertEquals(p.deadAt, -1);
  clock.advance(1);
  assertEquals(p.deadAt, 13_000, "dead 3 intervals after the last frame");
});

Deno.test("Liveness keeps a peer alive while it reads our backlog, and not after", () => {
  const clock = new ManualClock();
  let sent = 0, queued = 8_000_000;
  let deadAt = -1;
  const l = new Liveness(clock, {
    sendPing: () => {},
    onDead: () => (deadAt = clock.now()),
    sendProgress: () => ({ sent, queued }),
  });
  l.start();
  for (let t = 0; t < 10_000; t += 1000) {
    clock.advance(1000);
    sent += 65536; // it takes our route frames; our pings wait behind them
    queued -= 65536;
  }
  assertEquals(deadAt, -1, "alive while it reads");
  clock.advance(10_000); // it stops reading
  assert(deadAt > 0 && deadAt <= 10_000 + 3000 * 2, `dead at ${deadAt}`);
});

Deno.test("Liveness: our own pings going out, with nothing queued, do not keep a peer alive", () => {
  const clock = new ManualClock();
  let sent = 0, deadAt = -1;
  const l = new Liveness(clock, {
    sendPing: () => (sent += 17),
    onDead: () => (deadAt = clock.now()),
    sendProgress: () => ({ sent, queued: 1000 }), // a ping or two: not a backlog
  });
  l.start();
  clock.advance(3000);
  assertEquals(deadAt, 3000);
});

/**
 * Two ends of one link on one clock: `a` pings on the grid, `b` follows. Frames take `delayMs`
 * each way; a pong is answered at once. `frozen.a` stops a's side (no pings, no answers).
 */
function link(delayMs: number) {
  const clock = new ManualClock();
  const writes = { a: 0, b: 0 };
  const pings = { a: 0, b: 0 };
  const dead = { a: -1, b: -1 };
  const frozen = { a: false };
  const samples = { a: [] as number[], b: [] as number[] };
  const ends: { a?: Liveness; b?: Liveness } = {};
  // What one end queues in one call goes out as one write.
  let batch: { from: "a" | "b"; frames: ["ping" | "pong", Uint8Array][] } | undefined;
  const send = (from: "a" | "b", kind: "ping" | "pong", p: Uint8Array) => {
    if (from === "a" && frozen.a) return;
    if (kind === "ping") pings[from]++;
    if (batch?.from === from) {
      batch.frames.push([kind, p.slice()]);
      return;
    }
    batch = { from, frames: [[kind, p.slice()]] };
    writes[from]++;
    const frames = batch.frames;
    queueBatchEnd();
    clock.setTimer(() => deliver(from === "a" ? "b" : "a", frames), delayMs);
  };
  const queueBatchEnd = () => clock.setTimer(() => (batch = undefined), 0);
  const deliver = (to: "a" | "b", frames: ["ping" | "pong", Uint8Array][]) => {
    if (to === "a" && frozen.a) return;
    for (const [kind, p] of frames) {
      if (kind === "pong") ends[to]!.onPong(p);
      else {
        send(to, "pong", p);
        ends[to]!.peerPinged();
      }
    }
  };
  for (const side of ["a", "b"] as const) {
    ends[side] = new Liveness(clock, {
      sendPing: (p) => send(side, "ping", p),
      onDead: () => (dead[side] = clock.now()),
      onSample: (ms) => samples[side].push(ms),
    }, { follow: side === "b" });
  }
  return { clock, a: ends.a!, b: ends.b!, writes, pings, dead, frozen, samples };
}

Deno.test("Liveness following: the follower's ping rides on its pong, one write per second each", () => {
  const l = link(3);
  l.a.start();
  l.clock.advance(400);
  l.b.start();
  l.clock.advance(1600); // settled by now
  const w0 = { ...l.writes }, p0 = { ...l.pings };
  l.clock.advance(60_000);
  assertEquals(l.pings.a - p0.a, 60);
  assertEquals(l.pings.b - p0.b, 60, "the follower still pings once per interval");
  // a: its ping and its pong to b's ping; b: one write carrying its pong and its ping.
  assertEquals(l.writes.a - w0.a, 120);
  assertEquals(l.writes.b - w0.b, 60);
  assertEquals(l.dead, { a: -1, b: -1 });
  assert(l.samples.b.slice(-10).every((ms) => ms === 6), "the follower's RTT is the link's");
  assert(l.samples.a.slice(-10).every((ms) => ms === 6));
  assertEquals(l.b.missed, 0);
  assertEquals(l.b.tracker.snapshot().loss, 0);
});

Deno.test("Liveness following: a frozen leader is declared dead as before", () => {
  const l = link(3);
  l.a.start();
  l.b.start();
  l.clock.advance(10_000);
  l.frozen.a = true;
  const frozenAt = l.clock.now();
  l.clock.advance(10_000);
  assert(l.dead.b > 0, "the follower declares the frozen leader dead");
  assert(
    l.dead.b - frozenAt <= 3000 + 10,
    `within 3 intervals of the last answer (${l.dead.b - frozenAt} ms after the freeze)`,
  );
});
