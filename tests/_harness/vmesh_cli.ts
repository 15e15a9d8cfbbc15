/**
 * How the harness invokes vmesh: `deno run … <bundle of main.ts> <subcommand>` (see
 * {@link nodeEntryPoint}; `VMESH_FROM_SOURCE=1` runs main.ts itself), with the same permission
 * and V8 flags the compiled binary gets (read from deno.json's "compile" task).
 * @module
 */
import { freshNodeBundle } from "../../scripts/bundle_node.ts";
import { runOk } from "./command.ts";

/** Absolute path of the repository root. */
export const REPO_ROOT: string = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** Absolute path of main.ts. */
export const MAIN_TS = `${REPO_ROOT}/main.ts`;

/** Absolute path of deno.json. */
export const DENO_JSON = `${REPO_ROOT}/deno.json`;

/**
 * The checkout whose main.ts and deno.json {@link vmeshArgv} runs: this repository unless a
 * benchmark compares builds (scripts/bench_startup.ts `--repo`).
 */
let nodeRoot = REPO_ROOT;
let nodeEntry: string | undefined;

/**
 * Runs nodes from the checkout at `root` (a directory with deno.json and main.ts) from now on;
 * with `entry`, that file (relative to `root`, e.g. a bundle made elsewhere) instead of the
 * checkout's own bundle.
 */
export function setNodeRoot(root: string, entry?: string): void {
  nodeRoot = root.replace(/\/$/, "");
  nodeEntry = entry;
}

/**
 * The file nodes run: a bundle of the checkout's current sources (scripts/bundle_node.ts:
 * what `deno task bundle` ships, and it starts with less CPU than the ~170-module graph), or
 * main.ts itself with `VMESH_FROM_SOURCE=1`.
 */
export function nodeEntryPoint(): string {
  if (nodeEntry !== undefined) return `${nodeRoot}/${nodeEntry}`;
  if (Deno.env.get("VMESH_FROM_SOURCE") === "1") return `${nodeRoot}/main.ts`;
  // Hashing the sources reads every file: once per checkout and test process, not per node.
  const known = bundles.get(nodeRoot);
  if (known !== undefined && isFile(known)) return known;
  const entry = freshNodeBundle(nodeRoot);
  bundles.set(nodeRoot, entry);
  return entry;
}

/** Checkout root → the bundle {@link nodeEntryPoint} found or built for it in this process. */
const bundles = new Map<string, string>();

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * The `--allow-*` flags of deno.json's "compile" task (the compiled binary's permissions),
 * so nodes under test run with exactly what they will get in production.
 * @throws {Error} when deno.json has no compile task with permission flags.
 */
export function nodePermissionFlags(): string[] {
  const cfg = JSON.parse(Deno.readTextFileSync(`${nodeRoot}/deno.json`)) as {
    tasks?: Record<string, string>;
  };
  const task = cfg.tasks?.compile;
  const flags = task?.split(/\s+/).filter((t) => t.startsWith("--allow-")) ?? [];
  if (flags.length === 0) {
    throw new Error(`${DENO_JSON}: tasks.compile has no --allow-* flags to run nodes with`);
  }
  return flags;
}

/**
 * The `--v8-flags=…` of deno.json's "compile" task (how the compiled binary sizes and runs its
 * heap, e.g. `--expose-gc` for the receive-buffer reclaimer), so nodes under test get them too.
 */
export function nodeV8Flags(): string[] {
  const cfg = JSON.parse(Deno.readTextFileSync(`${nodeRoot}/deno.json`)) as {
    tasks?: Record<string, string>;
  };
  return cfg.tasks?.compile?.split(/\s+/).filter((t) => t.startsWith("--v8-flags=")) ?? [];
}

/** The argv that runs `vmesh <args>` with the compiled binary's permissions and V8 flags. */
export function vmeshArgv(args: readonly string[], { allowAll = false } = {}): string[] {
  const perms = allowAll ? ["-A"] : nodePermissionFlags();
  // VMESH_CPU_PROF=<dir>: each process writes a V8 CPU profile there when it exits.
  const dir = Deno.env.get("VMESH_CPU_PROF");
  const prof = dir ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : [];
  return [
    Deno.execPath(),
    "run",
    ...perms,
    ...nodeV8Flags(),
    ...prof,
    "--config",
    `${nodeRoot}/deno.json`,
    nodeEntryPoint(),
    ...args,
  ];
}

/**
 * Runs a short vmesh subcommand (cert, sign, status…) with all permissions and returns stdout.
 * @throws {Error} with its stderr when it does not exit 0.
 */
export function vmesh(args: readonly string[]): Promise<string> {
  return runOk(vmeshArgv(args, { allowAll: true }), { cwd: REPO_ROOT, env: { NO_COLOR: "1" } });
}

/** What a finished vmesh command printed and returned. */
export interface VmeshResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `vmesh <args>` in `cwd` with all permissions, whatever its exit code (CLI tests). */
export async function vmeshIn(cwd: string, ...args: string[]): Promise<VmeshResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN_TS, ...args],
    cwd,
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
