import { assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import { Backoff } from "./backoff.ts";

Deno.test("Backoff doubles from 100 ms to a 60 s cap with jitter in [0.5, 1]", () => {
  const top = new Backoff({ quickRetries: 0 }, () => 0.999999);
  const got = Array.from({ length: 12 }, () => Math.round(top.next()));
  assertEquals(got, [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000]);
  const bottom = new Backoff({}, () => 0);
  assertEquals([bottom.next(), bottom.next()], [50, 100]);
});

Deno.test("Backoff resets only after a session that stayed up long enough", () => {
  const b = new Backoff(
    { initialMs: 10, maxMs: 100, stableMs: 1000, quickMaxMs: 50 },
    () => 0.999999,
  );
  b.next();
  b.next();
  b.sessionEnded(999);
  assertEquals(Math.round(b.next()), 40);
  b.sessionEnded(1000);
  assertEquals(Math.round(b.next()), 10);
});

Deno.test("Backoff retries a lost session at most quickMaxMs apart, then doubles on", () => {
  const b = new Backoff({ quickRetries: 8 }, () => 0.999999);
  for (let i = 0; i < 8; i++) b.next(); // the quick retries after the start are used up
  b.sessionEnded(60_000); // a hub that was up for a minute restarts
  const got = Array.from({ length: 11 }, () => Math.round(b.next()));
  assertEquals(got, [100, 200, 400, 800, 1000, 1000, 1000, 1000, 1600, 3200, 6400]);
});

Deno.test("Backoff caps the retries after a short session without resetting its doubling", () => {
  const b = new Backoff({ quickRetries: 2 }, () => 0.999999);
  for (let i = 0; i < 7; i++) b.next(); // 100 … 6400: the peer was hard to reach
  b.sessionEnded(5_000);
  const got = Array.from({ length: 3 }, () => Math.round(b.next()));
  assertEquals(got, [1000, 1000, 12800]);
});

Deno.test("Backoff after the start: quick retries, then doubling to maxMs (peer refuses us)", () => {
  const b = new Backoff({ maxMs: 5000, quickRetries: 6 }, () => 0.999999);
  const got = Array.from({ length: 10 }, () => Math.round(b.next()));
  assertEquals(got, [100, 200, 400, 800, 1000, 1000, 1600, 3200, 5000, 5000]);
});

Deno.test("Backoff refuses quickMaxMs below initialMs", () => {
  assertThrows(() => new Backoff({ initialMs: 500, quickMaxMs: 100 }), RangeError, "quickMaxMs");
});
