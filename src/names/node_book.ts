/**
 * The node book: the verified names of nodes beyond this node's neighbours, by node ID.
 *
 * A certificate enters the book only through {@link NodeBook.admit}, which checks it exactly as
 * the session checks a peer's (`verifyPeerCertificate`: our CA's signature and name
 * constraints, or a certificate pinned here byte for byte; both validity windows; the node
 * role) and then requires that its ID (the SHA-256 of its canonical DER, as in route paths)
 * equals the ID it was offered for. A certificate under this node's own name with another ID is
 * refused, as a session with it would be, and so is a CN that is not a node name (DNS-like
 * labels: it is shown in `vmesh routes` and on the map). The book holds this node's own entry
 * from the start.
 *
 * Bounds: at most `maxEntries` entries (default {@link DEFAULT_MAX_NODE_ENTRIES}); a full book
 * makes room only by evicting an entry that no route path uses. {@link NodeBook.sweep} (the node
 * runs it periodically with the IDs in its routes' paths) drops certificates past their
 * notAfter and entries no path has used for `unusedGraceMs`.
 *
 * The seam for revocation: {@link NodeBook.lookup} gives `{ name, spkiSha256 }` of an ID,
 * {@link NodeBook.dropWhere} purges entries by predicate and {@link NodeBook.refuseWhen} keeps
 * matching certificates out from then on.
 * @module
 */
import { createHash } from "node:crypto";
import { sameName } from "../net/mod.ts";
import {
  CertificateError,
  isValidNodeName,
  type NodeIdentity,
  parseCertificate,
  type PeerId,
  type TrustStore,
  verifyPeerCertificate,
} from "../pki/mod.ts";

/** Default cap on book entries (this node's own included). */
export const DEFAULT_MAX_NODE_ENTRIES = 4096;
/** Default time an entry stays once no route path uses it: two route timeouts. */
export const DEFAULT_UNUSED_GRACE_MS = 120_000;

/** One verified node. */
export interface NodeBookEntry {
  /** The node ID (SHA-256 of the certificate's canonical DER; pinned: of its DER). */
  readonly id: PeerId;
  /** The certificate's CN. */
  readonly name: string;
  /** SHA-256 of the certificate's SubjectPublicKeyInfo DER, lower-case hex. */
  readonly spkiSha256: string;
  /** When the certificate expires (the entry is dropped then). */
  readonly notAfter: Date;
  /** True for a certificate pinned in this node's trust store as an external peer. */
  readonly external: boolean;
  /** The leaf certificate DER, as passed on to nodes that ask. */
  readonly der: Uint8Array;
}

/** Why {@link NodeBook.admit} refused a certificate. */
export type NodeBookRefusal =
  | CertificateError["reason"]
  /** The certificate's ID is not the ID it was offered for. */
  | "id_mismatch"
  /** Another certificate under this node's own name. */
  | "own_name"
  /** The {@link NodeBook.refuseWhen} predicate matched (e.g. revoked). */
  | "refused"
  /** The book is full of entries in use. */
  | "full";

/** The result of {@link NodeBook.admit}. */
export type AdmitResult =
  | { readonly ok: true; readonly entry: NodeBookEntry; readonly added: boolean }
  | { readonly ok: false; readonly reason: NodeBookRefusal; readonly message: string };

/** Options of the {@link NodeBook} constructor. */
export interface NodeBookOptions {
  /** Our CA and pinned certificates (as the session uses them). */
  readonly trust: TrustStore;
  /** This node (its own entry, the own-name check and the local domain). */
  readonly identity: Pick<NodeIdentity, "id" | "name" | "domain" | "certDer">;
  /** Monotonic milliseconds (the node's clock), for the unused grace. */
  readonly now: () => number;
  /** Wall-clock time for certificate validity (default `new Date()`). */
  readonly wallNow?: () => Date;
  /** Cap on entries, this node's own included (default {@link DEFAULT_MAX_NODE_ENTRIES}). */
  readonly maxEntries?: number;
  /** How long an entry no path uses is kept (default {@link DEFAULT_UNUSED_GRACE_MS}). */
  readonly unusedGraceMs?: number;
}

