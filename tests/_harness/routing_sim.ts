/**
 * An in-process simulation of N routers joined by fake links: no TLS, no sockets. Messages go
 * through the real wire codec and arrive after half the link's latency (the latency is an RTT);
 * each router is flushed `flushDelayMs` after it has something pending, as the node does.
 * Simulated time only: runs are deterministic and fast.
 * @module
 */
import process from "node:process";
import { seededRandom } from "./random.ts";
import { parseIpv6 } from "../../src/net/ipv6.ts";
import { formatPrefix, type Ipv6Prefix } from "../../src/net/prefix.ts";
import type { NextHop, Route } from "../../src/routing/route.ts";
import { Router } from "../../src/routing/router.ts";
import {
  decodeAnnounce,
  decodeWithdraw,
  encodeAnnounce,
  encodeWithdraw,
} from "../../src/routing/wire.ts";

/** One simulated node. */
export interface SimNode {
  readonly index: number;
  readonly id: string;
  readonly name: string;
  readonly router: Router;
  /** The node's own prefix, fd00:<index>::/48. */
  readonly prefix: Ipv6Prefix;
  alive: boolean;
}

/** Counters of one run. */
export interface SimStats {
  /** Simulated ms from the start of the run to the last delivery or FIB change. */
  convergenceMs: number;
  /** Payloads (frames) sent. */
  messages: number;
  /** Routes announced plus prefixes withdrawn. */
  entries: number;
  /** Payload bytes sent. */
  bytes: number;
  /** Most payloads sent over one link (both directions together). */
  maxLinkMessages: number;
  /**
   * Wall-clock ms of the longest single event of {@link RoutingSim.runUntilQuiet} (one payload
   * received, or one flush with its encoding): how long a node's packet path would wait.
   */
  longestStepMs: number;
  /** CPU ms of the longest single event (as {@link longestStepMs}, without the machine's load). */
  longestStepCpuMs: number;
}

/** The simulation. */
export class RoutingSim {
  readonly nodes: SimNode[] = [];
  /** "a-b" (a < b) → latency ms, for links that are up. */
  readonly links = new Map<string, number>();
  /** Nodes that announce 0 ms for every hop (a hostile neighbour trying to attract traffic). */
  readonly liars = new Set<number>();
  /** Neighbours of each node over the links that are up. */
  readonly adjacent: Set<number>[] = [];
  now = 0;
  /**
   * Called after anything that may have changed node i's FIB (a delivery, a link going down),
   * with the simulated clock at that moment: the hook of the loop watcher.
   */
  onFibTouched: ((i: number) => void) | undefined;
  readonly #queue = new MinHeap<() => void>();
  readonly #indexOf = new Map<string, number>();
  readonly #addresses: Uint8Array[] = [];
  readonly #wire: boolean;
  #linkMessages = new Map<string, number>();
  #seq = 0;
  readonly #flushScheduled = new Set<number>();
  readonly flushDelayMs: number;
  readonly #flushSlice: number;
  #stats: SimStats = emptyStats();
  #runStart = 0;

  /** Creates `n` nodes, each with a local prefix fd00:<i>::/48. */
  constructor(
    n: number,
    options: {
      hysteresisMs?: number;
      flushDelayMs?: number;
      worseRouteHoldMs?: number;
      /**
       * Encode and decode every payload with the wire codec (default true). Without it the
       * route lists are handed over as they are, split and counted as the encoders would
       * (same payloads, same bytes): several times faster for 1 000-node runs.
       */
      wire?: boolean;
      /** Passed to every Router (default: the Router's). */
      maxRoutesPerOrigin?: number;
      maxRoutesPerPeer?: number;
      /**
       * Passed to every `Router.flush` (default: no bound, everything in one flush). When set,
       * received payloads go through the router's receive queue (`queueAnnounce`,
       * `queueWithdraw`), applied in slices as a node does.
       */
      flushSlice?: number;
    } = {},
  ) {
    this.#wire = options.wire ?? true;
    this.flushDelayMs = options.flushDelayMs ?? 20;
    this.#flushSlice = options.flushSlice ?? Infinity;
    for (let i = 0; i < n; i++) {
      const id = (i + 1).toString(16).padStart(4, "0").repeat(16);
      const router = new Router({
        localId: id,
        localName: `n${i}`,
        clock: { now: () => this.now },
        hysteresisMs: options.hysteresisMs ?? 10,
        worseRouteHoldMs: options.worseRouteHoldMs,
        maxRoutesPerOrigin: options.maxRoutesPerOrigin,
        maxRoutesPerPeer: options.maxRoutesPerPeer,
      });
      const addr = new Uint8Array(16);
      addr[0] = 0xfd;
      addr[2] = i >> 8;
      addr[3] = i & 0xff;
      const prefix = { addr, len: 48 };
      router.addLocal(prefix, "tun0");
      this.nodes.push({ index: i, id, name: `n${i}`, router, prefix, alive: true });
      this.adjacent.push(new Set());
      this.#indexOf.set(id, i);
    }
  }

