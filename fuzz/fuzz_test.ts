import { assert, assertEquals } from "../tests/_harness/assert.ts";
import { runInWorker } from "./campaign.ts";
import { mutate, Rng } from "./mutator.ts";
import { targetSeed } from "./runner.ts";
import { TARGETS } from "./targets.ts";

const broken = new URL("./_broken_targets.ts", import.meta.url).href;
const opts = { perInputMs: 2000, maxHeapGrowthMb: 512 };

/** Inputs per target: a fixed amount of work (a time budget shrinks on a loaded machine). */
const BUDGET: Record<string, number> = {
  dc_verify: 300,
  certificate: 1500,
  dc_content: 1500,
  node_info: 1500,
};

Deno.test("every fuzz target takes a short run of mutated inputs without a finding", async () => {
  const seed = Date.now() >>> 0;
  const ran: string[] = [];
  for (const ref of TARGETS) {
    const iterations = BUDGET[ref.name] ?? 4000;
    const r = await runInWorker(ref, { ...opts, seed: targetSeed(seed, ref.name), iterations });
    const shown = r.findings.map((f) => `${f.kind} at index ${f.index}: ${f.message}`);
    assertEquals(shown, [], `target ${ref.name}, seed ${r.seed}`);
    assertEquals(r.inputs, iterations, `${ref.name}, seed ${r.seed}`);
    ran.push(ref.name);
  }
  assertEquals(ran.length, TARGETS.length);
});

Deno.test("the fuzz runner reports an undocumented exception with the input that caused it", async () => {
  const ref = { name: "throwing", module: broken, exportName: "throwingTarget" };
  const r = await runInWorker(ref, { ...opts, seed: 7, iterations: 5000 });
  assert(r.findings.length >= 1, "no finding");
  const f = r.findings[0];
  assertEquals(f.kind, "exception");
  assert(f.message.includes("undocumented"), f.message);
  assertEquals([f.input[0], f.input.length], [0xff, 3]);
});

Deno.test("the fuzz watchdog stops a hung decoder and reports the input it hung on", async () => {
  const ref = { name: "hanging", module: broken, exportName: "hangingTarget" };
  const r = await runInWorker(ref, { ...opts, seed: 7, iterations: 100_000 }, 400);
  assertEquals(r.findings.length, 1);
  assertEquals(r.findings[0].kind, "hang");
  assertEquals([r.findings[0].input[0], r.findings[0].input.length], [0xfe, 3]);
});

Deno.test("mutate() repeats the same inputs for the same seed and differs for another", () => {
  const seeds = [{
    bytes: new Uint8Array(64).fill(5),
    lengths: [{ offset: 2, width: 2 as const, value: 60 }],
  }];
  const run = (s: number) => {
    const rng = new Rng(s);
    return Array.from({ length: 200 }, () => mutate(rng, seeds).toHex()).join();
  };
  assertEquals(run(1), run(1));
  assert(run(1) !== run(2));
});

Deno.test("the fuzz watchdog resumes after a stall that does not repeat, without a finding", async () => {
  const mark = await Deno.makeTempFile();
  await Deno.remove(mark);
  Deno.env.set("FUZZ_STALL_MARK", mark);
  try {
    const ref = { name: "stall_once", module: broken, exportName: "stallOnceTarget" };
    const r = await runInWorker(ref, { ...opts, seed: 7, iterations: 3000 }, 400);
    assertEquals(r.findings, []);
    assertEquals(r.inputs, 3000, "the run went on after the stall");
    assertEquals(await Deno.readTextFile(mark), "stalled");
  } finally {
    Deno.env.delete("FUZZ_STALL_MARK");
    await Deno.remove(mark).catch(() => {});
  }
});
