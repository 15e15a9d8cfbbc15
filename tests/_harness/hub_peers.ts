/**
 * Lightweight hub peers for bench:scale's hub mode and tests/e2e_hub_test.ts: one process
 * runs many peers, each the real session code (a {@link SessionManager} dialling the hub over
 * TLS with its own certificate: hello proof, liveness pings, backoff) and the real routing
 * core (a {@link Router} that announces the peer's own prefix and takes the hub's routes), but
 * no TUN, UDP channel, DC or node-info gossip. A hundred full vmesh processes would not fit
 * on two cores next to the hub being measured; these peers cost the hub what real ones do on
 * the session and routing path.
 *
 * Run as a program (`deno run -A hub_peers.ts <json options>`); it prints one JSON line per
 * event on stdout: `{"ev":"ready"}` once every peer dials, then
 * `{"ev":"up"|"down","peer":i,"t":<Date.now()>}` and `{"ev":"routes","peer":i,"n":k,"t":…}`
 * whenever a peer's route count changes. It exits on SIGTERM or when stdin closes.
 * @module
 */
import { issueNodeCertificate } from "../../src/pki/issue.ts";
import { identityFromPem, type NodeIdentity } from "../../src/pki/identity.ts";
import { trustStoreFromPem } from "../../src/pki/trust.ts";
import { FrameType } from "../../src/session/frame.ts";
import { type Session, SessionManager } from "../../src/session/mod.ts";
import {
  decodeAnnounce,
  decodeWithdraw,
  encodeAnnounce,
  encodeWithdraw,
  Router,
} from "../../src/routing/mod.ts";
import { parsePrefix } from "../../src/net/prefix.ts";
import { realClock } from "../../src/clock/mod.ts";

/** What the worker is told (one JSON argument). */
export interface HubPeersOptions {
  /** CA certificate and key files (PEM): the worker issues its peers' certificates. */
  caCrt: string;
  caKey: string;
  /** The hub's name (dialled as). */
  hubName: string;
  /** The hub's port; peer i dials 127.0.<1 + ⌊i/250⌋>.<1 + i mod 250> (its own source). */
  hubPort: number;
  /** Global indexes of this worker's peers: first and count. */
  first: number;
  count: number;
  /** Ping interval of the sessions, ms (default the node's 1000). */
  pingIntervalMs?: number;
}

/** The loopback address peer `i` dials the hub at (so each peer has its own source address). */
export function peerHubAddress(i: number): string {
  return `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
}

/** The name of peer `i` in the hub's domain. */
export function peerName(i: number, domain: string): string {
  return `p${i}.${domain}`;
}

/** The /48 peer `i` announces: fd01:<i>::/48. */
export function peerPrefix(i: number): string {
  return `fd01:${i.toString(16)}::/48`;
}

function emit(o: Record<string, unknown>): void {
  console.log(JSON.stringify(o));
}

/** One peer: a session manager and a router. */
class HubPeer {
  readonly router: Router;
  readonly sessions: SessionManager;
  #flushQueued = false;
  #routes = -1;

  constructor(
    readonly index: number,
    identity: NodeIdentity,
    o: HubPeersOptions,
    trust: Awaited<
      ReturnType<typeof trustStoreFromPem>
    >,
  ) {
    this.router = new Router({ localId: identity.id, localName: identity.name, clock: realClock });
    this.router.addLocal(parsePrefix(peerPrefix(index)), "");
    this.sessions = new SessionManager({
      identity,
      trust,
      peers: [{ name: o.hubName, addr: { host: peerHubAddress(index), port: o.hubPort } }],
      ping: { intervalMs: o.pingIntervalMs ?? 1000 },
      onSessionUp: (s) => {
        emit({ ev: "up", peer: index, t: Date.now() });
        this.router.peerUp(
          { id: s.peer.id, name: s.peer.name, external: s.peer.external },
          100,
        );
        this.#flush();
      },
      onSessionDown: (s) => {
        emit({ ev: "down", peer: index, t: Date.now() });
        this.router.peerDown(s.peer.id);
        this.#flush();
      },
      onControl: (s, type, payload) => this.#control(s, type, payload),
      onRtt: (s, ms) => this.router.updateLatency(s.peer.id, ms),
      onHandshakeFailure: (f) =>
        emit({ ev: "fail", peer: index, reason: f.reason, message: f.message, t: Date.now() }),
    });
  }

  #control(s: Session, type: number, payload: Uint8Array): void {
    if (type === FrameType.RouteAnnounce) {
      this.router.receiveAnnounce(s.peer.id, decodeAnnounce(payload));
    } else if (type === FrameType.RouteWithdraw) {
      this.router.receiveWithdraw(s.peer.id, decodeWithdraw(payload));
    } else return; // DC, node info, UDP channel: not spoken by these peers
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    setTimeout(() => {
      this.#flushQueued = false;
      this.#flush();
    }, 10);
  }

  #flush(): void {
    for (const [id, m] of this.router.flush().messages) {
      const s = this.sessions.session(id);
      if (s === undefined) continue;
      for (const p of encodeWithdraw(m.withdraw)) s.sendControl(FrameType.RouteWithdraw, p);
      for (const p of encodeAnnounce(m.announce)) s.sendControl(FrameType.RouteAnnounce, p);
    }
    const n = this.router.counts().routes;
    if (n !== this.#routes) {
      this.#routes = n;
      emit({ ev: "routes", peer: this.index, n, t: Date.now() });
    }
    if (this.router.pending) this.#scheduleFlush();
  }

  tick(): void {
    this.router.tick();
    if (this.router.pending) this.#scheduleFlush();
  }
}

async function main(o: HubPeersOptions): Promise<void> {
  const caPem = await Deno.readTextFile(o.caCrt);
  const caKeyPem = await Deno.readTextFile(o.caKey);
  const trust = await trustStoreFromPem(caPem);
  const domain = o.hubName.slice(o.hubName.indexOf(".") + 1);
  const peers: HubPeer[] = [];
  for (let i = o.first; i < o.first + o.count; i++) {
    const { certPem, keyPem } = await issueNodeCertificate({
      caCertPem: caPem,
      caKeyPem,
      name: peerName(i, domain),
    });
    peers.push(new HubPeer(i, await identityFromPem(certPem, keyPem, trust), o, trust));
  }
  for (const p of peers) await p.sessions.start();
  const tick = setInterval(() => peers.forEach((p) => p.tick()), 1000);
  // Event-loop stalls of this worker: a stalled worker answers the hub's pings late.
  let last = performance.now();
  const lag = setInterval(() => {
    const now = performance.now();
    if (now - last > 600) emit({ ev: "stall", ms: Math.round(now - last - 100), t: Date.now() });
    last = now;
  }, 100);
  emit({ ev: "ready" });
  const stop = async () => {
    clearInterval(tick);
    clearInterval(lag);
    await Promise.all(peers.map((p) => p.sessions.stop("peer worker exiting")));
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", () => void stop());
  // The parent going away closes our stdin: leave with it.
  for await (const _ of Deno.stdin.readable) { /* nothing is sent */ }
  await stop();
}

if (import.meta.main) await main(JSON.parse(Deno.args[0]) as HubPeersOptions);
