/**
 * Fuzz target: control-socket requests (`src/node/control.ts`): bytes arrive in random
 * chunks through `readLine`, then `parseControlRequest`. Refusals: RangeError (over the
 * size limit) and SyntaxError (not `{"cmd": "<name>"}`).
 * @module
 */
import { MAX_CONTROL_REQUEST, parseControlRequest, readLine } from "../src/node/control.ts";
import { mutateJson } from "./json_mutator.ts";
import { chunkings, type Rng, type Seed } from "./mutator.ts";
import { ContractViolation, expectError, type FuzzTarget } from "./target.ts";

const enc = new TextEncoder();
let seeds: Seed[] = [];

/** The control request target. */
export const controlTarget: FuzzTarget = {
  name: "control",
  description: "control socket readLine + parseControlRequest (src/node/control.ts)",
  setup() {
    seeds = ["status", "routes", "dc", "x".repeat(100)].map((cmd) => ({
      bytes: enc.encode(JSON.stringify({ cmd, extra: [1, "two", null] })),
    }));
    return Promise.resolve();
  },
  seeds: () => seeds,
  mutate(rng: Rng, s: readonly Seed[]): Uint8Array {
    const doc = mutateJson(rng, s);
    if (rng.oneIn(100)) return new Uint8Array(MAX_CONTROL_REQUEST - 2 + rng.below(5)).fill(0x20);
    return rng.oneIn(2) ? Uint8Array.of(...doc, 10, ...rng.bytes(rng.below(8))) : doc;
  },
  async run(input: Uint8Array, rng: Rng) {
    // Byte-by-byte chunking only for inputs of ordinary size (an oversize line is 2 MiB).
    const chunks = input.length > 65536 ? [input] : chunkings(rng, input);
    let i = 0;
    let at = 0;
    const conn = {
      read(p: Uint8Array): Promise<number | null> {
        if (i === chunks.length) return Promise.resolve(null);
        const c = chunks[i];
        const n = Math.min(c.length - at, p.length);
        p.set(c.subarray(at, at + n));
        at += n;
        if (at === c.length) {
          i++;
          at = 0;
        }
        return Promise.resolve(n);
      },
    };
    let line;
    try {
      line = await readLine(conn, MAX_CONTROL_REQUEST);
    } catch (e) {
      expectError(e, [RangeError]);
      return;
    }
    if (line.includes("\n")) throw new ContractViolation("the line holds a newline");
    if (enc.encode(line).length > 3 * MAX_CONTROL_REQUEST) {
      throw new ContractViolation(`a line of ${line.length} characters passed the limit`);
    }
    try {
      const req = parseControlRequest(line);
      if (typeof req.cmd !== "string") throw new ContractViolation("the command is not a string");
    } catch (e) {
      expectError(e, [SyntaxError]);
    }
  },
};
