/**
 * Shared CLI plumbing: argument parsing with Go-style flags, usage errors, exit codes, safe
 * file writing.
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** Exit codes of every command. */
export const Exit = { ok: 0, failure: 1, usage: 2 } as const;

/** A command line that cannot be understood: exit code 2 with the command's help hint. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A runtime failure with a message for the user: exit code 1. */
export class CliFailure extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CliFailure";
  }
}

/** One subcommand. */
export interface Command {
  /** "cert ca", "sign", ... */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Full help text (usage, options, examples). */
  readonly help: string;
  /** Runs the command; returns the exit code. Throws UsageError / CliFailure. */
  run(args: string[]): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Rewrites Go-style single-dash long flags ("-config", "-config=path") into "--config" for
 * the long options this command knows. Stops at "--".
 */
export function normalizeGoFlags(args: readonly string[], options: Options): string[] {
  const out: string[] = [];
  let rest = false;
  for (const a of args) {
    if (rest || a === "--") {
      rest = true;
      out.push(a);
      continue;
    }
    const m = a.match(/^-([A-Za-z][A-Za-z0-9-]+)(=.*)?$/);
    if (m && m[1] in options) out.push(`--${m[1]}${m[2] ?? ""}`);
    else out.push(a);
  }
  return out;
}

/**
 * Parses `args` strictly (unknown options are usage errors), with `--help`/`-h` added.
 * @returns values and positionals, or "help" when help was asked for.
 * @throws {UsageError}
 */
export function parse<O extends Options>(
  args: readonly string[],
  options: O,
  opts: { positionals?: number } = {},
) {
  const all = { ...options, help: { type: "boolean", short: "h" } } as const;
  let parsed;
  try {
    parsed = parseArgs({
      args: normalizeGoFlags(args, all),
      options: all,
      strict: true,
      allowPositionals: (opts.positionals ?? 0) > 0,
    });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional.*$/s, ""));
  }
  if (parsed.positionals.length > (opts.positionals ?? 0)) {
    throw new UsageError(`unexpected argument "${parsed.positionals[opts.positionals ?? 0]}"`);
  }
  return parsed as {
    values: { [K in keyof O]?: O[K]["type"] extends "boolean" ? boolean : string } & {
      help?: boolean;
    };
    positionals: string[];
  };
}

/** Returns the value or throws a usage error naming the missing flag. */
export function required(v: string | undefined, flag: string): string {
  if (v === undefined || v === "") throw new UsageError(`missing required option ${flag}`);
  return v;
}

/** Parses a positive integer option. */
export function positiveInt(v: string | undefined, flag: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 1_000_000) {
    throw new UsageError(`${flag} must be a positive whole number, got "${v}"`);
  }
  return Number(v);
}

/** True when a path exists (any kind). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Writes files, refusing to overwrite any of them unless `force`; checks all before writing
 * any. Each file has its mode (keys 0600).
 * @throws {CliFailure} when a file exists (without force) or a write fails.
 */
export async function writeFiles(
  files: readonly { path: string; data: string | Uint8Array; mode: number }[],
  force: boolean,
): Promise<void> {
  if (!force) {
    const there = [];
    for (const f of files) if (await exists(f.path)) there.push(f.path);
    if (there.length) {
      throw new CliFailure(`refusing to overwrite ${there.join(", ")} (use --force)`);
    }
  }
  for (const f of files) {
    try {
      const data = typeof f.data === "string" ? new TextEncoder().encode(f.data) : f.data;
      if (force && await exists(f.path)) await Deno.remove(f.path);
      await Deno.writeFile(f.path, data, { mode: f.mode, createNew: true });
      await Deno.chmod(f.path, f.mode);
    } catch (e) {
      throw new CliFailure(`cannot write ${f.path}: ${(e as Error).message}`, { cause: e });
    }
  }
}

/** Reads a text file or fails with a message naming what it is. */
export async function readTextFor(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    throw new CliFailure(`cannot read ${what} ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Prints a command's help; exit 0. */
export function help(c: Command): number {
  console.log(c.help);
  return Exit.ok;
}
