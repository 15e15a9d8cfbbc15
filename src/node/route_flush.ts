/**
 * Sending what the router decided: route announcements and withdrawals are batched for
 * {@link FLUSH_DELAY_MS} after a change, and a change larger than {@link FLUSH_SLICE}
 * (prefix, neighbour) pairs goes out in slices, one per batching window, with the packet path
 * running between them.
 * @module
 */
import type { Clock, TimerHandle } from "../clock/mod.ts";
import type { Ipv6Prefix } from "../net/mod.ts";
import { encodeAnnounce, encodeWithdraw, type Route, type Router } from "../routing/mod.ts";
import { FrameType, type SessionManager } from "../session/mod.ts";
import type { NodeInfoGossip } from "./node_info_gossip.ts";
import { guarded } from "./periodic.ts";

/** Batching window for route announcements and withdrawals. */
export const FLUSH_DELAY_MS = 10;
/**
 * (Prefix, neighbour) pairs synced per route flush: a change of 100 000 routes goes out in
 * slices of a few milliseconds each, one per batching window, and the packet path runs between.
 */
export const FLUSH_SLICE = 4096;

/** Flushes the router's pending messages to the sessions. */
export class RouteFlusher {
  #timer: TimerHandle | undefined;
  #flushing = false;
  #stopped = false;

  /**
   * @param clock the node's clock
   * @param router whose pending messages are sent
   * @param sessions where they go
   * @param names pumped after each flush (node-info requests for the new paths' nodes)
   */
  constructor(
    private readonly clock: Clock,
    private readonly router: Router,
    private readonly sessions: SessionManager,
    private readonly names: NodeInfoGossip,
  ) {}

  /** Flushes within `delayMs` (a no-op when one is already planned). */
  schedule(delayMs = FLUSH_DELAY_MS): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = this.clock.setTimer(guarded("route flush", () => this.now()), delayMs);
  }

  /** Flushes now (a session came up or went down). */
  now(): void {
    if (this.#flushing) {
      // A session closed while we were sending (e.g. its control backlog overflowed): what the
      // outer flush computed is stale for the others, so go round again once it is done.
      this.schedule();
      return;
    }
    if (this.#timer !== undefined) {
      this.clock.clearTimer(this.#timer);
      this.#timer = undefined;
    }
    this.#flushing = true;
    try {
      this.#send(this.router.flush(FLUSH_SLICE).messages);
      this.names.pump();
    } finally {
      this.#flushing = false;
    }
    // Announcements held back after a lost route (worseRouteHoldMs), and the rest of a change
    // larger than FLUSH_SLICE, go out in a later flush; received payloads still queued in the
    // router are applied by the next flush as soon as the event loop has had its turn.
    if (this.router.pending) this.schedule(this.router.receiveBacklog > 0 ? 0 : undefined);
  }

  /** Cancels a planned flush and plans no more. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  #send(messages: Map<string, { announce: Route[]; withdraw: Ipv6Prefix[] }>): void {
    for (const [id, m] of messages) {
      const s = this.sessions.session(id);
      if (s === undefined) continue;
      for (const p of encodeWithdraw(m.withdraw)) s.sendControl(FrameType.RouteWithdraw, p);
      for (const p of encodeAnnounce(m.announce)) s.sendControl(FrameType.RouteAnnounce, p);
    }
  }
}