interface Slot {
  readonly entry: NodeBookEntry;
  unusedSince: number | undefined;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The verified certificates of nodes in this node's routes. */
export class NodeBook {
  readonly #o: NodeBookOptions;
  readonly #wallNow: () => Date;
  readonly #max: number;
  readonly #grace: number;
  readonly #slots = new Map<PeerId, Slot>();
  readonly #self: NodeBookEntry;
  #refuse: ((e: NodeBookEntry) => boolean) | undefined;
  /** Counters: entries added, refused by reason, removed by reason. */
  readonly stats = {
    added: 0,
    expired: 0,
    unused: 0,
    evicted: 0,
    dropped: 0,
    refused: {} as Partial<Record<NodeBookRefusal, number>>,
  };

  /**
   * Creates a book holding this node's own entry.
   * @throws {CertificateError} when this node's certificate does not parse
   * @throws {RangeError} for `maxEntries` below 1
   */
  constructor(o: NodeBookOptions) {
    const cert = parseCertificate(o.identity.certDer);
    this.#self = {
      id: o.identity.id,
      name: o.identity.name,
      spkiSha256: sha256Hex(cert.spki),
      notAfter: cert.notAfter,
      external: false,
      der: o.identity.certDer,
    };
    this.#o = o;
    this.#wallNow = o.wallNow ?? (() => new Date());
    this.#max = o.maxEntries ?? DEFAULT_MAX_NODE_ENTRIES;
    this.#grace = o.unusedGraceMs ?? DEFAULT_UNUSED_GRACE_MS;
    if (!(this.#max >= 1)) throw new RangeError(`maxEntries must be >= 1, got ${this.#max}`);
    this.#slots.set(this.#self.id, { entry: this.#self, unusedSince: undefined });
  }

  /** Entries held, this node's own included. */
  get size(): number {
    return this.#slots.size;
  }

  /** The cap on entries. */
  get maxEntries(): number {
    return this.#max;
  }

  /** True when the book has a verified entry for `id`. */
  has(id: PeerId): boolean {
    return this.#slots.has(id);
  }

  /** The entry of `id`, if verified. */
  get(id: PeerId): NodeBookEntry | undefined {
    return this.#slots.get(id)?.entry;
  }

  /**
   * The name and key fingerprint of `id` (the seam revocation consults).
   * @returns undefined when the node is not in the book
   */
  lookup(id: PeerId): { name: string; spkiSha256: string } | undefined {
    const e = this.#slots.get(id)?.entry;
    return e === undefined ? undefined : { name: e.name, spkiSha256: e.spkiSha256 };
  }

  /** Every entry (this node's own first). */
  entries(): NodeBookEntry[] {
    return [...this.#slots.values()].map((s) => s.entry);
  }

  /**
   * Checks `der` as a peer's certificate and adds it under `id`.
   * @param id the ID the certificate was offered for (as in route paths)
   * @param der the certificate; kept (pass a copy of borrowed bytes)
   * @returns the entry (`added` false when it was known already), or why it was refused
   */
  async admit(id: PeerId, der: Uint8Array): Promise<AdmitResult> {
    const known = this.#slots.get(id);
    if (known !== undefined) return { ok: true, entry: known.entry, added: false };
    let entry: NodeBookEntry;
    try {
      const peer = await verifyPeerCertificate(der, this.#o.trust, {
        now: this.#wallNow(),
        localDomain: this.#o.identity.domain,
      });
      if (!isValidNodeName(peer.name)) {
        // The session shows a neighbour's name only after the operator configured it; a name
        // from the book reaches `vmesh routes` and the map unseen, so it must be a node name
        // (no spaces, no control characters), as this node's own must be.
        return this.#refused(
          "no_name",
          `the certificate's CN ${JSON.stringify(peer.name)} is not a node name`,
        );
      }
      if (peer.id !== id) {
        return this.#refused(
          "id_mismatch",
          `the certificate of "${peer.name}" has ID ${peer.id}, not the ${id} it was sent for`,
        );
      }
      entry = {
        id,
        name: peer.name,
        spkiSha256: sha256Hex(parseCertificate(der).spki),
        notAfter: peer.notAfter,
        external: peer.external,
        der,
      };
    } catch (e) {
      if (!(e instanceof CertificateError)) throw e;
      return this.#refused(e.reason, e.message);
    }
    const again = this.#slots.get(id);
    if (again !== undefined) return { ok: true, entry: again.entry, added: false };
    if (sameName(entry.name, this.#self.name)) {
      return this.#refused("own_name", `a certificate under this node's own name "${entry.name}"`);
    }
    if (this.#refuse?.(entry)) {
      return this.#refused("refused", `the certificate of "${entry.name}" is refused here`);
    }
    if (this.#slots.size >= this.#max && !this.#evictUnused()) {
      return this.#refused("full", `the node book holds ${this.#max} entries in use`);
    }
    this.#slots.set(id, { entry, unusedSince: undefined });
    this.stats.added++;
    return { ok: true, entry, added: true };
  }

