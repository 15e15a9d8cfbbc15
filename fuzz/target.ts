/**
 * What a fuzz target is: valid seeds, a mutator, one function that feeds an input to a
 * decoder, and the decoder's documented errors. The contract every target checks: an input
 * either decodes (and, where the target says so, re-encodes to itself) or raises one of the
 * documented typed errors. Anything else — another exception, a hang, memory that keeps
 * growing — is a finding.
 * @module
 */
import type { Rng, Seed } from "./mutator.ts";

/** A decoder under fuzzing. */
export interface FuzzTarget {
  /** Short name for `--target` and reports. */
  readonly name: string;
  /** What it feeds, for `--list`. */
  readonly description: string;
  /** Builds the valid seeds (and any fixed state, e.g. a CA) once per run. */
  setup(): Promise<void>;
  /** The valid inputs mutations start from; available after {@link setup}. */
  seeds(): readonly Seed[];
  /** Makes one input; defaults to {@link mutate} over the seeds. */
  mutate?(rng: Rng, seeds: readonly Seed[]): Uint8Array;
  /**
   * Feeds one input. Returns normally when the decoder accepted or refused it with a
   * documented error (checked with {@link expectError}); throws anything else.
   * `rng` drives choices that are part of the input (e.g. the chunking of a stream).
   */
  run(input: Uint8Array, rng: Rng): void | Promise<void>;
}

/** A finding: the decoder broke its contract. */
export class ContractViolation extends Error {
  /** @param message what was broken */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ContractViolation";
  }
}

/**
 * Rethrows `e` unless it is an instance of one of `allowed` (and passes `check`, if given):
 * how targets say which errors their decoder documents.
 */
export function expectError(
  e: unknown,
  // deno-lint-ignore no-explicit-any
  allowed: readonly (abstract new (...args: any[]) => Error)[],
  check: (e: Error) => boolean = () => true,
): void {
  for (const cls of allowed) {
    if (e instanceof cls && check(e)) return;
  }
  throw e;
}

/** Throws a {@link ContractViolation} unless `a` and `b` hold the same bytes. */
export function expectSameBytes(a: Uint8Array, b: Uint8Array, what: string): void {
  if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
    throw new ContractViolation(`${what}: re-encoding the decoded value gives different bytes`);
  }
}
