/**
 * The DC protocol over peer sessions.
 *
 * When a session comes up, and every 30 s after, each side sends a DC offer (`DcOffer`: the
 * signing time and content hash of the DC it runs, see `src/dc/offer.ts`). A side whose own
 * DC is newer than the offer it receives ({@link isNewer}) answers with the whole DC: in one
 * `Dc` frame when it fits, else as `DcChunk` frames (`src/dc/transfer.ts`). A node that
 * accepts a newer DC pushes it at once to all its other peers. A peer's offers get the same DC
 * again at most once a minute, so a peer repeating stale offers cannot make us stream it.
 *
 * Hostile input: a malformed offer or a chunk that breaks the transfer rules throws (the node
 * closes that session); a transfer left unfinished is found by {@link DcGossip.tick} and closes
 * that session. Chunked transfers under way hold at most {@link DC_REASSEMBLY_BUDGET} bytes
 * over all sessions together: a transfer that starts beyond it is followed but not kept (the
 * peer sends that DC again on a later offer), so peers that each start a 1 MiB transfer cannot
 * add up to more. A DC that fails verification is only counted (`DcSync`).
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { DcReassembler, decodeDcOffer, encodeDcChunks, isNewer, MAX_DC_BYTES } from "../dc/mod.ts";
import { FrameType, MAX_FRAME_PAYLOAD } from "../session/mod.ts";
import type { DcSync, DcVersion } from "./dc_sync.ts";

const log = getLogger(["vmesh", "dc"]);

/** A peer's offers get the same DC again at most this often. */
export const DC_RESEND_MS = 60_000;

/** Bytes that chunked DC transfers under way may hold, over all sessions (four 1 MiB DCs). */
export const DC_REASSEMBLY_BUDGET = 4 * MAX_DC_BYTES;

/** What the DC protocol needs of a session (a `Session` is one). */
export interface DcPeer {
  /** The authenticated peer. */
  readonly peer: { readonly name: string };
  /** Queues a control frame; false when the session is closing. */
  sendControl(type: number, payload: Uint8Array): boolean;
  /** Closes the session for a protocol error. */
  close(reason: string, code: "malformed-frame"): void;
}

interface PeerState {
  readonly assembly: DcReassembler;
  sent: { hash: string; at: number } | undefined;
}

/** Runs the DC protocol with every open session. */
export class DcGossip<T extends DcVersion> {
  readonly #peers = new Map<DcPeer, PeerState>();
  #chunks: { raw: Uint8Array; chunks: Uint8Array[] } | undefined;
  /** Counters. */
  readonly stats = { chunkedSent: 0, chunkedReceived: 0, transferErrors: 0, transfersDeclined: 0 };
  readonly #budget: number;

  /**
   * @param sync the node's DC state
   * @param now monotonic milliseconds (the node's clock)
   * @param budget bytes chunked transfers may hold over all sessions (tests)
   */
  constructor(
    private readonly sync: DcSync<T>,
    private readonly now: () => number,
    budget: number = DC_REASSEMBLY_BUDGET,
  ) {
    this.#budget = budget;
  }

  /** Bytes the chunked transfers under way hold, over all sessions. */
  holding(): number {
    let held = 0;
    for (const st of this.#peers.values()) held += st.assembly.holding;
    return held;
  }

  /** A session came up: offer our DC. */
  peerUp(p: DcPeer): void {
    this.#state(p);
    p.sendControl(FrameType.DcOffer, this.sync.offer());
  }

  /** A session went down: forget its transfer. */
  peerDown(p: DcPeer): void {
    this.#peers.delete(p);
  }

  /** Offers our DC to every peer (the periodic re-offer). */
  offerToAll(): void {
    const offer = this.sync.offer();
    for (const p of this.#peers.keys()) p.sendControl(FrameType.DcOffer, offer);
  }

  /**
   * A `DcOffer` frame.
   * @throws {DcError} when it is malformed (close the session)
   */
  onOffer(p: DcPeer, payload: Uint8Array): void {
    const offer = decodeDcOffer(payload);
    const current = this.sync.current;
    if (current !== undefined && isNewer(current, offer)) this.#send(p, current, false);
  }

  /** A `Dc` frame: a whole DC (verified in the background; never throws). */
  onDc(p: DcPeer, payload: Uint8Array): void {
    void this.sync.receive(payload.slice(), p.peer.name);
  }

  /**
   * A `DcChunk` frame.
   * @throws {DcError} "bad_transfer" when it breaks the transfer rules (close the session)
   */
  onChunk(p: DcPeer, payload: Uint8Array): void {
    let whole: Uint8Array | undefined;
    try {
      whole = this.#state(p).assembly.push(payload, (total) => this.#admit(p, total));
    } catch (e) {
      this.stats.transferErrors++;
      throw e;
    }
    if (whole === undefined) return;
    this.stats.chunkedReceived++;
    void this.sync.receive(whole, p.peer.name);
  }

  /** Pushes a newly accepted DC to every peer but the one it came from. */
  push(dc: T, from: string | undefined): void {
    for (const p of this.#peers.keys()) {
      if (p.peer.name !== from) this.#send(p, dc, true);
    }
  }

  /** Closes the sessions whose DC transfer has not finished in time. */
  tick(): void {
    for (const [p, st] of this.#peers) {
      if (!st.assembly.timedOut()) continue;
      st.assembly.reset();
      this.stats.transferErrors++;
      log.warn("{peer} did not finish a DC transfer in time, closing", { peer: p.peer.name });
      p.close("DC transfer not finished in time", "malformed-frame");
    }
  }

  /** Whether a transfer of `total` bytes from `p` fits the budget with the others under way. */
  #admit(p: DcPeer, total: number): boolean {
    const held = this.holding();
    if (held + total <= this.#budget) return true;
    this.stats.transfersDeclined++;
    log.warn(
      "not keeping a {total}-byte DC transfer from {peer}: transfers under way hold {held} bytes " +
        "(at most {budget}); its next offer brings it again",
      { total, peer: p.peer.name, held, budget: this.#budget },
    );
    return false;
  }

  #state(p: DcPeer): PeerState {
    let st = this.#peers.get(p);
    if (st === undefined) {
      st = { assembly: new DcReassembler(this.now), sent: undefined };
      this.#peers.set(p, st);
    }
    return st;
  }

  #send(p: DcPeer, dc: T, force: boolean): void {
    const st = this.#state(p);
    const now = this.now();
    if (!force && st.sent?.hash === dc.contentHash && now - st.sent.at < DC_RESEND_MS) return;
    st.sent = { hash: dc.contentHash, at: now };
    try {
      if (dc.raw.length <= MAX_FRAME_PAYLOAD) {
        p.sendControl(FrameType.Dc, dc.raw);
        return;
      }
      if (this.#chunks?.raw !== dc.raw) {
        this.#chunks = { raw: dc.raw, chunks: encodeDcChunks(dc.raw) };
      }
      for (const c of this.#chunks.chunks) {
        if (!p.sendControl(FrameType.DcChunk, c)) return;
      }
      this.stats.chunkedSent++;
    } catch (e) {
      log.error("cannot send the DC to {peer}: {error}", { peer: p.peer.name, error: `${e}` });
    }
  }
}
