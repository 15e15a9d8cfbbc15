/**
 * Targets that break the contract on purpose, for the harness's own tests: one throws a
 * TypeError on inputs starting with 0xff, one never returns on inputs starting with 0xfe.
 * @module
 */
import type { Seed } from "./mutator.ts";
import type { FuzzTarget } from "./target.ts";

const seeds: Seed[] = [{ bytes: Uint8Array.of(0xff, 1, 2) }, { bytes: Uint8Array.of(0xfe, 3) }];

function target(name: string, bad: number, act: () => void): FuzzTarget {
  return {
    name,
    description: `breaks on inputs starting with 0x${bad.toString(16)}`,
    setup: () => Promise.resolve(),
    seeds: () => seeds,
    run(input) {
      if (input[0] === bad && input.length === 3) act();
    },
  };
}

/** Throws a TypeError (not a documented error). */
export const throwingTarget: FuzzTarget = target("throwing", 0xff, () => {
  throw new TypeError("undocumented");
});

/** Spins forever. */
export const hangingTarget: FuzzTarget = target("hanging", 0xfe, () => {
  for (;;) { /* a decoder stuck in a loop */ }
});

/**
 * Stalls once: the first time it sees an input starting with 0xfe it spins for 1.5 s and
 * leaves a mark in the file named by `FUZZ_STALL_MARK`; afterwards it is fast.
 */
export const stallOnceTarget: FuzzTarget = target("stall_once", 0xfe, () => {
  const mark = Deno.env.get("FUZZ_STALL_MARK");
  if (mark === undefined) throw new Error("stall_once: FUZZ_STALL_MARK is not set");
  try {
    Deno.statSync(mark);
  } catch {
    Deno.writeTextFileSync(mark, "stalled");
    const until = performance.now() + 1500;
    while (performance.now() < until) { /* starved, as far as the watchdog can tell */ }
  }
});
