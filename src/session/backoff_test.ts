import { assertEquals } from "../../tests/_harness/assert.ts";
import { Backoff } from "./backoff.ts";

Deno.test("Backoff doubles from 100 ms to a 60 s cap with jitter in [0.5, 1]", () => {
  const top = new Backoff({}, () => 0.999999);
  const got = Array.from({ length: 12 }, () => Math.round(top.next()));
  assertEquals(got, [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000]);
  const bottom = new Backoff({}, () => 0);
  assertEquals([bottom.next(), bottom.next()], [50, 100]);
});

Deno.test("Backoff resets only after a session that stayed up long enough", () => {
  const b = new Backoff({ initialMs: 10, maxMs: 100, stableMs: 1000 }, () => 0.999999);
  b.next();
  b.next();
  b.sessionEnded(999);
  assertEquals(Math.round(b.next()), 40);
  b.sessionEnded(1000);
  assertEquals(Math.round(b.next()), 10);
});
