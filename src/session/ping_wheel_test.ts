import { assert, assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import { type Clock, ManualClock } from "../clock/mod.ts";
import { Liveness } from "./liveness.ts";
import { PingWheel } from "./ping_wheel.ts";

/** A ManualClock that counts the timers set on it. */
function countingClock() {
  const manual = new ManualClock();
  const c = {
    manual,
    timersSet: 0,
    now: () => manual.now(),
    setTimer: (fn: () => void, ms: number) => {
      c.timersSet++;
      return manual.setTimer(fn, ms);
    },
    clearTimer: (h: Parameters<ManualClock["clearTimer"]>[0]) => manual.clearTimer(h),
  };
  return c;
}

/** Sessions that answer every ping after `rttMs`, on one wheel. */
function sessions(clock: Clock & { manual: ManualClock }, wheel: PingWheel, n: number) {
  const dead: number[] = [];
  const pings: Uint8Array[][] = [];
  const ls = Array.from({ length: n }, (_, i) => {
    pings.push([]);
    return new Liveness(clock, {
      sendPing: (p) => pings[i].push(p.slice()),
      onDead: () => dead.push(i),
    }, { wheel });
  });
  return { ls, dead, pings };
}

Deno.test("PingWheel: healthy sessions cost one timer per interval, none per ping or pong", () => {
  const clock = countingClock();
  const wheel = new PingWheel(clock, 1000);
  const { ls, dead, pings } = sessions(clock, wheel, 8);
  for (const l of ls) l.start();
  const before = clock.timersSet;
  for (let s = 0; s < 60; s++) {
    clock.manual.advance(5);
    ls.forEach((l, i) => assert(l.onPong(pings[i].at(-1)!)));
    clock.manual.advance(995);
  }
  assertEquals(dead, []);
  assert(pings.every((p) => p.length === 61), "one ping per second each");
  assertEquals(clock.timersSet - before, 60, "one wakeup per second for all 8 sessions");
  assertEquals(clock.manual.pending, 1);
  for (const l of ls) l.stop();
  assertEquals(clock.manual.pending, 0, "the timer stops with the last session");
});

Deno.test("PingWheel: a silent peer is declared dead on time among healthy ones", () => {
  const clock = countingClock();
  const wheel = new PingWheel(clock, 1000);
  const { ls, dead, pings } = sessions(clock, wheel, 3);
  for (const l of ls) l.start();
  clock.manual.advance(1000);
  clock.manual.advance(370);
  ls.forEach((l, i) => l.onPong(pings[i].at(-1)!)); // last answer of session 1 at 1370
  let deadAt = -1;
  for (let t = 1370; t < 6000; t += 10) {
    clock.manual.advance(10);
    if (dead.length > 0 && deadAt < 0) deadAt = clock.now();
    if (clock.now() % 1000 === 10) ls.forEach((l, i) => i !== 1 && l.onPong(pings[i].at(-1)!));
  }
  assertEquals(dead, [1]);
  assertEquals(deadAt, 1370 + 3000, "3 intervals after its last answer, not at a ping tick");
  assertEquals(wheel.size, 2);
});

Deno.test("PingWheel: a session that throws does not stop the others' pings", () => {
  const clock = countingClock();
  const wheel = new PingWheel(clock, 1000);
  let sent = 0;
  const bad = new Liveness(clock, {
    sendPing: () => {
      if (sent++ > 0) throw new Error("bug");
    },
    onDead: () => {},
  }, { wheel });
  const { ls, pings } = sessions(clock, wheel, 1);
  bad.start();
  ls[0].start();
  for (let s = 0; s < 5; s++) {
    clock.manual.advance(1000);
    ls[0].onPong(pings[0].at(-1)!);
  }
  assertEquals(pings[0].length, 6);
});

Deno.test("PingWheel refuses a session whose interval differs from its own", () => {
  const clock = new ManualClock();
  const wheel = new PingWheel(clock, 1000);
  assertThrows(
    () => new Liveness(clock, { sendPing: () => {}, onDead: () => {} }, { wheel, intervalMs: 500 }),
    RangeError,
  );
  assertThrows(() => new PingWheel(clock, 0), RangeError);
});
