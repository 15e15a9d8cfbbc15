import { assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import { LatencyTracker } from "./latency.ts";

Deno.test("LatencyTracker keeps the last 10 samples and reports mean, min and jitter", () => {
  const t = new LatencyTracker();
  assertEquals(t.snapshot(), { rttMs: null, minRttMs: null, jitterMs: null, loss: 0, samples: 0 });
  for (let i = 0; i < 5; i++) t.addSample(1000); // pushed out of the window below
  for (const s of [10, 20, 10, 20, 10, 20, 10, 20, 10, 20]) t.addSample(s);
  const q = t.snapshot();
  assertEquals(q.samples, 10);
  assertEquals(q.rttMs, 15);
  assertEquals(q.minRttMs, 10);
  assertEquals(q.jitterMs, 10);
});

Deno.test("LatencyTracker loss is the unanswered fraction of the last 10 pings", () => {
  const t = new LatencyTracker();
  for (let i = 0; i < 10; i++) t.recordOutcome(false);
  for (let i = 0; i < 7; i++) t.recordOutcome(true);
  assertEquals(t.snapshot().loss, 0.3);
  t.addSample(-1);
  t.addSample(NaN);
  assertEquals(t.snapshot().samples, 0);
  assertThrows(() => new LatencyTracker(0), RangeError);
});
