/**
 * Byte-array assertions that stay fast on large inputs (`assertEquals` diffs element by element,
 * which takes minutes on a DC of 100 kB or more).
 * @module
 */

/** Throws unless `actual` and `expected` hold the same bytes, naming the first difference. */
export function assertBytes(
  actual: Uint8Array | undefined,
  expected: Uint8Array,
  msg = "bytes differ",
): void {
  if (actual === undefined) throw new Error(`${msg}: got undefined`);
  const n = Math.min(actual.length, expected.length);
  let i = 0;
  while (i < n && actual[i] === expected[i]) i++;
  if (i === n && actual.length === expected.length) return;
  throw new Error(
    `${msg}: ${actual.length} bytes vs ${expected.length} expected, first difference at ${i}`,
  );
}
