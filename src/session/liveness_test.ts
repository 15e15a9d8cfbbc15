import { assert, assertEquals } from "../../tests/_harness/assert.ts";
import { ManualClock } from "./clock.ts";
import { Liveness } from "./liveness.ts";

Deno.test("Liveness declares a silent peer dead after 3 missed pings, 3 intervals in", () => {
  const clock = new ManualClock();
  const sent: number[] = [];
  let deadAt = -1;
  const l = new Liveness(clock, (s) => sent.push(s), () => (deadAt = clock.now()));
  l.start();
  assertEquals(sent, [1]);
  clock.advance(2999);
  assertEquals(deadAt, -1);
  clock.advance(1);
  assertEquals(deadAt, 3000);
  assertEquals(sent, [1, 2, 3]);
  assertEquals(clock.pending, 0, "no timer left after death");
  assertEquals(l.tracker.snapshot().loss, 1);
});

Deno.test("Liveness declares a peer dead 3 intervals after its last answer, whatever the phase", () => {
  for (const answerAt of [10, 500, 990]) {
    const clock = new ManualClock();
    let last = 0;
    let deadAt = -1;
    const l = new Liveness(clock, (s) => (last = s), () => (deadAt = clock.now()));
    l.start();
    clock.advance(1000); // ping 2 goes out at 1000
    clock.advance(answerAt);
    l.onPong(last); // the last answer; then the peer freezes
    clock.advance(10_000);
    assertEquals(deadAt, 1000 + answerAt + 3000);
    assertEquals(clock.pending, 0);
  }
});

Deno.test("Liveness measures RTT from pongs and stays alive while they come", () => {
  const clock = new ManualClock();
  let dead = false;
  let last = 0;
  const l = new Liveness(clock, (s) => (last = s), () => (dead = true), { intervalMs: 100 });
  l.start();
  for (let i = 0; i < 50; i++) {
    clock.advance(7);
    l.onPong(last);
    clock.advance(93);
  }
  assert(!dead);
  const q = l.tracker.snapshot();
  assertEquals(q.rttMs, 7);
  assertEquals(q.jitterMs, 0);
  assertEquals(q.loss, 0);
  l.stop();
  assertEquals(clock.pending, 0);
});

Deno.test("Liveness: a late answer resets the miss count; unknown pongs are ignored", () => {
  const clock = new ManualClock();
  let dead = false;
  const seqs: number[] = [];
  const l = new Liveness(clock, (s) => seqs.push(s), () => (dead = true));
  l.start();
  clock.advance(2500); // pings 1, 2, 3 sent; 1 and 2 missed
  assertEquals(l.missed, 2);
  l.onPong(999);
  assertEquals(l.missed, 2);
  l.onPong(2); // late answer to ping 2: the peer is alive
  assertEquals(l.missed, 0);
  clock.advance(500);
  assert(!dead);
  assertEquals(l.tracker.snapshot().rttMs, 1500);
});
