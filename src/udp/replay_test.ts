import { assertEquals } from "../../tests/_harness/assert.ts";
import { REPLAY_WINDOW, ReplayVerdict, ReplayWindow } from "./replay.ts";

Deno.test("ReplayWindow accepts a counter once and refuses its replay", () => {
  const w = new ReplayWindow();
  assertEquals(w.accept(0), ReplayVerdict.Ok);
  assertEquals(w.accept(0), ReplayVerdict.Replayed);
  assertEquals(w.accept(1), ReplayVerdict.Ok);
  assertEquals(w.check(1), ReplayVerdict.Replayed);
  assertEquals(w.highest, 1);
});

Deno.test("ReplayWindow accepts out-of-order counters within the window exactly once", () => {
  const w = new ReplayWindow();
  assertEquals(w.accept(100), ReplayVerdict.Ok);
  for (const c of [50, 99, 3, 77]) assertEquals(w.accept(c), ReplayVerdict.Ok);
  for (const c of [50, 99, 3, 77, 100]) assertEquals(w.accept(c), ReplayVerdict.Replayed);
  assertEquals(w.accept(2), ReplayVerdict.Ok);
});

Deno.test("ReplayWindow refuses counters at or beyond the window edge as too old", () => {
  const w = new ReplayWindow();
  const top = 10_000;
  assertEquals(w.accept(top), ReplayVerdict.Ok);
  assertEquals(w.check(top - REPLAY_WINDOW), ReplayVerdict.TooOld);
  assertEquals(w.accept(top - REPLAY_WINDOW + 1), ReplayVerdict.Ok);
  assertEquals(w.accept(top - REPLAY_WINDOW + 1), ReplayVerdict.Replayed);
  assert2048(w, top);
});

function assert2048(w: ReplayWindow, top: number): void {
  // The brief asks for at least 2048 packets of reordering tolerance.
  assertEquals(REPLAY_WINDOW >= 2048, true);
  assertEquals(w.accept(top - 2048), ReplayVerdict.Ok);
}

Deno.test("ReplayWindow forgets everything on a huge jump but keeps refusing old counters", () => {
  const w = new ReplayWindow();
  for (let c = 0; c < 5000; c++) assertEquals(w.accept(c), ReplayVerdict.Ok);
  const far = 2 ** 40 + 17;
  assertEquals(w.accept(far), ReplayVerdict.Ok);
  assertEquals(w.accept(4999), ReplayVerdict.TooOld);
  assertEquals(w.accept(far), ReplayVerdict.Replayed);
  // Counters just below the jump were never seen and are inside the window.
  assertEquals(w.accept(far - 1), ReplayVerdict.Ok);
  assertEquals(w.accept(far - 100), ReplayVerdict.Ok);
  assertEquals(w.accept(far - 100), ReplayVerdict.Replayed);
});

Deno.test("ReplayWindow matches a naive set-based model on random sequences", () => {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let round = 0; round < 20; round++) {
    const w = new ReplayWindow();
    const seen = new Set<number>();
    let top = -1;
    let base = 0;
    for (let i = 0; i < 3000; i++) {
      if (rnd() < 0.01) base += Math.floor(rnd() * 10_000);
      const c = Math.max(0, base + Math.floor(rnd() * 6000) - 4000);
      let expect: ReplayVerdict;
      if (c > top) expect = ReplayVerdict.Ok;
      else if (top - c >= REPLAY_WINDOW) expect = ReplayVerdict.TooOld;
      else expect = seen.has(c) ? ReplayVerdict.Replayed : ReplayVerdict.Ok;
      assertEquals(w.accept(c), expect, `counter ${c} after top ${top}`);
      if (expect === ReplayVerdict.Ok) {
        seen.add(c);
        top = Math.max(top, c);
      }
      base = Math.max(base, top - 3000);
    }
  }
});
