import { assert, assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import { LinkLatency } from "./latency.ts";

Deno.test("LinkLatency advertises the first sample and ignores jitter below the threshold", () => {
  const l = new LinkLatency(20);
  assertEquals(l.advertisedMs, 20);
  let changes = 0;
  for (let i = 0; i < 200; i++) if (l.sample(i % 2 === 0 ? 19 : 21.5)) changes++;
  assertEquals(changes, 0);
  assertEquals(l.advertisedMs, 20);
});

Deno.test("LinkLatency follows the floor of jittery samples: one change, then quiet", () => {
  const l = new LinkLatency(20);
  let changes = 0;
  for (let i = 0; i < 200; i++) if (l.sample(i % 2 === 0 ? 17 : 23)) changes++;
  assertEquals(changes, 1);
  assert(Math.abs(l.advertisedMs - 17) < 1, `advertised ${l.advertisedMs}`);
});

Deno.test("LinkLatency ignores spikes shorter than its window, on a loaded host's scale", () => {
  // Sub-millisecond link, samples delayed by a busy event loop now and then.
  const l = new LinkLatency(0.3);
  let changes = 0;
  for (let i = 0; i < 1000; i++) if (l.sample(i % 3 === 0 ? 0.3 + (i % 7) * 4 : 0.3)) changes++;
  assertEquals(changes, 0);
  const plain = new LinkLatency(0.3, { floorWindow: 1 });
  let plainChanges = 0;
  for (let i = 0; i < 1000; i++) {
    if (plain.sample(i % 3 === 0 ? 0.3 + (i % 7) * 4 : 0.3)) plainChanges++;
  }
  assert(plainChanges > 50, `a plain average changed ${plainChanges} times`);
});

Deno.test("LinkLatency follows a lasting change after a few samples", () => {
  const l = new LinkLatency(20);
  let n = 0;
  while (!l.sample(60)) n++;
  assert(n < 7, `changed after ${n + 1} samples`);
  assert(l.advertisedMs > 22 && l.advertisedMs < 60);
  while (l.sample(60));
  for (let i = 0; i < 50; i++) l.sample(60);
  assert(Math.abs(l.smoothedMs - 60) < 0.1);
});

Deno.test("LinkLatency refuses samples that are negative or not finite", () => {
  assertThrows(() => new LinkLatency(-1), RangeError);
  const l = new LinkLatency(1);
  assertThrows(() => l.sample(NaN), RangeError);
  assertThrows(() => l.sample(Infinity), RangeError);
  assertThrows(() => new LinkLatency(1, { floorWindow: 0 }), RangeError);
  assertThrows(() => new LinkLatency(1, { floorWindow: 65 }), RangeError);
});

Deno.test("LinkLatency.reset() replaces a guess with the first measurement at once", () => {
  const l = new LinkLatency(100);
  assertEquals(l.reset(3), true);
  assertEquals(l.advertisedMs, 3);
  assertEquals(l.smoothedMs, 3);
  assertEquals(l.sample(3.5), false, "no re-announcement for jitter after the reset");
  assertEquals(l.reset(3), false);
});