  /** Brings a link (session) up between a and b with the given RTT. */
  linkUp(a: number, b: number, latencyMs: number): void {
    this.links.set(linkKey(a, b), latencyMs);
    this.adjacent[a].add(b);
    this.adjacent[b].add(a);
    const [na, nb] = [this.nodes[a], this.nodes[b]];
    na.router.peerUp({ id: nb.id, name: nb.name, external: false }, latencyMs);
    nb.router.peerUp({ id: na.id, name: na.name, external: false }, latencyMs);
    this.#kick(a);
    this.#kick(b);
  }

  /** Takes a link down (both sessions close at once). */
  linkDown(a: number, b: number): void {
    if (!this.links.delete(linkKey(a, b))) return;
    this.adjacent[a].delete(b);
    this.adjacent[b].delete(a);
    this.nodes[a].router.peerDown(this.nodes[b].id);
    this.nodes[b].router.peerDown(this.nodes[a].id);
    this.onFibTouched?.(a);
    this.onFibTouched?.(b);
    this.#kick(a);
    this.#kick(b);
  }

  /** A node dies: all its links go down and it sends nothing more. */
  nodeDown(i: number): void {
    this.nodes[i].alive = false;
    for (const j of [...this.adjacent[i]]) this.linkDown(i, j);
  }

  /** Feeds `samples` latency samples for a link (both directions), as a node measuring it. */
  setLatency(a: number, b: number, latencyMs: number, samples = 30): void {
    this.links.set(linkKey(a, b), latencyMs);
    for (let i = 0; i < samples; i++) {
      this.nodes[a].router.updateLatency(this.nodes[b].id, latencyMs);
      this.nodes[b].router.updateLatency(this.nodes[a].id, latencyMs);
    }
    this.#kick(a);
    this.#kick(b);
  }

  /**
   * The latency a route from a through b counts for the link: what b advertises to a (the
   * smoothed value, which can lag the samples by the re-announcement threshold).
   */
  linkMetric(a: number, b: number): number {
    return this.nodes[b].router.linkLatency(this.nodes[a].id)!;
  }

  /** Schedules a flush of node i, after its router was changed directly (e.g. addLocal). */
  kick(i: number): void {
    this.#kick(i);
  }

  /** Starts counting a run (call before the events whose convergence you measure). */
  startRun(): void {
    this.#runStart = this.now;
    this.#stats = emptyStats();
    this.#linkMessages = new Map();
  }

