/**
 * The node-info protocol over peer sessions: how a node learns the names of the nodes in its
 * routes' paths. Pull, not push: a certificate crosses a link only when the node on the far
 * side has that node in a path and does not know it yet.
 *
 * - Every hop of every route announcement from a neighbour P whose ID the node book does not
 *   hold becomes a *want*, to be asked of P (P announced a path through it, so P is the node
 *   most likely to know it; P asks its own neighbour the same way).
 * - {@link NodeInfoGossip.pump} sends `NodeInfoRequest` frames of up to 64 IDs to peers that
 *   announced the `NodeInfo` feature bit (an older peer never sees the frames); at most 64 IDs
 *   are outstanding per peer, and at most {@link ASK_PER_SECOND} requests a second.
 * - A peer answers from its book (this node's own certificate included) with `NodeInfo` frames:
 *   a certificate per ID, or an empty entry for a node it does not know (yet). It answers at
 *   most {@link ANSWER_PER_SECOND} requests a second per session (bursts of
 *   {@link ANSWER_BURST}); further requests are ignored and counted.
 * - An ID answered as unknown that the answering node is asking about itself is *deferred*: once
 *   it learns that certificate it sends it on at once (a `NodeInfo` frame of one entry), so a
 *   name crosses a chain at the speed of the requests, not of the retry backoff. At most
 *   {@link MAX_DEFERRED_PER_PEER} per peer.
 * - Only entries for IDs outstanding at that peer, or wanted from it (a deferred answer), are
 *   looked at; anything else is counted as unsolicited and dropped unread. Each certificate goes through {@link NodeBook.admit}
 *   (checked as a peer's certificate; its ID must be the one asked for). An unknown or refused
 *   ID is asked again later with exponential backoff (from 1 s, resp. 60 s, up to 10 min); an
 *   unanswered one after {@link REQUEST_TIMEOUT_MS}.
 *
 * Hostile input: a malformed request or info payload throws `NodeInfoWireError` (the node
 * closes that session); a certificate that fails the checks is only refused and counted. Wants
 * are capped at {@link MAX_WANTS} in total and {@link MAX_WANTS_PER_PEER} per neighbour.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { type Clock, RateLimit } from "../clock/mod.ts";
import {
  type AdmitResult,
  decodeNodeInfo,
  decodeNodeInfoRequest,
  encodeNodeInfo,
  encodeNodeInfoRequest,
  MAX_NODE_CERT_BYTES,
  MAX_NODE_INFO_IDS,
  type NodeBook,
  type NodeInfoEntry,
} from "../names/mod.ts";
import type { PeerId } from "../pki/mod.ts";
import type { Route } from "../routing/mod.ts";
import { Feature, FrameType } from "../session/mod.ts";

const log = getLogger(["vmesh", "names"]);

/** An unanswered ID is asked again after this long. */
export const REQUEST_TIMEOUT_MS = 5_000;
/** First retry delay for an ID the peer did not know. */
export const UNKNOWN_RETRY_MS = 1_000;
/** First retry delay for an ID whose certificate was refused. */
export const REFUSED_RETRY_MS = 60_000;
/** Longest retry delay. */
export const MAX_RETRY_MS = 600_000;
/** Cap on IDs waiting to be asked, in total. */
export const MAX_WANTS = 4096;
/** Cap on IDs waiting to be asked of one neighbour. */
export const MAX_WANTS_PER_PEER = 1024;
/** Requests this node sends one peer per second (bursts of {@link ASK_BURST}). */
export const ASK_PER_SECOND = 4;
/** Burst of requests to one peer. */
export const ASK_BURST = 32;
/** Requests of one peer this node answers per second (twice what a peer of ours sends). */
export const ANSWER_PER_SECOND = 8;
/** Burst of requests answered per peer. */
export const ANSWER_BURST = 64;
/** Cap on IDs a peer asked for that this node will send on once it learns them. */
export const MAX_DEFERRED_PER_PEER = 256;

