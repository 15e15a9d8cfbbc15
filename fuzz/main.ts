/**
 * `deno task fuzz`: structured fuzzing of every decoder, bounded by time or inputs.
 *
 * ```
 * deno task fuzz [--target NAME]... [--seconds N | --iterations N] [--seed S]
 *                [--hang-ms MS] [--slow-ms MS] [--crash-dir DIR] [--jobs N]
 * deno task fuzz --target NAME --replay FILE
 * deno task fuzz --list
 * ```
 * Bounds apply per target (default: 10 seconds each). The seed is printed; the same seed
 * gives the same inputs. Each finding prints the target, seed and input as hex and is saved
 * under the crash directory (default `fuzz/crashes/`). Exit status 1 when anything was found.
 * @module
 */
import { parseArgs } from "node:util";
import {
  DEFAULT_HANG_MS,
  formatFinding,
  replay,
  runInWorker,
  saveFinding,
  targetRef,
} from "./campaign.ts";
import { type RunResult, targetSeed } from "./runner.ts";
import { TARGETS } from "./targets.ts";

function usage(msg: string): never {
  console.error(`fuzz: ${msg}`);
  Deno.exit(2);
}

function int(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) usage(`--${name} must be a non-negative integer, got "${v}"`);
  return Number(v);
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: "string", multiple: true },
      seconds: { type: "string" },
      iterations: { type: "string" },
      seed: { type: "string" },
      "hang-ms": { type: "string" },
      "slow-ms": { type: "string" },
      "crash-dir": { type: "string" },
      jobs: { type: "string" },
      replay: { type: "string" },
      list: { type: "boolean" },
    },
  });
  if (values.list) {
    for (const t of TARGETS) {
      const mod = await import(t.module);
      console.log(`${t.name.padEnd(14)} ${mod[t.exportName].description}`);
    }
    return 0;
  }
  const refs = (values.target ?? TARGETS.map((t) => t.name)).map((n) => {
    try {
      return targetRef(n);
    } catch (e) {
      usage((e as Error).message);
    }
  });
  if (values.replay !== undefined) {
    if (refs.length !== 1) usage("--replay needs exactly one --target");
    const err = await replay(refs[0], values.replay);
    if (err === undefined) {
      console.log(`${refs[0].name}: the input decodes or is refused as documented`);
      return 0;
    }
    console.error(`${refs[0].name}: contract broken:`, err);
    return 1;
  }
  const iterations = int(values.iterations, "iterations");
  let seconds = int(values.seconds, "seconds");
  if (iterations === undefined && seconds === undefined) seconds = 10;
  const seed = int(values.seed, "seed") ?? (crypto.getRandomValues(new Uint32Array(1))[0] >>> 1);
  const hangMs = int(values["hang-ms"], "hang-ms") ?? DEFAULT_HANG_MS;
  const slowMs = int(values["slow-ms"], "slow-ms") ?? 1000;
  const jobs = Math.max(1, int(values.jobs, "jobs") ?? 1);
  const crashDir = values["crash-dir"] ?? new URL("./crashes", import.meta.url).pathname;
  console.log(
    `fuzz: seed ${seed}; ${refs.length} target(s); ` +
      `${iterations !== undefined ? `${iterations} inputs` : `${seconds} s`} each; jobs ${jobs}`,
  );
  const results: RunResult[] = [];
  const queue = [...refs];
  const worker = async () => {
    for (let ref = queue.shift(); ref; ref = queue.shift()) {
      const r = await runInWorker(ref, {
        seed: targetSeed(seed, ref.name),
        iterations,
        seconds,
        perInputMs: slowMs,
        maxHeapGrowthMb: 512,
      }, hangMs);
      results.push(r);
      const rate = (r.inputs / (r.ms / 1000)).toFixed(0);
      console.log(
        `${r.target.padEnd(14)} ${String(r.inputs).padStart(10)} inputs  ${rate.padStart(7)}/s  ` +
          `seed ${r.seed}  findings ${r.findings.length}`,
      );
      for (const f of r.findings) console.log(formatFinding(f, await saveFinding(crashDir, f)));
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  const total = results.reduce((n, r) => n + r.findings.length, 0);
  console.log(`fuzz: ${total === 0 ? "no findings" : `${total} finding(s), saved in ${crashDir}`}`);
  return total === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