  /**
   * Processes events until none is left (periodic timers are not simulated here).
   * @returns the counters since {@link RoutingSim.startRun}
   */
  runUntilQuiet(maxMs = 600_000): SimStats {
    while (this.#queue.size > 0) {
      const ev = this.#pop();
      if (ev.t - this.#runStart > maxMs) throw new Error(`no convergence within ${maxMs} ms`);
      this.now = ev.t;
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      ev.run();
      const cpu = process.cpuUsage(c0);
      const s = this.#stats;
      s.longestStepMs = Math.max(s.longestStepMs, performance.now() - t0);
      s.longestStepCpuMs = Math.max(s.longestStepCpuMs, (cpu.user + cpu.system) / 1000);
    }
    return this.stats();
  }

  /** The counters since {@link RoutingSim.startRun}. */
  stats(): SimStats {
    let max = 0;
    for (const n of this.#linkMessages.values()) max = Math.max(max, n);
    return { ...this.#stats, maxLinkMessages: max };
  }

  /** Advances time to `t`, calling every live router's tick() each second on the way. */
  runWithTicks(untilMs: number): SimStats {
    for (let t = Math.ceil(this.now / 1000) * 1000; t <= untilMs; t += 1000) {
      this.#push(t, () => {
        for (const n of this.nodes) {
          if (!n.alive) continue;
          n.router.tick();
          this.#kick(n.index);
        }
      });
    }
    while (this.#queue.size > 0 && this.#queue.peekKey()! <= untilMs) {
      const ev = this.#pop();
      this.now = ev.t;
      ev.run();
    }
    this.now = untilMs;
    return this.stats();
  }

  /** Follows FIB next hops from node `from` towards `addr`; the visited nodes, or "loop". */
  forwardPath(from: number, addr: Uint8Array): number[] | "loop" {
    const seen: number[] = [];
    let at = from;
    for (;;) {
      if (seen.includes(at)) return "loop";
      seen.push(at);
      const hop: NextHop | undefined = this.nodes[at].router.fib.lookupAddress(addr);
      if (hop === undefined || hop.kind === "local") return seen;
      at = this.#indexOf.get(hop.id)!;
    }
  }

  /** The node index of a router ID. */
  indexOf(id: string): number | undefined {
    return this.#indexOf.get(id);
  }

  /** Shortest-path latencies from `src` over the links that are up (Dijkstra on linkMetric). */
  shortest(src: number): number[] {
    const dist = this.nodes.map(() => Infinity);
    const done = this.nodes.map(() => false);
    dist[src] = 0;
    const heap = new MinHeap<number>();
    heap.push(0, 0, src);
    while (heap.size > 0) {
      const u = heap.pop()!;
      if (done[u]) continue;
      done[u] = true;
      for (const v of this.adjacent[u]) {
        const d = dist[u] + this.linkMetric(u, v);
        if (d < dist[v]) {
          dist[v] = d;
          heap.push(d, 0, v);
        }
      }
    }
    return dist;
  }

  /** Sum of link metrics along a node sequence. */
  pathLatency(path: number[]): number {
    let sum = 0;
    for (let i = 1; i < path.length; i++) sum += this.linkMetric(path[i - 1], path[i]);
    return sum;
  }

  /** An address inside node i's prefix. */
  addressOf(i: number): Uint8Array {
    let a = this.#addresses[i];
    if (a === undefined) {
      a = this.#addresses[i] = this.nodes[i].prefix.addr.slice();
      a[15] = 1;
    }
    return a;
  }

  /** Text of a prefix (for messages). */
  static describe(p: Ipv6Prefix): string {
    return formatPrefix(p);
  }

  #kick(i: number): void {
    const node = this.nodes[i];
    if (!node.alive || this.#flushScheduled.has(i) || !node.router.pending) return;
    this.#flushScheduled.add(i);
    this.#push(this.now + this.flushDelayMs, () => this.#flush(i));
  }

  #withdraw(r: Router, from: string, prefixes: Ipv6Prefix[]): void {
    if (this.#flushSlice === Infinity) r.receiveWithdraw(from, prefixes);
    else r.queueWithdraw(from, prefixes);
  }

  #announce(r: Router, from: string, routes: Route[]): void {
    if (this.#flushSlice === Infinity) r.receiveAnnounce(from, routes);
    else r.queueAnnounce(from, routes);
  }

  #flush(i: number): void {
    this.#flushScheduled.delete(i);
    const node = this.nodes[i];
    if (!node.alive) return;
    const { messages, fibChanged } = node.router.flush(this.#flushSlice);
    if (fibChanged) this.#mark();
    this.#kick(i); // announcements held back: flush again after the same window
    for (const [peerId, m] of messages) {
      if (this.liars.has(i)) {
        m.announce.forEach((r, k) => {
          m.announce[k] = { prefix: r.prefix, path: r.path.map((h) => ({ ...h, latencyMs: 0 })) };
        });
      }
      const j = this.#indexOf.get(peerId)!;
      const link = linkKey(i, j);
      const latency = this.links.get(link);
      if (latency === undefined) continue;
      const payloads: { deliver: (r: Router) => void; bytes: number }[] = this.#wire
        ? [
          ...encodeWithdraw(m.withdraw).map((p) => ({
            deliver: (r: Router) => this.#withdraw(r, node.id, decodeWithdraw(p)),
            bytes: p.length,
          })),
          ...encodeAnnounce(m.announce).map((p) => ({
            deliver: (r: Router) => this.#announce(r, node.id, decodeAnnounce(p)),
            bytes: p.length,
          })),
        ]
        : [
          ...chunks(m.withdraw, (p) => 1 + ((p.len + 7) >> 3)).map(({ items, bytes }) => ({
            deliver: (r: Router) => this.#withdraw(r, node.id, items),
            bytes,
          })),
          ...chunks(m.announce, (a) => 2 + ((a.prefix.len + 7) >> 3) + 36 * a.path.length)
            .map(({ items, bytes }) => ({
              deliver: (r: Router) => this.#announce(r, node.id, items),
              bytes,
            })),
        ];
      this.#stats.entries += m.withdraw.length + m.announce.length;
      for (const { deliver, bytes } of payloads) {
        this.#stats.messages++;
        this.#stats.bytes += bytes;
        this.#linkMessages.set(link, (this.#linkMessages.get(link) ?? 0) + 1);
        this.#push(this.now + latency / 2, () => {
          // Dropped when the link went down meanwhile (the session is gone).
          if (this.links.get(linkKey(i, j)) === undefined || !this.nodes[j].alive) return;
          deliver(this.nodes[j].router);
          this.onFibTouched?.(j);
          this.#mark();
          this.#kick(j);
        });
      }
    }
  }

  #mark(): void {
    this.#stats.convergenceMs = this.now - this.#runStart;
  }

  #push(t: number, run: () => void): void {
    this.#queue.push(t, this.#seq++, run);
  }

  #pop(): { t: number; run: () => void } {
    const t = this.#queue.peekKey()!;
    return { t, run: this.#queue.pop()! };
  }
}

