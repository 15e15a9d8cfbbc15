/**
 * Running short external commands (`ip`, `ping`, `iperf3`, the vmesh CLI) for the end-to-end
 * harness, with output captured and failures reported with the command line and its stderr.
 * @module
 */

/** The outcome of a finished command. */
export interface CommandResult {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/** Options for {@link run}. */
export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Kill the command (SIGKILL) after this many milliseconds. Default 60 s. */
  timeoutMs?: number;
  /** Text written to the command's stdin. */
  stdin?: string;
}

const decoder = new TextDecoder();

/** Quotes a command line for messages and for operators to copy. */
export function shellQuote(cmd: readonly string[]): string {
  return cmd.map((a) => /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)
    .join(" ");
}

/**
 * Runs `cmd` to completion and returns its exit code and output.
 * @throws {Error} when the program cannot be started (for example it is not installed).
 */
export async function run(cmd: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
  if (cmd.length === 0) throw new TypeError("run(): empty command");
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: opts.cwd,
    env: opts.env,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited between the timeout firing and the kill: nothing to do.
    }
  }, opts.timeoutMs ?? 60_000);
  try {
    if (opts.stdin !== undefined) {
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(opts.stdin));
      await w.close();
    }
    const out = await child.output();
    return {
      code: out.code,
      signal: out.signal,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `cmd` and returns its stdout.
 * @throws {Error} naming the command, its exit status and stderr when it does not exit 0.
 */
export async function runOk(cmd: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, opts);
  if (r.code !== 0) {
    const why = r.signal ? `was killed by ${r.signal}` : `exited with ${r.code}`;
    throw new Error(`${shellQuote(cmd)} ${why}: ${(r.stderr || r.stdout).trim()}`);
  }
  return r.stdout;
}

/** Whether a program is found on PATH. */
export async function hasProgram(name: string): Promise<boolean> {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
    if (!dir) continue;
    try {
      const st = await Deno.stat(`${dir}/${name}`);
      if (st.isFile && st.mode !== null && (st.mode & 0o111) !== 0) return true;
    } catch {
      // Not in this directory; keep looking.
    }
  }
  return false;
}

/** Resolves after `ms` milliseconds (for poll intervals, never for waiting on an outcome). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `probe` every `intervalMs` until it returns a value other than `undefined`/`false`,
 * and returns that value.
 * @throws {Error} "timed out after … waiting for <what>" with the last probe error, if any.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 20_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  while (true) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (performance.now() >= deadline) {
      const detail = lastError ? `; last error: ${String(lastError)}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await delay(intervalMs);
  }
}
