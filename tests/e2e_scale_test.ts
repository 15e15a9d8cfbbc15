/**
 * A small version of `deno task bench:scale`: 8 real nodes on a ring with chords converge, a
 * `kill -9`'d node's prefix disappears everywhere, and comes back after a restart, within
 * generous bounds (the benchmark reports the figures; this keeps them from regressing badly).
 */
import { assert } from "./_harness/assert.ts";
import { e2eTest } from "./_harness/e2e.ts";
import { runMeshScale } from "./_harness/scale_run.ts";

await e2eTest(
  "8 nodes on a ring with chords converge, drop a killed node's prefix everywhere and take it back after its restart",
  async () => {
    const r = await runMeshScale({
      nodes: 8,
      topology: "ring-chords",
      degree: 4,
      idleSeconds: 0,
      timeoutMs: 60_000,
    });
    console.log(
      `  8 nodes: converged ${r.convergedMs.toFixed(0)} ms after start, ${r.victim} withdrawn in ` +
        `${r.withdrawnMs.toFixed(0)} ms, back in ${r.restoredMs.toFixed(0)} ms`,
    );
    // Bounds for a loaded CI machine; the bench:scale goals at 24 nodes are 3 s and 0.5 s.
    assert(r.convergedMs < 30_000, `converged after ${r.convergedMs} ms`);
    assert(r.withdrawnMs < 5_000, `withdrawn after ${r.withdrawnMs} ms`);
    assert(r.restoredMs < 30_000, `back after ${r.restoredMs} ms`);
  },
);
