/**
 * Dialling the configured peers: one slot per configured (name, address), at most one dial
 * in flight per slot, retries with backoff after a failed dial or a lost session, no dial
 * while a session with that name is open, and none to a peer the `hold` callback holds back
 * (revoked by the DC): such a slot is looked at again every {@link HOLD_RECHECK_MS} and at once
 * on {@link Dialer.recheckHeld}.
 * @module
 */
import { sameName } from "../net/mod.ts";
import { getLogger } from "@logtape/logtape";
import { Backoff, type BackoffOptions } from "./backoff.ts";
import type { Clock, TimerHandle } from "../clock/mod.ts";
import type { DialTarget } from "./handlers.ts";
import type { Session } from "./session.ts";

const log = getLogger(["vmesh", "session"]);

/** How often a held-back peer is looked at again. */
export const HOLD_RECHECK_MS = 60_000;

/** What the {@link Dialer} needs. */
export interface DialerOptions {
  clock: Clock;
  backoff?: BackoffOptions;
  /** Random source for backoff jitter (tests). */
  random?: () => number;
  /** Opens a session to a configured peer. */
  connect(peer: DialTarget): Session;
  /** True when an open session with a peer of this name exists (no dial needed). */
  connected(name: string): boolean;
  /** Why not to dial the peer of this name now (e.g. revoked), or undefined to dial. */
  hold?(name: string): string | undefined;
}

interface PeerSlot {
  config: DialTarget;
  backoff: Backoff;
  timer: TimerHandle | undefined;
  dialing: Session | undefined;
  /** Last failure logged, so that each change is logged once. */
  logged: string;
  /** Why the peer is not dialled (the `hold` callback), or undefined. */
  held: string | undefined;
}

function slotKey(p: DialTarget): string {
  return `${p.name}|${p.addr.host}|${p.addr.port}`;
}

function addrOf(p: DialTarget): string {
  return `${p.addr.host}:${p.addr.port}`;
}

/** The dialling side of the manager. */
export class Dialer {
  readonly #o: DialerOptions;
  readonly #slots = new Map<string, PeerSlot>();
  #running = false;

  /**
   * @param opts clock, backoff and the session factory
   * @param peers the configured peers
   */
  constructor(opts: DialerOptions, peers: readonly DialTarget[]) {
    this.#o = opts;
    for (const p of peers) this.#add(p);
  }

