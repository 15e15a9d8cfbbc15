/**
 * Distributed-config state of a node: which DC it runs, its persistence in `state_dir`, its
 * expiry, and the verification of DCs that arrive (the peer protocol is in `dc_gossip.ts`).
 *
 * - Order: one rule, `isNewer` from `src/dc` (signing time, then content hash).
 * - Verification: at most one DC per peer is verified at a time and one waits; a DC that
 *   arrives while another from the same peer waits replaces it (counted as superseded), so a
 *   peer that floods DCs costs one verification at a time and two DCs of memory.
 * - Expiry: a DC whose certificate has expired stays in force, across restarts too, until a
 *   newer one arrives; nothing falls back to "no filter" because a DC aged. From
 *   {@link EXPIRY_WARNING_MS} before the end date the node warns in its log, at most once a
 *   day ({@link DcSync.tick}).
 * - `state_dir/dc.bin`: see `dc_state_file.ts`. At start a suspect or invalid file stops the
 *   node ({@link DcStateError}); while running the file is checked on each tick, and one that
 *   no longer holds the DC in force is reported and rewritten (a newer valid DC found there is
 *   taken instead).
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { encodeDcOffer, isNewer, NO_DC_OFFER } from "../dc/mod.ts";
import { bytesEqual } from "../net/mod.ts";
import { writeFileAtomic } from "./atomic_write.ts";
import { DcStateError, defaultOwners, readStateFile } from "./dc_state_file.ts";

const log = getLogger(["vmesh", "dc"]);

/** From this long before its certificate's end date, the DC in force is warned about. */
export const EXPIRY_WARNING_MS = 30 * 86_400_000;
/** The expiry warning is logged at most this often. */
export const EXPIRY_WARNING_EVERY_MS = 86_400_000;

/** The parts of a verified DC that synchronisation needs. */
export interface DcVersion {
  /** Signing time; orders DCs together with the content hash. */
  readonly notBefore: Date;
  /** The end date of the DC certificate. */
  readonly notAfter: Date;
  /** Lower-case hex SHA-256 of the content. */
  readonly contentHash: string;
  /** The whole DC in canonical form (what is persisted and gossiped). */
  readonly raw: Uint8Array;
}

/** Verifies DC bytes (signature chain, hash, content). Throws with the reason. */
export type DcVerifier<T extends DcVersion> = (raw: Uint8Array) => Promise<T>;

/**
 * What became of a DC that arrived from a peer: `superseded` when a later DC from the same
 * peer arrived before this one's verification started (the later one is verified instead).
 */
export type DcReceiveResult = "accepted" | "not_newer" | "invalid" | "superseded";

/** Expiry of the DC in force, for `status` and `dc current`. */
export interface DcExpiry {
  /** The DC certificate's end date. */
  readonly expiresAt: Date;
  /** Whether it has passed (the DC is still enforced). */
  readonly expired: boolean;
  /** Whether the node warns about it (within {@link EXPIRY_WARNING_MS}, or expired). */
  readonly warning: boolean;
}

/** Options of {@link DcSync}. */
export interface DcSyncOptions {
  /** Wall-clock time in ms since the epoch (default `Date.now`), for expiry. */
  wallNow?: () => number;
  /** User IDs `dc.bin` may belong to (default: the process's and root). */
  owners?: Iterable<number>;
}

/** A peer's DC verification in progress, and the DC waiting behind it. */
interface PeerQueue {
  next: { raw: Uint8Array; done: (r: DcReceiveResult) => void } | undefined;
}

/** Holds the node's current DC; persists and verifies. */
export class DcSync<T extends DcVersion> {
  #current: T | undefined;
  #failedPeers = new Set<string>();
  #writes: Promise<void> = Promise.resolve();
  #lastExpiryWarning = -Infinity;
  #checkingFile = false;
  #lastFileProblem = "";
  readonly #verifying = new Map<string, PeerQueue>();
  readonly #wallNow: () => number;
  readonly #owners: Set<number>;
  /** Counters. */
  readonly stats = {
    accepted: 0,
    notNewer: 0,
    invalid: 0,
    superseded: 0,
    expiryWarnings: 0,
    stateFileProblems: 0,
  };

  /**
   * @param verify checks a DC file
   * @param statePath where the current DC is persisted (`<state_dir>/dc.bin`)
   * @param onAccept called with each newly accepted DC (re-filter routes, push to peers)
   * @param opts clock and file owners
   */
  constructor(
    private readonly verify: DcVerifier<T>,
    private readonly statePath: string,
    private readonly onAccept: (dc: T, from: string | undefined) => void,
    opts: DcSyncOptions = {},
  ) {
    this.#wallNow = opts.wallNow ?? Date.now;
    this.#owners = opts.owners ? new Set(opts.owners) : defaultOwners();
  }

