/**
 * The fuzz loop of one target, in the process that calls it: make a mutant, feed it, check
 * the contract, and count. A finding records the target, the seed, the input's index and the
 * input itself. The loop also watches for slow inputs (over the per-input bound, measured
 * after the fact) and for heap growth; a true hang is caught by the watchdog in `worker.ts`.
 * @module
 */
import { mutate, Rng } from "./mutator.ts";
import type { FuzzTarget } from "./target.ts";

/** Bounds of one run. */
export interface RunOptions {
  /** The run's seed (printed; the same seed repeats the same inputs). */
  readonly seed: number;
  /** Stop after this many inputs. */
  readonly iterations?: number;
  /** Stop after this many seconds. */
  readonly seconds?: number;
  /** An input that takes longer than this (ms) is a finding. */
  readonly perInputMs: number;
  /** Heap growth over the first measurement (MiB) that is a finding. */
  readonly maxHeapGrowthMb: number;
  /** Stop after this many findings. */
  readonly maxFindings?: number;
  /** Generate but do not feed the first `skip` inputs (resuming a run after a stall). */
  readonly skip?: number;
}

/** One broken contract. */
export interface Finding {
  readonly target: string;
  readonly seed: number;
  /** Index of the input in the run (with the seed, it reproduces the input). */
  readonly index: number;
  readonly kind: "exception" | "slow" | "hang" | "memory";
  readonly message: string;
  readonly input: Uint8Array;
}

/** What a run did. */
export interface RunResult {
  readonly target: string;
  readonly seed: number;
  readonly inputs: number;
  readonly ms: number;
  readonly findings: Finding[];
}

/** The generator for the choices `run` makes on input `index` (chunking etc.). */
export function inputRng(seed: number, index: number): Rng {
  return new Rng((Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index, 0xc2b2ae35)) | 0);
}

/** The seed for one target within a run of several: distinct per target, stable per name. */
export function targetSeed(seed: number, name: string): number {
  let h = seed >>> 0;
  for (const ch of name) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}\n${e.stack ?? ""}`.slice(0, 4000);
  return String(e);
}

/**
 * Fuzzes `target` (already set up) until a bound is reached.
 * @param onInput called with each input before it is fed (the worker's watchdog copy)
 */
export async function fuzzTarget(
  target: FuzzTarget,
  opts: RunOptions,
  onInput?: (index: number, input: Uint8Array) => void,
): Promise<RunResult> {
  const rng = new Rng(opts.seed);
  const seeds = target.seeds();
  const findings: Finding[] = [];
  const start = performance.now();
  const deadline = opts.seconds === undefined ? Infinity : start + opts.seconds * 1000;
  const maxInputs = opts.iterations ?? Infinity;
  const maxFindings = opts.maxFindings ?? 10;
  const seen = new Set<string>();
  let baseHeap = -1;
  let i = 0;
  const found = (kind: Finding["kind"], message: string, input: Uint8Array) => {
    const key = `${kind}:${message.split("\n")[0].replace(/\d+/g, "N")}`;
    if (seen.has(key)) return;
    seen.add(key);
    findings.push({ target: target.name, seed: opts.seed, index: i, kind, message, input });
  };
  for (; i < maxInputs && findings.length < maxFindings; i++) {
    if ((i & 63) === 0 && performance.now() > deadline) break;
    const input = target.mutate ? target.mutate(rng, seeds) : mutate(rng, seeds);
    if (i < (opts.skip ?? 0)) continue;
    onInput?.(i, input);
    const t0 = performance.now();
    try {
      const r = target.run(input, inputRng(opts.seed, i));
      if (r !== undefined) await r;
    } catch (e) {
      found("exception", describe(e), input);
    }
    const took = performance.now() - t0;
    if (took > opts.perInputMs) {
      // Only a slowness that repeats is the decoder's: a starved process is slow on anything.
      const t1 = performance.now();
      try {
        const r = target.run(input, inputRng(opts.seed, i));
        if (r !== undefined) await r;
      } catch (e) {
        found("exception", describe(e), input); // the same one as above is not listed twice
      }
      const again = performance.now() - t1;
      if (again > opts.perInputMs) {
        const ms = `${took.toFixed(0)} ms, then ${again.toFixed(0)} ms`;
        found("slow", `one input took ${ms} (bound ${opts.perInputMs} ms)`, input);
      }
    }
    if ((i & 4095) === 4095) {
      const heap = Deno.memoryUsage().heapUsed;
      if (baseHeap < 0) baseHeap = heap;
      else if (heap - baseHeap > opts.maxHeapGrowthMb * 1024 * 1024) {
        const mb = ((heap - baseHeap) / 1048576).toFixed(0);
        found("memory", `heap grew by ${mb} MiB over ${i} inputs`, input);
        break;
      }
    }
  }
  return {
    target: target.name,
    seed: opts.seed,
    inputs: i,
    ms: performance.now() - start,
    findings,
  };
}