  /**
   * Removes every entry (this node's own included) for which `pred` is true.
   * @returns how many were removed
   */
  dropWhere(pred: (e: NodeBookEntry) => boolean): number {
    let n = 0;
    for (const [id, s] of this.#slots) {
      if (pred(s.entry)) {
        this.#slots.delete(id);
        n++;
      }
    }
    this.stats.dropped += n;
    return n;
  }

  /**
   * From now on refuses certificates for which `pred` is true (reason "refused"); `undefined`
   * lifts it. Entries already held are not touched: purge them with {@link dropWhere}.
   */
  refuseWhen(pred: ((e: NodeBookEntry) => boolean) | undefined): void {
    this.#refuse = pred;
  }

  /**
   * Drops entries whose certificate expired, and entries not in `inUse` for the unused grace
   * (an entry leaving `inUse` starts its grace now). This node's own entry stays.
   * @param inUse the IDs in this node's route paths (and its neighbours)
   * @returns how many entries were removed, by reason
   */
  sweep(inUse: ReadonlySet<PeerId>): { expired: number; unused: number } {
    const wall = this.#wallNow().getTime();
    const now = this.#o.now();
    let expired = 0;
    let unused = 0;
    for (const [id, s] of this.#slots) {
      if (s.entry === this.#self) continue;
      if (s.entry.notAfter.getTime() < wall) {
        this.#slots.delete(id);
        expired++;
      } else if (inUse.has(id)) {
        s.unusedSince = undefined;
      } else if (s.unusedSince === undefined) {
        s.unusedSince = now;
      } else if (now - s.unusedSince >= this.#grace) {
        this.#slots.delete(id);
        unused++;
      }
    }
    this.stats.expired += expired;
    this.stats.unused += unused;
    return { expired, unused };
  }

  /** Makes room by dropping the entry unused the longest; false when every entry is in use. */
  #evictUnused(): boolean {
    let oldest: [PeerId, number] | undefined;
    for (const [id, s] of this.#slots) {
      if (s.unusedSince !== undefined && (oldest === undefined || s.unusedSince < oldest[1])) {
        oldest = [id, s.unusedSince];
      }
    }
    if (oldest === undefined) return false;
    this.#slots.delete(oldest[0]);
    this.stats.evicted++;
    return true;
  }

  #refused(reason: NodeBookRefusal, message: string): AdmitResult {
    this.stats.refused[reason] = (this.stats.refused[reason] ?? 0) + 1;
    return { ok: false, reason, message };
  }
}
