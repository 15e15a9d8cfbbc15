/**
 * Registering end-to-end tests: they need root, `ip`, `ping` and /dev/net/tun, and are
 * skipped with a message naming what is missing otherwise.
 * @module
 */
import { hasProgram } from "./command.ts";
import { namespaceSupport } from "./netns.ts";

async function skipReason(programs: readonly string[]): Promise<string | undefined> {
  const ns = await namespaceSupport();
  if (ns) return ns;
  for (const p of programs) {
    if (!(await hasProgram(p))) return `the \`${p}\` command is not installed`;
  }
  return undefined;
}

const reasons = new Map<string, string | undefined>();

/**
 * Why e2e tests needing `programs` cannot run here (`undefined` when they can). Prints the
 * reason once per test file.
 */
export async function e2eSkip(programs: readonly string[] = ["ip", "ping"]): Promise<
  string | undefined
> {
  const key = programs.join(",");
  if (!reasons.has(key)) {
    const r = await skipReason(programs);
    reasons.set(key, r);
    if (r) console.warn(`skipping end-to-end tests: ${r}`);
  }
  return reasons.get(key);
}

/** Registers an end-to-end test, ignored (with a message) where it cannot run. */
export async function e2eTest(
  name: string,
  fn: (t: Deno.TestContext) => Promise<void>,
  { programs = ["ip", "ping"] }: { programs?: readonly string[] } = {},
): Promise<void> {
  const skip = await e2eSkip(programs);
  Deno.test({ name, ignore: skip !== undefined, fn });
}
