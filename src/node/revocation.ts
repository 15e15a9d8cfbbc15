/**
 * Revocation in force: what the node does with the `revoked_keys` and `revoked_names` of the DC
 * it runs (`src/dc/revocation.ts`). Applied whenever a DC is accepted (`--initial-dc`, the
 * persisted DC at start, a DC from a peer, `vmesh dc apply`):
 *
 * - Sessions: every open session whose peer certificate has a revoked key (SPKI SHA-256) or
 *   name closes at once with reason "revoked" (a close frame tells the peer why); a new one is
 *   refused after the TLS handshake with reason "revoked" (counted in the handshake failures,
 *   hence in `vmesh_handshake_failures_total{reason="revoked"}`, and logged).
 * - Dialling: a configured peer whose name is revoked is not dialled; nor is one whose last
 *   seen certificate had a revoked key, except for one attempt every {@link KEY_PROBE_MS} after
 *   the last refusal (it may have a new certificate by now). `status` lists them under `revocation.notDialled`.
 * - Routes: the IDs of revoked nodes go to the router ({@link Router.setRevoked}), which drops
 *   and refuses every route whose path contains one. A node ID is the SHA-256 of its
 *   certificate, so a revoked key or name becomes an ID through a certificate: those of open
 *   sessions and handshakes, and those of the node book (whose entries are checked now, and
 *   whose refuseWhen check notes every revoked certificate the node-info gossip brings later).
 * - The node book drops revoked entries and refuses them from then on.
 * - Its own key or name revoked: the node fails closed. It logs an error (with every DC that
 *   keeps it revoked), closes every session, refuses every new one and dials nobody, so it
 *   leaves the mesh and stops announcing; the process keeps running so that `vmesh status`
 *   says why and a DC that lifts the revocation (`vmesh dc apply`) or a restart with a new
 *   certificate brings it back.
 *
 * Bounds: at most {@link MAX_REVOKED_IDS} revoked IDs and {@link MAX_LAST_KEYS} remembered keys.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { NO_REVOCATION, type Revocation, revokedBecause } from "../dc/mod.ts";
import type { NodeBook, NodeBookEntry } from "../names/mod.ts";
import { canonicalName } from "../net/mod.ts";
import { keyFingerprint, type NodeIdentity, type PeerId, type VerifiedPeer } from "../pki/mod.ts";
import type { Router } from "../routing/mod.ts";
import type { Session, SessionManager } from "../session/mod.ts";

const log = getLogger(["vmesh", "revocation"]);

/** Cap on the IDs of revoked nodes handed to the router. */
export const MAX_REVOKED_IDS = 16_384;
/** Cap on remembered peer keys (name → key of its last certificate seen). */
export const MAX_LAST_KEYS = 4096;
/** A configured peer whose last key was revoked is tried this often (a new certificate?). */
export const KEY_PROBE_MS = 600_000;

/** What {@link NodeRevocation} needs of the session manager. */
export type SessionsView = Pick<SessionManager, "sessions" | "recheckPeers" | "heldPeers">;

/** What {@link NodeRevocation} works on. */
export interface RevocationDeps {
  readonly identity: Pick<NodeIdentity, "id" | "name" | "certDer">;
  readonly router: Pick<Router, "setRevoked">;
  readonly book: Pick<NodeBook, "entries" | "dropWhere" | "refuseWhen">;
  /** Monotonic ms (the key probe). */
  readonly now: () => number;
  /** Routes changed: schedule a flush. */
  readonly changed: () => void;
}

