/**
 * Long-running processes of the harness (vmesh nodes, iperf3 servers, continuous pings):
 * output goes to a log file, and {@link ManagedProcess.stop} always leaves nothing running.
 * @module
 */
import { delay, shellQuote } from "./command.ts";

/** Options for {@link ManagedProcess.start}. */
export interface StartOptions {
  /** Where stdout and stderr go (appended). */
  logPath: string;
  cwd?: string;
  env?: Record<string, string>;
}

/** A child process whose output is copied to a log file. */
export class ManagedProcess {
  readonly pid: number;
  /** Resolves when the process has exited and its output is flushed to the log. */
  readonly done: Promise<Deno.CommandStatus>;
  #child: Deno.ChildProcess;
  #status: Deno.CommandStatus | undefined;

  private constructor(
    readonly label: string,
    readonly cmd: string[],
    readonly logPath: string,
    child: Deno.ChildProcess,
    logs: Promise<unknown>,
  ) {
    this.#child = child;
    this.pid = child.pid;
    this.done = Promise.all([child.status, logs]).then(([s]) => {
      this.#status = s;
      return s;
    });
  }

  /**
   * Starts `cmd`, copying its stdout and stderr to `opts.logPath`.
   * @throws {Error} when the program cannot be started.
   */
  static async start(label: string, cmd: string[], opts: StartOptions): Promise<ManagedProcess> {
    const header = `# ${new Date().toISOString()} ${shellQuote(cmd)}\n`;
    await Deno.writeTextFile(opts.logPath, header, { append: true });
    const child = new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      cwd: opts.cwd,
      env: opts.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // A read/write loop, not pipeTo(file.writable): the latter was seen holding output back
    // until the child exited, which defeats waiting for a log line.
    const copy = async (stream: ReadableStream<Uint8Array>) => {
      const file = await Deno.open(opts.logPath, { append: true, create: true });
      try {
        for await (const chunk of stream) {
          let off = 0;
          while (off < chunk.length) off += await file.write(chunk.subarray(off));
        }
      } catch {
        // The child's pipe broke or the log cannot be written: the log just ends here.
      } finally {
        file.close();
      }
    };
    const logs = Promise.all([copy(child.stdout), copy(child.stderr)]);
    return new ManagedProcess(label, cmd, opts.logPath, child, logs);
  }

  /** The exit status once the process has exited, else `undefined`. */
  get status(): Deno.CommandStatus | undefined {
    return this.#status;
  }

  /** Sends `signal` (ignored when the process is gone). */
  signal(signal: Deno.Signal): void {
    if (this.#status) return;
    try {
      this.#child.kill(signal);
    } catch (e) {
      if (!(e instanceof TypeError) && !(e instanceof Deno.errors.NotFound)) throw e;
    }
  }

  /**
   * Waits up to `timeoutMs` for the process to exit.
   * @returns its status, or `undefined` when it is still running.
   */
  async wait(timeoutMs: number): Promise<Deno.CommandStatus | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((r) =>
      timer = setTimeout(() => r(undefined), timeoutMs)
    );
    try {
      return await Promise.race([this.done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Stops the process: SIGCONT (in case it was stopped), `signal` (default SIGTERM), then
   * SIGKILL after `graceMs`. Always resolves once it is gone.
   * @returns its exit status and how long it took to exit after `signal`.
   */
  async stop(
    { signal = "SIGTERM", graceMs = 5000 }: { signal?: Deno.Signal; graceMs?: number } = {},
  ): Promise<{ status: Deno.CommandStatus; ms: number; killed: boolean }> {
    const t0 = performance.now();
    if (this.#status) return { status: this.#status, ms: 0, killed: false };
    this.signal("SIGCONT");
    this.signal(signal);
    const st = await this.wait(graceMs);
    if (st) return { status: st, ms: performance.now() - t0, killed: false };
    this.signal("SIGKILL");
    const status = await this.done;
    return { status, ms: performance.now() - t0, killed: true };
  }

  /** The log so far. */
  async log(): Promise<string> {
    try {
      return await Deno.readTextFile(this.logPath);
    } catch {
      return "";
    }
  }

  /** Waits until the log contains `text` (or the process exits, which throws). */
  async waitForLog(text: string | RegExp, timeoutMs = 20_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (true) {
      const log = await this.log();
      if (typeof text === "string" ? log.includes(text) : text.test(log)) return;
      if (this.#status) {
        throw new Error(
          `${this.label} exited (${this.#status.code}) before logging ${text}:\n${log}`,
        );
      }
      if (performance.now() > deadline) {
        throw new Error(`${this.label} did not log ${text} within ${timeoutMs} ms:\n${log}`);
      }
      await delay(50);
    }
  }
}

/** Reads `VmHWM` (peak resident set) of `pid` in KiB, or `undefined` when it is gone. */
export async function peakRssKiB(pid: number): Promise<number | undefined> {
  const m = (await procStatus(pid))?.match(/^VmHWM:\s+(\d+)\s+kB/m);
  return m ? Number(m[1]) : undefined;
}

/** Reads the real, effective, saved and filesystem uids of `pid`. */
export async function processUids(pid: number): Promise<number[] | undefined> {
  const m = (await procStatus(pid))?.match(/^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m);
  return m ? m.slice(1, 5).map(Number) : undefined;
}

async function procStatus(pid: number): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(`/proc/${pid}/status`);
  } catch {
    return undefined;
  }
}
