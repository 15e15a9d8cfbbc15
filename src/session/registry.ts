/**
 * The registry of open sessions: at most one per peer. A peer is what its session key names
 * (the manager uses `sessionKeyOf`: a node name of our CA, or one pinned external
 * certificate), so two certificates under one node name still make one peer. When a second
 * authenticated session with the same peer opens, both ends must keep the same one, decided
 * by {@link preferSession} from facts both ends know.
 * @module
 */
import { sameName } from "../net/mod.ts";
import type { PeerId } from "../pki/mod.ts";

/** What the duplicate rule looks at in a session. */
export interface DuplicateFacts {
  /** The peer's per-process instance number (hex): changes when the peer restarts. */
  readonly peerInstance: string;
  /** True when this node dialled the connection. */
  readonly dialedByUs: boolean;
}

/**
 * Which of two open sessions with the same peer survives; both ends reach the same answer:
 * 1. the fresh one when the peer restarted (its hello instance changed): the old one is stale;
 * 2. the fresh one when the same side dialled both (that side gave up on the old one);
 * 3. otherwise (one dialled each way, at about the same time) the one dialled by the lower
 *    PeerID.
 * @param ownId this node's ID
 * @param peerId the peer's ID
 * @param existing the session already registered
 * @param fresh the session that just opened
 * @returns "existing" or "fresh": the one to keep (close the other)
 * @example
 * ```ts
 * preferSession("aa", "bb", { peerInstance: "1", dialedByUs: false },
 *   { peerInstance: "1", dialedByUs: true }); // "fresh": we ("aa") are lower and dialled it
 * ```
 */
export function preferSession(
  ownId: PeerId,
  peerId: PeerId,
  existing: DuplicateFacts,
  fresh: DuplicateFacts,
): "existing" | "fresh" {
  if (existing.peerInstance !== fresh.peerInstance) return "fresh";
  if (existing.dialedByUs === fresh.dialedByUs) return "fresh";
  const lowerDials = ownId < peerId ? "us" : "them";
  return (fresh.dialedByUs ? "us" : "them") === lowerDials ? "fresh" : "existing";
}

/** A session as the registry sees it. */
export interface RegisteredSession extends DuplicateFacts {
  /** The authenticated peer. */
  readonly peer: { readonly id: PeerId; readonly name: string; readonly external: boolean };
}

/** The outcome of {@link SessionRegistry.admit}. */
export interface Admission<S> {
  /** True when the session was registered (the caller reports it up). */
  admitted: boolean;
  /** The session that lost and must be closed: the fresh one or the one it replaced. */
  loser: S | undefined;
}

/**
 * Open sessions by peer (session key) and by peer ID, and the set of sessions reported up (a
 * replaced session stays "up" until it has closed, so that its down event is still reported).
 */
export class SessionRegistry<S extends RegisteredSession> {
  readonly #ownId: PeerId;
  readonly #keyOf: (s: S) => string;
  readonly #byKey = new Map<string, S>();
  readonly #byId = new Map<PeerId, S>();
  readonly #up = new Set<S>();

  /**
   * @param ownId this node's ID (for the duplicate rule)
   * @param keyOf which peer a session is with (default: its peer ID)
   */
  constructor(ownId: PeerId, keyOf: (s: S) => string = (s) => s.peer.id) {
    this.#ownId = ownId;
    this.#keyOf = keyOf;
  }

  /**
   * Registers a session that just opened, applying the duplicate rule.
   * @returns whether it was admitted, and which session (if any) the caller must close
   */
  admit(s: S): Admission<S> {
    const key = this.#keyOf(s);
    const existing = this.#byKey.get(key);
    if (existing !== undefined) {
      if (preferSession(this.#ownId, s.peer.id, existing, s) === "existing") {
        return { admitted: false, loser: s };
      }
      if (this.#byId.get(existing.peer.id) === existing) this.#byId.delete(existing.peer.id);
    }
    this.#byKey.set(key, s);
    this.#byId.set(s.peer.id, s);
    this.#up.add(s);
    return { admitted: true, loser: existing };
  }

  /**
   * Forgets a session that closed.
   * @returns true when it had been admitted (the caller reports it down)
   */
  release(s: S): boolean {
    if (!this.#up.delete(s)) return false;
    const key = this.#keyOf(s);
    if (this.#byKey.get(key) === s) this.#byKey.delete(key);
    if (this.#byId.get(s.peer.id) === s) this.#byId.delete(s.peer.id);
    return true;
  }

  /** The current session with a peer. */
  get(id: PeerId): S | undefined {
    return this.#byId.get(id);
  }

  /** The current sessions, one per peer. */
  sessions(): S[] {
    return [...this.#byKey.values()];
  }

  /** True when a current session's peer carries this name. */
  hasName(name: string): boolean {
    for (const s of this.#byKey.values()) if (sameName(s.peer.name, name)) return true;
    return false;
  }
}
