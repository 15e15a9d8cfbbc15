/**
 * The error of config loading: every problem at once.
 * @module
 */

/** A config (or the files it names) has problems; `problems` lists every one of them. */
export class ConfigError extends Error {
  /** Each problem as "json.path: what is wrong", in file order. */
  readonly problems: readonly string[];
  /** Non-fatal findings (unknown keys, ...) seen before giving up. */
  readonly warnings: readonly string[];

  /** Creates the error; `options.cause` keeps the underlying error. */
  constructor(
    source: string,
    problems: readonly string[],
    warnings: readonly string[] = [],
    options?: ErrorOptions,
  ) {
    const n = problems.length;
    super(
      `${source}: ${n} problem${n === 1 ? "" : "s"}:\n${
        problems.map((p) => `  - ${p}`).join("\n")
      }`,
      options,
    );
    this.name = "ConfigError";
    this.problems = problems;
    this.warnings = warnings;
  }
}
