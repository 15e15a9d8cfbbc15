/**
 * Runs one target in a worker so that the main thread can stop a hang. Before each input the
 * worker copies it into a shared buffer and bumps a counter; the main thread's watchdog
 * (`campaign.ts`) terminates a worker whose counter stops moving and reports the input found
 * in the shared buffer.
 * @module
 */
/// <reference lib="deno.worker" />
import { MAX_MUTANT_BYTES } from "./mutator.ts";
import { fuzzTarget, inputRng, type RunOptions } from "./runner.ts";
import type { FuzzTarget } from "./target.ts";

/** Bytes of the shared progress buffer: index, length, input. */
export const PROGRESS_BYTES = 8 + MAX_MUTANT_BYTES + 64 * 1024;

/** The message that starts a worker. */
export interface WorkerStart {
  readonly module: string;
  readonly exportName: string;
  readonly options: RunOptions;
  readonly progress: SharedArrayBuffer;
  /** Instead of a run: feed this one input (with the choices of input `replay.index`). */
  readonly replay?: { readonly input: Uint8Array; readonly index: number };
}

self.onmessage = async (ev: MessageEvent<WorkerStart>) => {
  const { module, exportName, options, progress, replay } = ev.data;
  const head = new Int32Array(progress, 0, 2);
  const body = new Uint8Array(progress, 8);
  try {
    const target = (await import(module))[exportName] as FuzzTarget;
    await target.setup();
    if (replay !== undefined) {
      Atomics.store(head, 0, 1);
      let error: string | undefined;
      try {
        await target.run(replay.input, inputRng(options.seed, replay.index));
      } catch (e) {
        error = e instanceof Error ? e.stack ?? e.message : String(e);
      }
      self.postMessage({ ok: true, replayed: { error } });
      return;
    }
    const result = await fuzzTarget(target, options, (index, input) => {
      const n = Math.min(input.length, body.length);
      body.set(input.subarray(0, n));
      Atomics.store(head, 1, n);
      Atomics.store(head, 0, index + 1);
    });
    self.postMessage({ ok: true, result });
  } catch (e) {
    self.postMessage({ ok: false, error: e instanceof Error ? e.stack ?? e.message : String(e) });
  }
};