/** What the protocol needs of a session (a `Session` is one). */
export interface InfoPeer {
  /** The authenticated peer. */
  readonly peer: { readonly id: PeerId; readonly name: string };
  /** Feature bits of the peer's hello. */
  readonly peerFeatures: number;
  /** Queues a control frame; false when the session is closing. */
  sendControl(type: number, payload: Uint8Array): boolean;
}

interface PeerState {
  readonly session: InfoPeer;
  /** IDs asked of this peer and not answered yet, with when they were asked. */
  readonly outstanding: Map<PeerId, number>;
  /** IDs the peer asked for, unknown here then, that this node is asking about itself. */
  readonly deferred: Set<PeerId>;
  readonly ask: RateLimit;
  readonly answer: RateLimit;
  wants: number;
}

interface Want {
  from: PeerId;
  /** When to ask (Infinity while asked or being verified). */
  dueAt: number;
  tries: number;
}

/** Runs the node-info protocol with every open session. */
export class NodeInfoGossip {
  readonly #book: NodeBook;
  readonly #clock: Clock;
  readonly #peers = new Map<PeerId, PeerState>();
  readonly #wants = new Map<PeerId, Want>();
  readonly #logLimit: RateLimit;
  #due = false;
  /** Counters. */
  readonly stats = {
    requestsSent: 0,
    requestsAnswered: 0,
    requestsOverRate: 0,
    entriesSent: 0,
    entriesReceived: 0,
    unknownAnswers: 0,
    unsolicited: 0,
    timeouts: 0,
    learned: 0,
    refused: 0,
    wantsFull: 0,
    deferredSent: 0,
    deferredReceived: 0,
    /** Certificate checks that threw instead of refusing (a bug; logged as errors). */
    checkErrors: 0,
  };

  /**
   * @param book the node book (verification and storage)
   * @param clock the node's clock (rates, timeouts, backoff)
   */
  constructor(book: NodeBook, clock: Clock) {
    this.#book = book;
    this.#clock = clock;
    this.#logLimit = new RateLimit(clock, 1, 10);
  }

  /** The node book. */
  get book(): NodeBook {
    return this.#book;
  }

  /** IDs waiting to be asked or being asked. */
  get wanted(): number {
    return this.#wants.size;
  }

  /**
   * A session came up. A session that replaces one with the same peer (the session manager
   * reports no `peerDown` for the one it replaced) takes over its wants; what was asked on the
   * old session and not answered is due again at once.
   */
  peerUp(s: InfoPeer): void {
    const old = this.#peers.get(s.peer.id);
    if (old !== undefined) {
      for (const id of old.outstanding.keys()) {
        const w = this.#wants.get(id);
        if (w !== undefined && w.from === s.peer.id) w.dueAt = 0;
      }
      this.#due = true;
    }
    this.#peers.set(s.peer.id, {
      session: s,
      outstanding: new Map(),
      deferred: old?.deferred ?? new Set(),
      ask: new RateLimit(this.#clock, ASK_PER_SECOND, ASK_BURST),
      answer: new RateLimit(this.#clock, ANSWER_PER_SECOND, ANSWER_BURST),
      wants: old?.wants ?? 0,
    });
  }

