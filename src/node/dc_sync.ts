/**
 * Distributed-config synchronisation: which DC this node runs, where it is persisted, and
 * what to send to peers.
 *
 * Protocol (over the peer session): when a session comes up, and every 30 s after, each side
 * sends a DC offer — the NotBefore (ms since the epoch) and SHA-256 of the content of the DC
 * it runs. A side whose own DC is strictly newer than the offer it receives answers with the
 * whole DC. A node that accepts a newer DC persists it and pushes it to all its other peers at
 * once. Older or equal DCs are ignored quietly; a DC that fails verification is counted and
 * logged once per peer. Each peer has at most one DC being verified and one waiting: a DC that
 * arrives while another from the same peer waits replaces it (counted as superseded), so a
 * peer that floods DC frames costs one verification at a time and two DCs of memory.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { writeFileAtomic } from "./atomic_write.ts";

const log = getLogger(["vmesh", "dc"]);

/** The parts of a verified DC that synchronisation needs. */
export interface DcVersion {
  /** Signing time; the newer DC has the strictly later one. */
  readonly notBefore: Date;
  /** Lower-case hex SHA-256 of the content. */
  readonly contentHash: string;
  /** The whole DC file as signed. */
  readonly raw: Uint8Array;
}

/** Verifies DC bytes (signature chain, hash, content). Throws with the reason. */
export type DcVerifier<T extends DcVersion> = (raw: Uint8Array) => Promise<T>;

/** An offer as sent on the wire: 8 bytes NotBefore (ms, big-endian) + 32 bytes hash. */
export const DC_OFFER_LEN = 40;

/** Encodes the offer for `dc`. */
export function encodeDcOffer(dc: DcVersion): Uint8Array {
  const out = new Uint8Array(DC_OFFER_LEN);
  new DataView(out.buffer).setBigUint64(0, BigInt(dc.notBefore.getTime()));
  out.set(Uint8Array.fromHex(dc.contentHash), 8);
  return out;
}

/** A decoded offer. */
export interface DcOffer {
  notBefore: number;
  contentHash: string;
}

/** Decodes an offer. @throws {RangeError} when it is not 40 bytes or the time is absurd. */
export function decodeDcOffer(payload: Uint8Array): DcOffer {
  if (payload.length !== DC_OFFER_LEN) {
    throw new RangeError(`DC offer must be ${DC_OFFER_LEN} bytes, got ${payload.length}`);
  }
  const t = new DataView(payload.buffer, payload.byteOffset, 8).getBigUint64(0);
  if (t > BigInt(8.64e15)) throw new RangeError("DC offer time is out of range");
  return { notBefore: Number(t), contentHash: payload.subarray(8).toHex() };
}

/** Whether `a` is strictly newer than `b` (later NotBefore; see the Go vnconfigsign rule). */
export function isNewer(a: { notBefore: number }, b: { notBefore: number } | undefined): boolean {
  return b === undefined || a.notBefore > b.notBefore;
}

/**
 * What became of a DC that arrived from a peer: `superseded` when a later DC from the same
 * peer arrived before this one's verification started (the later one is verified instead).
 */
export type DcReceiveResult = "accepted" | "not_newer" | "invalid" | "superseded";

/** A peer's DC verification in progress, and the DC waiting behind it. */
interface PeerQueue {
  next: { raw: Uint8Array; done: (r: DcReceiveResult) => void } | undefined;
}

/** Holds the node's current DC; persists and verifies. */
export class DcSync<T extends DcVersion> {
  #current: T | undefined;
  #failedPeers = new Set<string>();
  #writes: Promise<void> = Promise.resolve();
  readonly #verifying = new Map<string, PeerQueue>();
  /** Counters. */
  readonly stats = { accepted: 0, notNewer: 0, invalid: 0, superseded: 0 };

  /**
   * @param verify checks a DC file
   * @param statePath where the current DC is persisted (`<state_dir>/dc.bin`)
   * @param onAccept called with each newly accepted DC (re-filter routes, push to peers)
   */
  constructor(
    private readonly verify: DcVerifier<T>,
    private readonly statePath: string,
    private readonly onAccept: (dc: T, from: string | undefined) => void,
  ) {}

  /** The DC this node runs, if any. */
  get current(): T | undefined {
    return this.#current;
  }

  /** The offer for the current DC, or undefined when the node has none. */
  offer(): Uint8Array | undefined {
    return this.#current ? encodeDcOffer(this.#current) : undefined;
  }

  /**
   * Loads the persisted DC (if any). A missing file is normal; an unreadable or invalid one is
   * logged and ignored (the node then waits for a peer or --initial-dc).
   */
  async loadPersisted(): Promise<void> {
    let raw: Uint8Array;
    try {
      raw = await Deno.readFile(this.statePath);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      log.warn("cannot read persisted DC {path}: {error}", { path: this.statePath, error: `${e}` });
      return;
    }
    try {
      await this.#adopt(await this.verify(raw), undefined, false);
      log.info("loaded persisted DC signed {time}", { time: this.#current!.notBefore });
    } catch (e) {
      log.warn("persisted DC {path} does not verify, ignoring it: {error}", {
        path: this.statePath,
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }

  /**
   * Applies a DC given by the operator (`--initial-dc`). Throws with the reason when it does
   * not verify; returns false when it is not newer than the one the node has.
   */
  async applyInitial(raw: Uint8Array): Promise<boolean> {
    const dc = await this.verify(raw);
    if (!isNewer(asOffer(dc), this.#current && asOffer(this.#current))) return false;
    await this.#adopt(dc, undefined, true);
    return true;
  }

  /** Whether a peer's offer shows that our DC is newer (then send it the whole DC). */
  shouldSendTo(offer: DcOffer): boolean {
    return this.#current !== undefined && isNewer(asOffer(this.#current), offer);
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
    if (!isNewer(asOffer(dc), this.#current && asOffer(this.#current))) {
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
    if (persist) await this.#persist(dc);
  }

  /** Writes `dc` unless a newer one replaced it meanwhile; writes never overlap. */
  #persist(dc: T): Promise<void> {
    this.#writes = this.#writes.then(async () => {
      if (this.#current !== dc) return; // the newer DC's own write is queued after this one
      try {
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

function asOffer(dc: DcVersion): DcOffer {
  return { notBefore: dc.notBefore.getTime(), contentHash: dc.contentHash };
}
