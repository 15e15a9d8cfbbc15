/**
 * A walk over a `Set` done a slice at a time: the router's periodic walks over every route of a
 * neighbour (expiry, a latency re-base) visit at most a bounded number of entries per call and
 * resume there, so 100 000 routes do not hold the event loop at once. Entries deleted during
 * the walk are skipped and entries added are visited (a `Set` iterator's rules). Internal to
 * `src/routing/`.
 * @module
 */

/** The walk's position. */
export class SetWalk<T> {
  #it: Iterator<T> | undefined;

  /** True between a {@link start} (or an unfinished {@link step}) and the end of the set. */
  get active(): boolean {
    return this.#it !== undefined;
  }

  /** Starts over at the set's first entry at the next {@link step}. */
  start(set: ReadonlySet<T>): void {
    this.#it = set.values();
  }

  /**
   * Visits up to `max` entries of `set`, from where the last step stopped (from the first
   * entry when no walk is under way).
   * @returns true when the walk reached the end of the set (the next step starts over)
   */
  step(set: ReadonlySet<T>, max: number, visit: (entry: T) => void): boolean {
    const it = this.#it ??= set.values();
    for (let n = 0; n < max; n++) {
      const r = it.next();
      if (r.done) {
        this.#it = undefined;
        return true;
      }
      visit(r.value);
    }
    return false;
  }
}
