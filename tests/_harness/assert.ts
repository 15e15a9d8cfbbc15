/**
 * Small assertion helpers (JSR's @std/assert is not reachable from this project's machines).
 * @module
 */
import { deepStrictEqual, notDeepStrictEqual } from "node:assert";

/** Asserts deep equality, with a readable diff on failure. */
export function assertEquals<T>(actual: unknown, expected: T, msg?: string): void {
  deepStrictEqual(actual, expected, msg);
}

/** Asserts deep inequality. */
export function assertNotEquals(actual: unknown, expected: unknown, msg?: string): void {
  notDeepStrictEqual(actual, expected, msg);
}

/** Asserts a truthy value. */
export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}

/** Asserts that `text` contains `part`. */
export function assertStringIncludes(text: string, part: string, msg?: string): void {
  if (!text.includes(part)) {
    throw new Error(msg ?? `expected ${JSON.stringify(text)} to include ${JSON.stringify(part)}`);
  }
}

type ErrorClass = abstract new (...args: any[]) => Error;

function checkError(e: unknown, cls?: ErrorClass, includes?: string): Error {
  if (!(e instanceof Error)) throw new Error(`expected an Error, got ${String(e)}`);
  if (cls && !(e instanceof cls)) {
    const err: Error = e;
    throw new Error(`expected ${cls.name}, got ${err.constructor.name}: ${err.message}`);
  }
  if (includes && !e.message.includes(includes)) {
    throw new Error(`expected message to include "${includes}", got: ${e.message}`);
  }
  return e;
}

/** Asserts that `fn` throws (optionally an instance of `cls` whose message includes `includes`). */
export function assertThrows(fn: () => unknown, cls?: ErrorClass, includes?: string): Error {
  try {
    fn();
  } catch (e) {
    return checkError(e, cls, includes);
  }
  throw new Error("expected function to throw");
}

/** Async version of {@link assertThrows}. */
export async function assertRejects(
  fn: () => Promise<unknown>,
  cls?: ErrorClass,
  includes?: string,
): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    return checkError(e, cls, includes);
  }
  throw new Error("expected promise to reject");
}