  /** Dials every configured peer. */
  start(): void {
    this.#running = true;
    for (const slot of this.#slots.values()) this.#dial(slot);
  }

  /** Stops dialling (pending retries are cancelled). */
  stop(): void {
    this.#running = false;
    for (const slot of this.#slots.values()) this.#clearTimer(slot);
  }

  /**
   * Replaces the configured peers: new ones are dialled, removed ones stop being dialled
   * (a dial in flight is closed).
   * @returns the names of removed peers that no remaining entry carries
   */
  update(peers: readonly DialTarget[]): string[] {
    const wanted = new Map(peers.map((p) => [slotKey(p), p]));
    const removed: string[] = [];
    for (const [key, slot] of this.#slots) {
      if (wanted.has(key)) continue;
      this.#slots.delete(key);
      this.#clearTimer(slot);
      slot.dialing?.close("peer removed from configuration");
      if (!this.hasSlotFor(slot.config.name)) removed.push(slot.config.name);
      log.info("peer {name} at {addr} removed from configuration", {
        name: slot.config.name,
        addr: addrOf(slot.config),
      });
    }
    for (const [key, p] of wanted) {
      if (this.#slots.has(key)) continue;
      const slot = this.#add(p);
      if (this.#running) this.#dial(slot);
    }
    return removed;
  }

  /**
   * Looks at every held-back peer again now (the reason to hold it may have gone: call after
   * the revocation lists changed).
   */
  recheckHeld(): void {
    for (const slot of this.#slots.values()) {
      if (slot.dialing) continue;
      if (slot.held === undefined && this.#o.hold?.(slot.config.name) === undefined) continue;
      this.#clearTimer(slot);
      this.#dial(slot);
    }
  }

  /** Configured peers not dialled and why, by name. */
  heldPeers(): Map<string, string> {
    const out = new Map<string, string>();
    for (const s of this.#slots.values()) if (s.held !== undefined) out.set(s.config.name, s.held);
    return out;
  }

  /** True when some configured entry carries this name. */
  hasSlotFor(name: string): boolean {
    for (const s of this.#slots.values()) if (sameName(s.config.name, name)) return true;
    return false;
  }

  /**
   * A session we dialled opened: its slot is free again.
   * @returns true when it was one of our dials
   */
  opened(s: Session): boolean {
    const slot = this.#slotOf(s);
    if (slot === undefined) return false;
    slot.dialing = undefined;
    slot.logged = "";
    return true;
  }

  /**
   * A session closed before it opened. When it was one of our dials, logs the failure (once
   * per reason) and schedules a retry.
   * @returns the configured name it dialled, or undefined when it was not ours
   */
  failed(s: Session, reason: string, message: string): string | undefined {
    const slot = this.#slotOf(s);
    if (slot === undefined) return undefined;
    slot.dialing = undefined;
    if (!this.#running) return slot.config.name;
    const state = `failing:${reason}`;
    if (slot.logged !== state) {
      slot.logged = state;
      log.warn("cannot establish a session with {name} at {addr}: {message}; retrying", {
        name: slot.config.name,
        addr: addrOf(slot.config),
        message,
      });
    }
    this.#schedule(slot);
    return slot.config.name;
  }

  /** An open session with `name` ended after `uptimeMs`: redial with backoff. */
  sessionEnded(name: string, uptimeMs: number): void {
    for (const slot of this.#slots.values()) {
      if (!sameName(slot.config.name, name)) continue;
      slot.backoff.sessionEnded(uptimeMs);
      this.#schedule(slot);
    }
  }

  #add(p: DialTarget): PeerSlot {
    const slot: PeerSlot = {
      config: { name: p.name, addr: { host: p.addr.host, port: p.addr.port } },
      backoff: new Backoff(this.#o.backoff, this.#o.random),
      timer: undefined,
      dialing: undefined,
      logged: "",
      held: undefined,
    };
    this.#slots.set(slotKey(p), slot);
    return slot;
  }

  #current(slot: PeerSlot): boolean {
    return this.#slots.get(slotKey(slot.config)) === slot;
  }

  #dial(slot: PeerSlot): void {
    slot.timer = undefined;
    if (!this.#running || slot.dialing || !this.#current(slot)) return;
    const held = this.#o.hold?.(slot.config.name);
    if (held !== undefined) {
      if (slot.held !== held) {
        log.warn("not dialling {name} at {addr}: {why}", {
          name: slot.config.name,
          addr: addrOf(slot.config),
          why: held,
        });
      }
      slot.held = held;
      slot.timer = this.#o.clock.setTimer(() => this.#dial(slot), HOLD_RECHECK_MS);
      return;
    }
    if (slot.held !== undefined) {
      log.info("dialling {name} again: no longer held back", { name: slot.config.name });
      slot.held = undefined;
    }
    if (this.#o.connected(slot.config.name)) return;
    slot.dialing = this.#o.connect(slot.config);
  }

  #schedule(slot: PeerSlot): void {
    if (!this.#running || slot.timer !== undefined || slot.dialing || !this.#current(slot)) {
      return;
    }
    slot.timer = this.#o.clock.setTimer(() => this.#dial(slot), slot.backoff.next());
  }

  #clearTimer(slot: PeerSlot): void {
    if (slot.timer !== undefined) this.#o.clock.clearTimer(slot.timer);
    slot.timer = undefined;
  }

  #slotOf(s: Session): PeerSlot | undefined {
    for (const slot of this.#slots.values()) if (slot.dialing === s) return slot;
    return undefined;
  }
}