/** Splits a list as the wire encoders do: payloads of ≤ 64 KiB and ≤ 65 535 entries. */
function chunks<T>(items: readonly T[], size: (x: T) => number): { items: T[]; bytes: number }[] {
  const out: { items: T[]; bytes: number }[] = [];
  let cur: T[] = [], bytes = 3;
  for (const x of items) {
    const n = size(x);
    if (cur.length === 0xffff || bytes + n > 65536) {
      out.push({ items: cur, bytes });
      cur = [];
      bytes = 3;
    }
    cur.push(x);
    bytes += n;
  }
  if (cur.length > 0) out.push({ items: cur, bytes });
  return out;
}

function emptyStats(): SimStats {
  return {
    convergenceMs: 0,
    messages: 0,
    entries: 0,
    bytes: 0,
    maxLinkMessages: 0,
    longestStepMs: 0,
    longestStepCpuMs: 0,
  };
}

/** A binary min-heap ordered by (key, tie); equal keys pop in tie order. */
export class MinHeap<T> {
  readonly #keys: number[] = [];
  readonly #ties: number[] = [];
  readonly #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  peekKey(): number | undefined {
    return this.#keys[0];
  }

  push(key: number, tie: number, item: T): void {
    const k = this.#keys, s = this.#ties, it = this.#items;
    let i = it.length;
    k.push(key);
    s.push(tie);
    it.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (k[p] < key || (k[p] === key && s[p] <= tie)) break;
      k[i] = k[p];
      s[i] = s[p];
      it[i] = it[p];
      i = p;
    }
    k[i] = key;
    s[i] = tie;
    it[i] = item;
  }

  pop(): T | undefined {
    const k = this.#keys, s = this.#ties, it = this.#items;
    if (it.length === 0) return undefined;
    const top = it[0];
    const key = k.pop()!, tie = s.pop()!, item = it.pop()!;
    const n = it.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && (k[c + 1] < k[c] || (k[c + 1] === k[c] && s[c + 1] < s[c]))) c++;
      if (key < k[c] || (key === k[c] && tie <= s[c])) break;
      k[i] = k[c];
      s[i] = s[c];
      it[i] = it[c];
      i = c;
    }
    k[i] = key;
    s[i] = tie;
    it[i] = item;
    return top;
  }
}

/** Key of the link between a and b. */
export function linkKey(a: number, b: number): string {
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}

/** Parses an address (for tests). */
export const addr = parseIpv6;

/** The simulation's PRNG (see random.ts). */
export const simRandom: (seed: number) => () => number = seededRandom;
