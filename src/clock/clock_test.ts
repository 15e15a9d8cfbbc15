import { assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import { every, ManualClock } from "./clock.ts";
import { RateLimit } from "./rate_limit.ts";

Deno.test("every() repeats on the clock until stopped", () => {
  const clock = new ManualClock();
  const at: number[] = [];
  const stop = every(clock, 100, () => at.push(clock.now()));
  clock.advance(350);
  assertEquals(at, [100, 200, 300]);
  stop();
  clock.advance(1000);
  assertEquals(at, [100, 200, 300]);
  assertEquals(clock.pending, 0);
});

Deno.test("RateLimit allows a burst, then the rate, and counts what it suppressed", () => {
  const clock = new ManualClock();
  const limit = new RateLimit(clock, 2, 3);
  assertEquals([limit.take(), limit.take(), limit.take()], [true, true, true]);
  assertEquals(limit.suppressed, 0);
  assertEquals([limit.take(), limit.take()], [false, false]);
  clock.advance(499);
  assertEquals(limit.take(), false);
  clock.advance(1);
  assertEquals(limit.take(), true);
  assertEquals(limit.suppressed, 3);
  clock.advance(10_000);
  assertEquals([limit.take(), limit.take(), limit.take(), limit.take()], [true, true, true, false]);
  assertEquals(limit.suppressed, 0);
});

Deno.test("RateLimit refuses a rate or burst that would never allow anything", () => {
  const clock = new ManualClock();
  assertThrows(() => new RateLimit(clock, 0, 1), RangeError, "perSecond > 0");
  assertThrows(() => new RateLimit(clock, 1, 0.5), RangeError, "burst >= 1");
});