  /** A session went down: forget what it was asked and what was to be asked of it. */
  peerDown(s: InfoPeer): void {
    const st = this.#peers.get(s.peer.id);
    if (st === undefined || st.session !== s) return;
    this.#peers.delete(s.peer.id);
    for (const [id, w] of this.#wants) if (w.from === s.peer.id) this.#wants.delete(id);
  }

  /**
   * Notes the hops of routes a neighbour announced: those not in the book are to be asked of
   * it. Costs two map lookups per hop.
   */
  noteRoutes(from: PeerId, routes: readonly Route[]): void {
    const st = this.#peers.get(from);
    if (st === undefined || (st.session.peerFeatures & Feature.NodeInfo) === 0) return;
    for (const r of routes) {
      for (const h of r.path) {
        if (this.#book.has(h.id) || this.#wants.has(h.id)) continue;
        if (this.#wants.size >= MAX_WANTS || st.wants >= MAX_WANTS_PER_PEER) {
          this.stats.wantsFull++;
          return;
        }
        this.#wants.set(h.id, { from, dueAt: 0, tries: 0 });
        st.wants++;
        this.#due = true;
      }
    }
  }

  /** Sends the requests that are due (cheap when nothing is: call it after every flush). */
  pump(): void {
    if (!this.#due) return;
    this.#due = false;
    const now = this.#clock.now();
    const batches = new Map<PeerId, PeerId[]>();
    for (const [id, w] of this.#wants) {
      if (w.dueAt > now) continue;
      const st = this.#peers.get(w.from);
      if (st === undefined) continue;
      const batch = batches.get(w.from) ?? [];
      if (st.outstanding.size + batch.length >= MAX_NODE_INFO_IDS) {
        this.#due = true; // the rest after answers arrive
        continue;
      }
      batch.push(id);
      batches.set(w.from, batch);
    }
    for (const [peerId, ids] of batches) {
      const st = this.#peers.get(peerId)!;
      if (!st.ask.take()) {
        this.#due = true;
        continue;
      }
      for (const id of ids) {
        st.outstanding.set(id, now);
        this.#wants.get(id)!.dueAt = Infinity;
      }
      st.session.sendControl(FrameType.NodeInfoRequest, encodeNodeInfoRequest(ids));
      this.stats.requestsSent++;
    }
  }

  /**
   * A `NodeInfoRequest` frame: answers from the book, within the per-session rate.
   * @throws {NodeInfoWireError} when it is malformed (close the session)
   */
  onRequest(s: InfoPeer, payload: Uint8Array): void {
    const ids = decodeNodeInfoRequest(payload);
    const st = this.#peers.get(s.peer.id);
    if (st === undefined || st.session !== s) return;
    if (!st.answer.take()) {
      this.stats.requestsOverRate++;
      if (this.#logLimit.take()) {
        log.info("{peer} asks for node certificates too fast; requests ignored", {
          peer: s.peer.name,
        });
      }
      return;
    }
    const entries: NodeInfoEntry[] = ids.map((id) => {
      const der = this.#book.get(id)?.der;
      if (der === undefined && this.#wants.has(id) && st.deferred.size < MAX_DEFERRED_PER_PEER) {
        st.deferred.add(id);
      }
      // A certificate over the wire cap (possible only for our own or a pinned one) stays home.
      return { id, der: der !== undefined && der.length <= MAX_NODE_CERT_BYTES ? der : undefined };
    });
    for (const p of encodeNodeInfo(entries)) {
      if (!s.sendControl(FrameType.NodeInfo, p)) return;
    }
    this.stats.requestsAnswered++;
    this.stats.entriesSent += entries.length;
  }

  /**
   * A `NodeInfo` frame: entries for IDs asked of this peer are checked (in the background)
   * and added to the book; anything else is dropped.
   * @returns resolves when every certificate of the frame was checked (tests wait on it)
   * @throws {NodeInfoWireError} when it is malformed (close the session)
   */
  onInfo(s: InfoPeer, payload: Uint8Array): Promise<void> {
    const entries = decodeNodeInfo(payload);
    const st = this.#peers.get(s.peer.id);
    if (st === undefined || st.session !== s) return Promise.resolve();
    const checks: Promise<void>[] = [];
    for (const e of entries) {
      const w = this.#wants.get(e.id);
      if (!st.outstanding.delete(e.id)) {
        // A deferred answer: a certificate for an ID wanted from this peer and not in flight.
        const deferred = e.der !== undefined && w !== undefined && w.from === s.peer.id &&
          w.dueAt !== Infinity;
        if (!deferred) {
          this.stats.unsolicited++;
          continue;
        }
        w.dueAt = Infinity;
        this.stats.deferredReceived++;
      }
      this.stats.entriesReceived++;
      this.#due = true;
      if (e.der === undefined) {
        this.stats.unknownAnswers++;
        if (w !== undefined) this.#retry(w, UNKNOWN_RETRY_MS);
        continue;
      }
      checks.push(this.#admit(s, e.id, e.der));
    }
    return Promise.all(checks).then(() => undefined);
  }

  /**
   * Timeouts of unanswered requests, then {@link pump}. Call every second.
   */
  tick(): void {
    const now = this.#clock.now();
    for (const st of this.#peers.values()) {
      for (const [id, at] of st.outstanding) {
        if (now - at < REQUEST_TIMEOUT_MS) continue;
        st.outstanding.delete(id);
        this.stats.timeouts++;
        const w = this.#wants.get(id);
        if (w !== undefined) this.#retry(w, UNKNOWN_RETRY_MS);
      }
    }
    this.#due = true;
    this.pump();
  }

  /**
   * Forgets wants for nodes in no path any more and sweeps the book (expired certificates,
   * entries unused for the grace). Call every few seconds.
   * @param inUse the IDs in this node's route paths and its neighbours
   */
  sweep(inUse: ReadonlySet<PeerId>): void {
    for (const [id, w] of this.#wants) {
      if (inUse.has(id) || w.dueAt === Infinity) continue;
      this.#forget(id, w);
    }
    for (const st of this.#peers.values()) {
      for (const id of st.deferred) if (!this.#wants.has(id)) st.deferred.delete(id);
    }
    this.#book.sweep(inUse);
  }

  async #admit(s: InfoPeer, id: PeerId, der: Uint8Array): Promise<void> {
    let r: AdmitResult;
    try {
      r = await this.#book.admit(id, der);
    } catch (e) {
      // Not a refusal the PKI foresaw (those are results): a bug, not the peer's fault. The
      // node runs onInfo in the background, so a rejection here would end the process.
      this.stats.checkErrors++;
      log.error("checking the node certificate for {id} from {peer} failed: {error}", {
        id,
        peer: s.peer.name,
        error: e,
      });
      r = { ok: false, reason: "malformed", message: String(e) };
    }
    const w = this.#wants.get(id);
    if (r.ok) {
      if (r.added) this.stats.learned++;
      if (w !== undefined) this.#forget(id, w);
      this.#sendDeferred(r.entry.id, r.entry.der);
      return;
    }
    this.stats.refused++;
    if (w !== undefined) this.#retry(w, REFUSED_RETRY_MS);
    if (this.#logLimit.take()) {
      const n = this.#logLimit.suppressed;
      log.info(
        "node certificate for {id} from {peer} refused ({reason}): {message}{suppressed}",
        {
          id,
          peer: s.peer.name,
          reason: r.reason,
          message: r.message,
          suppressed: n > 0 ? ` (${n} similar messages suppressed)` : "",
        },
      );
    }
  }

  /** Sends a certificate just learned to the peers that asked for it while it was unknown. */
  #sendDeferred(id: PeerId, der: Uint8Array): void {
    if (der.length > MAX_NODE_CERT_BYTES) return;
    let payload: Uint8Array | undefined;
    for (const st of this.#peers.values()) {
      if (!st.deferred.delete(id)) continue;
      payload ??= encodeNodeInfo([{ id, der }])[0];
      if (st.session.sendControl(FrameType.NodeInfo, payload)) this.stats.deferredSent++;
    }
  }

  #retry(w: Want, base: number): void {
    w.dueAt = this.#clock.now() + Math.min(base * 2 ** w.tries, MAX_RETRY_MS);
    w.tries++;
    this.#due = true;
  }

  #forget(id: PeerId, w: Want): void {
    this.#wants.delete(id);
    const st = this.#peers.get(w.from);
    if (st !== undefined) st.wants = Math.max(0, st.wants - 1);
  }
}
