import { assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import { ManualClock } from "../clock/mod.ts";
import { startPeriodic, TICK_PHASE_MS } from "./periodic.ts";

Deno.test("startPeriodic runs every task at its period on one timer, half a second off the grid", () => {
  const clock = new ManualClock();
  const runs: Record<string, number[]> = { a: [], b: [], c: [] };
  const stop = startPeriodic(clock, [
    { what: "a", everyMs: 1000, run: () => runs.a.push(clock.now()) },
    { what: "b", everyMs: 10_000, run: () => runs.b.push(clock.now()) },
    { what: "c", everyMs: 30_000, run: () => runs.c.push(clock.now()) },
  ]);
  assertEquals(clock.pending, 1);
  clock.advance(60_000);
  assertEquals(runs.a.length, 60);
  assert500(runs.a);
  assertEquals(runs.b.length, 6);
  assertEquals(runs.c.length, 2);
  assertEquals(clock.pending, 1, "still one timer");
  stop();
  assertEquals(clock.pending, 0);
});

Deno.test("startPeriodic: a task that throws is logged and the others keep running", () => {
  const clock = new ManualClock();
  let ok = 0, bad = 0;
  const stop = startPeriodic(clock, [
    {
      what: "bad",
      everyMs: 1000,
      run: () => {
        bad++;
        throw new Error("bug");
      },
    },
    { what: "ok", everyMs: 1000, run: () => ok++ },
  ]);
  clock.advance(5000);
  assertEquals([bad, ok], [5, 5]);
  stop();
});

Deno.test("startPeriodic refuses a period that is not a whole number of ticks", () => {
  const clock = new ManualClock();
  assertThrows(
    () => startPeriodic(clock, [{ what: "x", everyMs: 1500, run: () => {} }]),
    RangeError,
  );
  assertThrows(() => startPeriodic(clock, [{ what: "x", everyMs: 0, run: () => {} }]), RangeError);
  assertEquals(clock.pending, 0);
});

function assert500(times: number[]): void {
  for (const t of times) assertEquals(t % 1000, TICK_PHASE_MS);
}
