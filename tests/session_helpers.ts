/**
 * Helpers for the session tests: managers on loopback that record their events.
 * @module
 */
import type { NodeIdentity, TrustStore } from "../src/pki/mod.ts";
import {
  type PeerConfig,
  type Session,
  SessionManager,
  type SessionManagerOptions,
} from "../src/session/mod.ts";

/** A manager with its recorded events. */
export interface TestNode {
  mgr: SessionManager;
  name: string;
  up: Session[];
  down: { session: Session; reason: string }[];
  control: { session: Session; type: number; payload: Uint8Array }[];
  packets: { session: Session; packets: Uint8Array[]; vnet: boolean[] }[];
  /** The listen address as a peer entry for others. */
  asPeer(): PeerConfig;
}

/** Fast settings for tests: short handshake timeout, fast pings, fast reconnects. */
export const FAST = {
  handshakeTimeoutMs: 5000,
  ping: { intervalMs: 200, deadAfter: 3 },
  backoff: { initialMs: 50, maxMs: 400, stableMs: 1000 },
};

/** Starts a manager listening on 127.0.0.1 (ephemeral port) that records its events. */
export async function startNode(
  identity: NodeIdentity,
  trust: TrustStore,
  opts: Partial<SessionManagerOptions> = {},
): Promise<TestNode> {
  const node: TestNode = {
    mgr: undefined as unknown as SessionManager,
    name: identity.name,
    up: [],
    down: [],
    control: [],
    packets: [],
    asPeer() {
      const a = node.mgr.listenAddr()!;
      return { addr: { host: "127.0.0.1", port: a.port }, name: identity.name };
    },
  };
  node.mgr = new SessionManager({
    identity,
    trust,
    listen: { host: "127.0.0.1", port: 0 },
    ...FAST,
    ...opts,
    onSessionUp: (s) => node.up.push(s),
    onSessionDown: (s, reason) => node.down.push({ session: s, reason }),
    onControl: (s, type, payload) =>
      node.control.push({ session: s, type, payload: payload.slice() }),
    onPackets: (s, packets, vnet) =>
      node.packets.push({ session: s, packets: packets.map((p) => p.slice()), vnet: [...vnet] }),
  });
  await node.mgr.start();
  return node;
}

/** Polls `cond` every 10 ms until it holds; throws after `timeoutMs` naming `what`. */
export async function waitUntil(
  cond: () => boolean,
  what: string,
  timeoutMs = 8000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Stops all managers. */
export async function stopAll(...nodes: (TestNode | SessionManager | undefined)[]): Promise<void> {
  await Promise.all(
    nodes.map((n) =>
      n === undefined ? undefined : (n instanceof SessionManager ? n : n.mgr).stop()
    ),
  );
  // Let close frames and socket teardown finish so that the test sanitizers see no leaks.
  await new Promise((r) => setTimeout(r, 50));
}