/** The revocation lists of the DC in force, applied to sessions, dialling, routes and names. */
export class NodeRevocation {
  readonly #d: RevocationDeps;
  #sessions: SessionsView | undefined;
  readonly #ownKey: string;
  #rev: Revocation = NO_REVOCATION;
  #signedAt: Date | undefined;
  #ids = new Set<PeerId>();
  /** The certificate facts of every ID in #ids, to re-check them against the next DC. */
  #certOf = new Map<PeerId, { name: string; key: string }>();
  #own: string | undefined;
  readonly #lastKey = new Map<string, string>();
  readonly #probedAt = new Map<string, number>();
  /**
   * Counters: sessions closed by a revocation, checks that found a revoked certificate (each
   * handshake, re-check and node-book admission), IDs not kept for the cap.
   */
  readonly stats = { sessionsClosed: 0, revokedSeen: 0, idsOverLimit: 0 };

  /** @param d the node's parts this works on */
  constructor(d: RevocationDeps) {
    this.#d = d;
    this.#ownKey = keyFingerprint(d.identity.certDer);
    d.book.refuseWhen((e) => this.#bookRefuses(e));
  }

  /** Gives the session manager (built after this object: it takes its callbacks). */
  attach(sessions: SessionsView): void {
    this.#sessions = sessions;
  }

  /** Why this node's own certificate is revoked, or undefined. */
  get ownRevoked(): string | undefined {
    return this.#own;
  }

  /** IDs of the nodes known to be revoked. */
  get revokedIds(): ReadonlySet<PeerId> {
    return this.#ids;
  }

  /**
   * Applies the revocation lists of a newly accepted DC: closes sessions, drops routes and
   * book entries, holds dials (see the module doc).
   * @param r the DC's revocation lists
   * @param signedAt the DC's signing time (for logs and status)
   */
  apply(r: Revocation, signedAt: Date): void {
    const had = this.#rev.keys.size + this.#rev.names.size;
    this.#rev = r;
    this.#signedAt = signedAt;
    // A configured peer last seen with a key this DC revokes counts as just tried.
    this.#probedAt.clear();
    for (const [name, key] of this.#lastKey) {
      if (r.keys.has(key)) this.#probedAt.set(name, this.#d.now());
    }
    const own = revokedBecause(r, this.#ownKey, this.#d.identity.name);
    if (own !== undefined) {
      log.error(
        "THIS NODE IS REVOKED: {why} (DC signed {signed}). It closes every session, refuses " +
          "new ones and dials nobody until a DC lifts the revocation (vmesh dc apply) or it is " +
          "restarted with a new certificate",
        { why: own, signed: signedAt.toISOString() },
      );
    } else if (this.#own !== undefined) {
      log.warn("this node is no longer revoked by the DC signed {signed}: rejoining the mesh", {
        signed: signedAt.toISOString(),
      });
    }
    this.#own = own;
    // Every certificate known: the revoked ones seen before (dropped from the book then), the
    // book's and the open sessions'.
    const seen = this.#certOf;
    this.#ids = new Set();
    this.#certOf = new Map();
    const self = this.#d.identity.id;
    for (const [id, c] of seen) this.#check(id, c.name, c.key);
    for (const e of this.#d.book.entries()) {
      if (e.id !== self) this.#check(e.id, e.name, e.spkiSha256);
    }
    for (const s of this.#sessions?.sessions() ?? []) {
      this.#check(s.peer.id, s.peer.name, s.peerKeySha256);
    }
    const ids = this.#ids;
    const dropped = this.#d.book.dropWhere((e) => e.id !== self && ids.has(e.id));
    const routes = this.#d.router.setRevoked(ids);
    const closed = this.#sessions?.recheckPeers() ?? [];
    this.stats.sessionsClosed += closed.length;
    if (r.keys.size + r.names.size > 0 || had > 0) {
      log.info(
        "DC signed {signed} revokes {keys} key(s) and {names} name(s): {ids} known node(s) " +
          "revoked, {closed} session(s) closed, {routes} route(s) and {dropped} node-book " +
          "entr(ies) dropped",
        {
          signed: signedAt.toISOString(),
          keys: r.keys.size,
          names: r.names.size,
          ids: ids.size,
          closed: closed.length,
          routes,
          dropped,
        },
      );
    }
    this.#d.changed();
  }

  /**
   * The session manager's `refusePeer`: why a peer is refused, or undefined. Everyone is
   * refused while this node itself is revoked.
   */
  refusePeer(peer: VerifiedPeer, keySha256: string): string | undefined {
    if (!peer.external) this.#remember(peer.name, keySha256);
    if (this.#own !== undefined) {
      return `this node itself is revoked (${this.#own}): it takes no sessions`;
    }
    const why = revokedBecause(this.#rev, keySha256, peer.name);
    if (why === undefined) return undefined;
    if (this.#rev.keys.has(keySha256)) this.#probedAt.set(canonicalName(peer.name), this.#d.now());
    this.#noteId(peer.id, peer.name, keySha256);
    return `${peer.name} is revoked: ${why}${this.#dcLabel()}`;
  }

  /** The session manager's `holdDial`: why not to dial the configured peer `name`. */
  holdDial(name: string): string | undefined {
    if (this.#own !== undefined) return `this node itself is revoked (${this.#own})`;
    const c = canonicalName(name);
    if (this.#rev.names.has(c)) return `its name is revoked${this.#dcLabel()}`;
    const key = this.#lastKey.get(c);
    if (key === undefined || !this.#rev.keys.has(key)) return undefined;
    const at = this.#probedAt.get(c);
    // One attempt every KEY_PROBE_MS: it may present a new certificate by now.
    if (at === undefined || this.#d.now() - at >= KEY_PROBE_MS) return undefined;
    return `the key of its last certificate (${key.slice(0, 16)}…) is revoked${this.#dcLabel()}; ` +
      `trying again every ${KEY_PROBE_MS / 60_000} min in case it has a new one`;
  }

  /** A session opened: remember its key (for {@link holdDial}). */
  sessionUp(s: Session): void {
    if (!s.peer.external) this.#remember(s.peer.name, s.peerKeySha256);
  }

  /** For `status`. */
  view(): Record<string, unknown> {
    return {
      dcSignedAt: this.#signedAt?.toISOString() ?? null,
      revokedKeys: this.#rev.keys.size,
      revokedNames: this.#rev.names.size,
      ownRevoked: this.#own ?? null,
      revokedNodes: [...this.#ids],
      notDialled: Object.fromEntries(this.#sessions?.heldPeers() ?? []),
      ...this.stats,
    };
  }

  #dcLabel(): string {
    return this.#signedAt === undefined ? "" : ` (DC signed ${this.#signedAt.toISOString()})`;
  }

  #bookRefuses(e: NodeBookEntry): boolean {
    if (revokedBecause(this.#rev, e.spkiSha256, e.name) === undefined) return false;
    this.#noteId(e.id, e.name, e.spkiSha256);
    return true;
  }

  /** A revoked certificate seen for the first time: its ID goes to the router. */
  #noteId(id: PeerId, name: string, key: string): void {
    this.stats.revokedSeen++;
    if (this.#ids.has(id)) return;
    if (!this.#add(id, name, key)) return;
    this.#d.router.setRevoked(this.#ids);
    this.#d.changed();
  }

  /** Adds `id` to the revoked set when the lists in force revoke its certificate. */
  #check(id: PeerId, name: string, key: string): void {
    if (!this.#ids.has(id) && revokedBecause(this.#rev, key, name) !== undefined) {
      this.#add(id, name, key);
    }
  }

  #add(id: PeerId, name: string, key: string): boolean {
    if (this.#ids.size >= MAX_REVOKED_IDS) {
      this.stats.idsOverLimit++;
      return false;
    }
    this.#ids.add(id);
    this.#certOf.set(id, { name, key });
    return true;
  }

  #remember(name: string, key: string): void {
    const c = canonicalName(name);
    this.#lastKey.delete(c);
    if (this.#lastKey.size >= MAX_LAST_KEYS) {
      this.#lastKey.delete(this.#lastKey.keys().next().value!);
    }
    this.#lastKey.set(c, key);
  }
}
