/**
 * Helpers for the TUN tests: throw-away network namespaces named `vmt-<pid>-<hex>-<n>` and a way to
 * run a scenario of `tun_child.ts` inside one. Everything created here is deleted in `finally`.
 * @module
 */

const REPO = new URL("..", import.meta.url).pathname;
const CHILD = new URL("./tun_child.ts", import.meta.url).pathname;
let counter = 0;

function hasTools(): boolean {
  try {
    Deno.statSync("/dev/net/tun");
    return new Deno.Command("ip", { args: ["-V"], stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}

/** Why namespace tests cannot run here, or undefined when they can. */
export const SKIP_REASON: string | undefined = Deno.uid() !== 0
  ? "not root"
  : !hasTools()
  ? "no /dev/net/tun or no ip(8)"
  : undefined;

/** `ignore` flag for Deno.test; logs why once. */
export function ignoreUnlessRoot(): boolean {
  if (SKIP_REASON !== undefined && counter++ === 0) {
    console.log(`skipping TUN namespace tests: ${SKIP_REASON} (run as root on Linux)`);
  }
  return SKIP_REASON !== undefined;
}

/** Runs a command; throws with its stderr when it fails. */
export async function sh(cmd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}

/** Runs `fn` with a fresh namespace (loopback up), deleting it afterwards. */
export async function withNetns<T>(fn: (ns: string) => Promise<T>): Promise<T> {
  // --parallel runs test files in several isolates of one process: add randomness to the pid.
  const tag = crypto.getRandomValues(new Uint8Array(3)).toHex();
  const ns = `vmt-${Deno.pid}-${tag}-${++counter}`;
  await sh("ip", "netns", "add", ns);
  try {
    await sh("ip", "-n", ns, "link", "set", "lo", "up");
    return await fn(ns);
  } finally {
    await sh("ip", "netns", "del", ns).catch(() => {});
  }
}

/** What a child scenario printed. */
export interface ChildResult {
  code: number;
  stderr: string;
  /** The JSON object the scenario printed last on stdout (empty when none). */
  json: Record<string, any>;
}

/**
 * Runs `tun_child.ts <scenario> [args]` inside `ns` (optionally behind `prefix`, such as a
 * setpriv invocation) and returns its JSON report.
 */
export async function runChild(
  ns: string,
  scenario: string,
  args: string[] = [],
  prefix: string[] = [],
): Promise<ChildResult> {
  const out = await new Deno.Command("ip", {
    args: ["netns", "exec", ns, ...prefix, Deno.execPath(), "run", "-A", CHILD, scenario, ...args],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout).trim();
  const stderr = new TextDecoder().decode(out.stderr);
  const last = stdout.split("\n").at(-1) ?? "";
  let json: Record<string, any> = {};
  try {
    json = last ? JSON.parse(last) : {};
  } catch {
    throw new Error(`child ${scenario} printed no JSON: ${stdout}\n${stderr}`);
  }
  return { code: out.code, stderr, json };
}

/** Runs a scenario and insists it succeeded, showing its stderr otherwise. */
export async function runChildOk(
  ns: string,
  scenario: string,
  args: string[] = [],
  prefix: string[] = [],
): Promise<Record<string, any>> {
  const r = await runChild(ns, scenario, args, prefix);
  if (r.code !== 0) throw new Error(`child ${scenario} exited ${r.code}:\n${r.stderr}`);
  return r.json;
}
