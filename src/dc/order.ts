/**
 * The one order on DCs: which of two signed configs a node runs.
 *
 * A DC is newer when its certificate's NotBefore (the signing time, whole seconds) is later.
 * Two DCs signed in the same second are ordered by the SHA-256 of their content: the one whose
 * lower-case hex hash is greater (byte-wise, as unsigned big-endian numbers) is the newer. So
 * every node that sees both ends with the same one, whatever the order they arrived in. Two
 * DCs with the same time and the same content are equal (they only differ in the signing key,
 * and say the same thing): neither replaces the other.
 *
 * The Go vmesh (and this one before the tie-break) kept whichever of two same-second DCs it
 * saw first, so a mesh could end split between them.
 * @module
 */

/** What orders a DC: its signing time and its content hash. */
export interface DcRank {
  /** Signing time (the certificate's NotBefore), as a Date or in ms since the epoch. */
  readonly notBefore: Date | number;
  /** Lower-case hex SHA-256 of the content (64 digits). */
  readonly contentHash: string;
}

function ms(t: Date | number): number {
  return typeof t === "number" ? t : t.getTime();
}

/**
 * Orders DCs, older first: by signing time, then by content hash (the greater hash is the
 * newer). Zero only for the same time and the same content.
 * @returns negative, zero or positive.
 */
export function compareDc(a: DcRank, b: DcRank): number {
  const d = ms(a.notBefore) - ms(b.notBefore);
  if (d !== 0) return d;
  const x = a.contentHash.toLowerCase();
  const y = b.contentHash.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * True when `candidate` should replace `current` ({@link compareDc} says it is strictly
 * newer). Any DC is newer than none.
 */
export function isNewer(candidate: DcRank, current?: DcRank): boolean {
  return current === undefined || compareDc(candidate, current) > 0;
}
