/**
 * Runs targets in workers under a watchdog, and writes findings to the crash corpus: for each
 * finding, `<dir>/<target>-<seed>-<index>.bin` holds the input, and the report prints the
 * target, seed and input as hex. `replay` feeds one saved input again, in this process.
 * @module
 */
import { type Finding, inputRng, type RunOptions, type RunResult } from "./runner.ts";
import type { FuzzTarget } from "./target.ts";
import { type TargetRef, TARGETS } from "./targets.ts";
import { PROGRESS_BYTES, type WorkerStart } from "./worker.ts";

/** A target with no input finished for this long is hung (ms). */
export const DEFAULT_HANG_MS = 5000;

type Outcome =
  | { kind: "done"; data: { result?: RunResult; replayed?: { error?: string } } }
  | { kind: "stalled"; index: number; input: Uint8Array };

/** One worker under the watchdog: its message, or the input it stalled on. */
function watch(ref: TargetRef, start: Omit<WorkerStart, "progress">, hangMs: number) {
  const progress = new SharedArrayBuffer(PROGRESS_BYTES);
  const head = new Int32Array(progress, 0, 2);
  const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
  return new Promise<Outcome>((resolve, reject) => {
    let last = -1;
    let lastMove = performance.now();
    const finish = () => {
      clearInterval(watchdog);
      worker.terminate();
    };
    const watchdog = setInterval(() => {
      const now = performance.now();
      const at = Atomics.load(head, 0);
      if (at !== last) {
        last = at;
        lastMove = now;
        return;
      }
      // Before the first input the worker builds its seeds (certificates: a few seconds).
      if (now - lastMove < (at === 0 ? 10 * hangMs : hangMs)) return;
      finish();
      const input = new Uint8Array(progress, 8, Atomics.load(head, 1)).slice();
      resolve({ kind: "stalled", index: Math.max(0, at - 1), input });
    }, Math.min(250, hangMs / 4));
    worker.onmessage = (ev) => {
      finish();
      if (ev.data.ok) resolve({ kind: "done", data: ev.data });
      else reject(new Error(`fuzz target ${ref.name} failed to run: ${ev.data.error}`));
    };
    worker.onerror = (ev) => {
      ev.preventDefault();
      finish();
      reject(new Error(`fuzz target ${ref.name}: worker error: ${ev.message}`));
    };
    worker.postMessage({ ...start, progress } satisfies WorkerStart);
  });
}

/**
 * Runs one target in a worker. When the worker stops making progress, the input it was on
 * is fed again in a fresh worker: a hang that repeats is a finding of kind "hang"; a stall
 * that does not (the process was starved of CPU, a long GC) is logged and the run resumes
 * after that input.
 */
export async function runInWorker(
  ref: TargetRef,
  options: RunOptions,
  hangMs = DEFAULT_HANG_MS,
): Promise<RunResult> {
  const base = { module: ref.module, exportName: ref.exportName };
  const t0 = performance.now();
  const findings: Finding[] = [];
  let skip = 0;
  for (;;) {
    const elapsed = (performance.now() - t0) / 1000;
    const seconds = options.seconds === undefined ? undefined : options.seconds - elapsed;
    const o = await watch(ref, { ...base, options: { ...options, skip, seconds } }, hangMs);
    if (o.kind === "done") {
      const r = o.data.result!;
      const inputs = Math.max(r.inputs, skip);
      return { ...r, inputs, ms: performance.now() - t0, findings: [...findings, ...r.findings] };
    }
    const again = await watch(
      ref,
      { ...base, options, replay: { input: o.input, index: o.index } },
      hangMs,
    );
    const f = { target: ref.name, seed: options.seed, index: o.index, input: o.input };
    if (again.kind === "stalled") {
      findings.push({ ...f, kind: "hang", message: `no progress for ${hangMs} ms, twice` });
      return { target: ref.name, seed: options.seed, inputs: o.index + 1, ms: 0, findings };
    }
    const error = again.data.replayed?.error;
    if (error !== undefined) findings.push({ ...f, kind: "exception", message: error });
    console.warn(`${ref.name}: a stall at input ${o.index} did not repeat; resuming after it`);
    skip = o.index + 1;
  }
}

/** Writes a finding to `dir` and returns the file path. */
export async function saveFinding(dir: string, f: Finding): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/${f.target}-${f.seed}-${f.index}.bin`;
  await Deno.writeFile(path, f.input);
  return path;
}

/** A finding as the report prints it (input as hex, long inputs cut at 64 KiB of hex). */
export function formatFinding(f: Finding, path?: string): string {
  const hex = f.input.toHex();
  const shown = hex.length > 65536 ? `${hex.slice(0, 65536)}… (${f.input.length} bytes)` : hex;
  return [
    `FINDING target=${f.target} seed=${f.seed} index=${f.index} kind=${f.kind}`,
    `  ${f.message.split("\n").join("\n  ")}`,
    `  input (${f.input.length} bytes): ${shown}`,
    ...(path ? [`  saved: ${path}`] : []),
    `  replay: deno task fuzz --target ${f.target} --replay ${path ?? "<file>"}`,
  ].join("\n");
}

/**
 * Feeds one saved input to its target again (in this process), with the choices of the run
 * it came from when the file name carries seed and index. Returns the error, if any.
 */
export async function replay(ref: TargetRef, path: string): Promise<unknown> {
  const input = await Deno.readFile(path);
  const m = path.match(/-(\d+)-(\d+)\.bin$/);
  const rng = inputRng(m ? Number(m[1]) : 0, m ? Number(m[2]) : 0);
  const target = (await import(ref.module))[ref.exportName] as FuzzTarget;
  await target.setup();
  try {
    await target.run(input, rng);
    return undefined;
  } catch (e) {
    return e;
  }
}

/** Looks a target up by name. */
export function targetRef(name: string): TargetRef {
  const ref = TARGETS.find((t) => t.name === name);
  if (!ref) {
    throw new TypeError(
      `unknown fuzz target "${name}"; known: ${TARGETS.map((t) => t.name).join(", ")}`,
    );
  }
  return ref;
}
