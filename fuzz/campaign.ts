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

/**
 * Runs one target in a worker. Resolves with the result; a hang becomes a finding of kind
 * "hang" holding the input the worker was on.
 */
export function runInWorker(ref: TargetRef, options: RunOptions, hangMs = DEFAULT_HANG_MS) {
  const progress = new SharedArrayBuffer(PROGRESS_BYTES);
  const head = new Int32Array(progress, 0, 2);
  const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
  const start = performance.now();
  return new Promise<RunResult>((resolve, reject) => {
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
      const n = Atomics.load(head, 1);
      const input = new Uint8Array(progress, 8, n).slice();
      const index = Math.max(0, at - 1);
      resolve({
        target: ref.name,
        seed: options.seed,
        inputs: index + 1,
        ms: now - start,
        findings: [{
          target: ref.name,
          seed: options.seed,
          index,
          kind: "hang",
          message: `no progress for ${hangMs} ms on one input`,
          input,
        }],
      });
    }, Math.min(250, hangMs / 4));
    worker.onmessage = (ev) => {
      finish();
      if (ev.data.ok) resolve(ev.data.result as RunResult);
      else reject(new Error(`fuzz target ${ref.name} failed to run: ${ev.data.error}`));
    };
    worker.onerror = (ev) => {
      ev.preventDefault();
      finish();
      reject(new Error(`fuzz target ${ref.name}: worker error: ${ev.message}`));
    };
    const start_: WorkerStart = {
      module: ref.module,
      exportName: ref.exportName,
      options,
      progress,
    };
    worker.postMessage(start_);
  });
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
