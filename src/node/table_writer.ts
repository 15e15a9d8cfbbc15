/**
 * `--table <path>`: the routing table written every 10 s with an atomic rename, as the Go
 * vmesh does, so scripts can read a complete file at any time.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { type Clock, every, realClock } from "../clock/mod.ts";
import { writeFileAtomic } from "./atomic_write.ts";

const log = getLogger(["vmesh", "node"]);

/**
 * Writes `render()` to `path` now and every `intervalMs` on `clock`; returns a stop function.
 */
export function startTableWriter(
  path: string,
  render: () => string,
  intervalMs = 10_000,
  clock: Clock = realClock,
): () => void {
  let failing = false;
  const write = async () => {
    try {
      await writeFileAtomic(path, render());
      if (failing) log.info("routing table file {path} written again", { path });
      failing = false;
    } catch (e) {
      if (!failing) {
        log.warn("cannot write routing table to {path}: {error}", { path, error: `${e}` });
      }
      failing = true;
    }
  };
  write();
  return every(clock, intervalMs, write);
}