  /** The DC this node runs, if any. */
  get current(): T | undefined {
    return this.#current;
  }

  /** Lets `dc.bin` belong to `uid` too (the user the node drops its privileges to). */
  allowOwner(uid: number): void {
    this.#owners.add(uid);
  }

  /** The offer for the current DC ({@link NO_DC_OFFER} when the node has none). */
  offer(): Uint8Array {
    return encodeDcOffer(this.#current ?? NO_DC_OFFER);
  }

  /** Whether a peer's offer shows that our DC is newer (then send it the whole DC). */
  shouldSendTo(offer: { notBefore: number; contentHash: string }): boolean {
    return this.#current !== undefined && isNewer(this.#current, offer);
  }

  /** Expiry of the DC in force (undefined without one). */
  expiry(): DcExpiry | undefined {
    const dc = this.#current;
    if (dc === undefined) return undefined;
    const now = this.#wallNow();
    const end = dc.notAfter.getTime();
    return {
      expiresAt: dc.notAfter,
      expired: now > end,
      warning: now >= end - EXPIRY_WARNING_MS,
    };
  }

  /**
   * Loads the persisted DC (if any). A missing file is normal. A file that is suspect (see
   * `dc_state_file.ts`) or does not verify stops the start: the node does not run with less
   * filtering than its last DC. An expired DC is loaded (and warned about).
   * @throws {DcStateError} naming the file and what is wrong
   */
  async loadPersisted(): Promise<void> {
    const f = await readStateFile(this.statePath, this.#owners);
    if (f.kind === "missing") return;
    if (f.kind === "suspect") throw new DcStateError(this.statePath, f.problem);
    let dc: T;
    try {
      dc = await this.verify(f.raw);
    } catch (e) {
      throw new DcStateError(
        this.statePath,
        `it does not hold a valid DC (${e instanceof Error ? e.message : String(e)})`,
      );
    }
    await this.#adopt(dc, undefined, !bytesEqual(dc.raw, f.raw));
    log.info("loaded persisted DC signed {time}", { time: dc.notBefore.toISOString() });
  }

  /**
   * Applies a DC given by the operator (`--initial-dc`). Throws with the reason when it does
   * not verify; returns false when it is not newer than the one the node has.
   */
  async applyInitial(raw: Uint8Array): Promise<boolean> {
    return await this.applyVerified(await this.verify(raw));
  }

  /**
   * Applies a DC the caller verified (`vmesh dc apply`): adopted, persisted and pushed to the
   * peers when it is newer than the one in force; false (and nothing done) when it is not.
   */
  async applyVerified(dc: T): Promise<boolean> {
    if (!isNewer(dc, this.#current)) return false;
    await this.#adopt(dc, undefined, true);
    return true;
  }

  /**
   * Handles a whole DC received from peer `from` (its name: the key of the per-peer queue and
   * the name in logs). Keeps `raw`: pass a copy of a buffer that is reused. Verifies one DC
   * per peer at a time (see the module doc). Never rejects.
   */
  receive(raw: Uint8Array, from: string): Promise<DcReceiveResult> {
    const busy = this.#verifying.get(from);
    if (busy !== undefined) {
      if (busy.next !== undefined) {
        this.stats.superseded++;
        busy.next.done("superseded");
      }
      const { promise, resolve } = Promise.withResolvers<DcReceiveResult>();
      busy.next = { raw, done: resolve };
      return promise;
    }
    const queue: PeerQueue = { next: undefined };
    this.#verifying.set(from, queue);
    return this.#drain(raw, from, queue);
  }

  /**
   * Periodic duties (the node calls it every few seconds): the expiry warning, and the check
   * of `dc.bin` against the DC in force.
   */
  async tick(): Promise<void> {
    this.#checkExpiry();
    await this.checkStateFile();
  }

  /**
   * Compares `dc.bin` with the DC in force. A file that no longer holds it (removed, replaced,
   * suspect, invalid or older) is reported and rewritten; a newer valid DC found there (an
   * operator copied one in) is adopted as if given with `--initial-dc`.
   */
  async checkStateFile(): Promise<void> {
    if (this.#checkingFile) return;
    this.#checkingFile = true;
    try {
      await this.#writes;
      const dc = this.#current;
      const f = await readStateFile(this.statePath, this.#owners);
      if (f.kind === "present" && dc !== undefined && bytesEqual(f.raw, dc.raw)) {
        this.#lastFileProblem = "";
        return;
      }
      if (f.kind === "missing" && dc === undefined) return;
      let problem: string;
      if (f.kind === "missing") problem = "it was removed";
      else if (f.kind === "suspect") problem = f.problem;
      else {
        const found = await this.verify(f.raw).catch((e: unknown) =>
          `it does not hold a valid DC (${e instanceof Error ? e.message : e})`
        );
        if (this.#current !== dc) return; // changed meanwhile: look again next tick
        if (typeof found === "string") problem = found;
        else if (isNewer(found, dc)) {
          log.warn("{path} holds a newer DC than the one in force: adopting it", {
            path: this.statePath,
          });
          await this.#adopt(found, undefined, !bytesEqual(found.raw, f.raw));
          return;
        } else if (bytesEqual(found.raw, dc!.raw)) {
          problem = "it holds the DC in force in another encoding";
        } else {
          problem = `it holds a DC signed ${found.notBefore.toISOString()}, not newer than ` +
            "the one in force";
        }
      }
      if (this.#current !== dc) return;
      this.stats.stateFileProblems++;
      const message = `${problem}; ` +
        (dc ? `restoring the DC in force (signed ${dc.notBefore.toISOString()})` : "ignored");
      if (message !== this.#lastFileProblem) {
        this.#lastFileProblem = message;
        log.warn("{path} was changed by something other than vmesh: {message}", {
          path: this.statePath,
          message,
        });
      }
      if (dc !== undefined) await this.#persist(dc, true);
    } finally {
      this.#checkingFile = false;
    }
  }

  #checkExpiry(): void {
    const e = this.expiry();
    if (e === undefined || !e.warning) return;
    const now = this.#wallNow();
    if (now - this.#lastExpiryWarning < EXPIRY_WARNING_EVERY_MS) return;
    this.#lastExpiryWarning = now;
    this.stats.expiryWarnings++;
    const at = e.expiresAt.toISOString();
    if (e.expired) {
      log.warn(
        "the DC certificate expired at {at}; its whitelist stays in force until a newer DC " +
          "arrives: sign one with `vmesh sign`",
        { at },
      );
    } else {
      const days = Math.floor((e.expiresAt.getTime() - now) / 86_400_000);
      log.warn("the DC certificate expires at {at} (in {days} day(s)): sign a new DC", {
        at,
        days,
      });
    }
  }

  async #drain(raw: Uint8Array, from: string, queue: PeerQueue): Promise<DcReceiveResult> {
    try {
      const result = await this.#receiveOne(raw, from);
      for (let n = queue.next; n !== undefined; n = queue.next) {
        queue.next = undefined;
        n.done(await this.#receiveOne(n.raw, from));
      }
      return result;
    } finally {
      this.#verifying.delete(from);
    }
  }

  async #receiveOne(raw: Uint8Array, from: string): Promise<DcReceiveResult> {
    let dc: T;
    try {
      dc = await this.verify(raw);
    } catch (e) {
      this.stats.invalid++;
      if (!this.#failedPeers.has(from)) {
        this.#failedPeers.add(from);
        log.warn("DC from {peer} does not verify (further failures from it not logged): {error}", {
          peer: from,
          error: e instanceof Error ? e.message : String(e),
        });
      }
      return "invalid";
    }
    if (!isNewer(dc, this.#current)) {
      this.stats.notNewer++;
      return "not_newer";
    }
    await this.#adopt(dc, from, true);
    return "accepted";
  }

  async #adopt(dc: T, from: string | undefined, persist: boolean): Promise<void> {
    // Applied at once and in acceptance order; only then persisted. (Persisting first let a
    // slower write of an older DC finish after a newer DC was adopted, so the older whitelist
    // was applied last, and `current` named a DC whose whitelist was not yet in force.)
    this.#current = dc;
    this.stats.accepted++;
    log.info("running DC signed {time} (hash {hash}){from}", {
      time: dc.notBefore.toISOString(),
      hash: dc.contentHash.slice(0, 16),
      from: from ? ` from ${from}` : "",
    });
    try {
      this.onAccept(dc, from);
    } catch (e) {
      // A bug in the node's handler; it must not leave a promise rejected that nobody awaits
      // (receive() runs unawaited from a frame callback) nor stop the DC being persisted.
      log.error("applying the DC failed: {error}", { error: e instanceof Error ? e.stack : e });
    }
    this.#checkExpiry();
    if (persist) await this.#persist(dc);
  }

  /** Writes `dc` unless a newer one replaced it meanwhile; writes never overlap. */
  #persist(dc: T, restore = false): Promise<void> {
    this.#writes = this.#writes.then(async () => {
      if (this.#current !== dc) return; // the newer DC's own write is queued after this one
      try {
        if (restore) await Deno.remove(this.statePath, { recursive: true }).catch(() => {});
        await writeFileAtomic(this.statePath, dc.raw, 0o600);
      } catch (e) {
        log.error("cannot persist DC to {path}: {error} (it stays in memory)", {
          path: this.statePath,
          error: `${e}`,
        });
      }
    });
    return this.#writes;
  }
}
