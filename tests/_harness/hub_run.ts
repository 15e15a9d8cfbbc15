/**
 * The hub scenario of `bench:scale --topology hub` and tests/e2e_hub_test.ts: one real vmesh
 * node (the hub, its own process in a namespace) and N lightweight peers (hub_peers.ts: the
 * real session and routing code, several peers per process) that dial it over the
 * namespace's loopback, each from its own 127.x address. Reports the hub's idle CPU and RSS
 * alone and with N sessions (so per session), then restarts the hub and reports how long
 * until every peer's session is back and every peer has every route again, and how long the
 * slowest peer waited (no peer starved).
 * @module
 */
import { delay, waitFor } from "./command.ts";
import { type Mesh, type MeshNode, withMesh } from "./mesh.ts";
import { cpuSeconds, medianMax, rssKiB } from "./mesh_watch.ts";
import { type HubPeersOptions, peerHubAddress, peerPrefix } from "./hub_peers.ts";
import { LISTEN_PORT } from "./mesh_node.ts";

/** Settings of {@link runHub}. */
export interface HubOptions {
  /** Peers of the hub. */
  peers: number;
  /** Peer processes (default ⌈peers / 25⌉). */
  workers?: number;
  /** Seconds of idle measurement, alone and with the peers (0 skips both). */
  idleSeconds: number;
  /** Seconds to let things settle before each idle window (default 2). */
  settleSeconds?: number;
  /** How the hub is stopped for the restart (default SIGTERM). */
  stopSignal?: "SIGTERM" | "SIGKILL";
  /** Limit for each wait, ms (default 120 000). */
  timeoutMs?: number;
  /** Progress lines go here. */
  log?: (line: string) => void;
}

/** Figures of one run. */
export interface HubResult {
  peers: number;
  /** Peers the hub lists as up at the end (its `status`). */
  hubPeersUp: number;
  workers: number;
  /** ms from the last worker being ready to every peer's session up and every route known. */
  initialMs: number;
  /** Hub alone: idle CPU (% of a core) and RSS (MiB). */
  alone?: { cpuPct: number; rssMiB: number };
  /** Hub with every peer: idle CPU (% of a core), RSS (MiB) and session bytes sent per s. */
  loaded?: { cpuPct: number; rssMiB: number };
  /** The difference per session: CPU (% of a core) and RSS (KiB). */
  perSession?: { cpuPct: number; rssKiB: number };
  /** How the hub was stopped. */
  stopSignal: string;
  /** ms from starting the hub process to its control socket answering. */
  hubReadyMs: number;
  /** ms from starting the hub process to every peer's session up again. */
  sessionsBackMs: number;
  /** ms from starting the hub process to every peer having every route again. */
  routesBackMs: number;
  /** ms from starting the hub process to each peer's session up: median and max. */
  perPeerUpMs: { median: number; max: number };
  /** Sessions per second during the reconnect (peers / (last up − first up)). */
  handshakesPerSecond: number;
  /** The hub's handshake failures by reason after the restart (refused connections etc.). */
  hubFailures: Record<string, number>;
  /** Event-loop stalls (> 500 ms) of the peer processes and the longest, ms. */
  peerStalls: { count: number; maxMs: number };
  /** The peers' failed dials by reason, from the start (initial and after the restart). */
  peerFailures: Record<string, number>;
  /** Hub RSS after the restart with every peer back, MiB. */
  rssAfterMiB?: number;
}

interface Worker {
  proc: Deno.ChildProcess;
  ready: Promise<void>;
}

/** Peer state as the workers report it. */
class PeerBoard {
  readonly upAt = new Map<number, number>();
  readonly up = new Set<number>();
  readonly routes = new Map<number, number>();
  /** Failed dials of the peers by reason. */
  readonly failures = new Map<string, number>();
  constructor(readonly n: number) {}

  /** Event-loop stalls of the peer processes over 500 ms, and the longest. */
  stalls = 0;
  maxStallMs = 0;

  event(e: { ev: string; peer: number; t: number; n?: number; reason?: string }): void {
    if (e.ev === "stall") {
      this.stalls++;
      this.maxStallMs = Math.max(this.maxStallMs, e.n ?? 0);
    }
    if (e.ev === "fail") {
      this.failures.set(e.reason!, (this.failures.get(e.reason!) ?? 0) + 1);
      if (Deno.env.get("HUB_DEBUG")) console.error(JSON.stringify(e));
    }
    if (e.ev === "up") {
      this.up.add(e.peer);
      this.upAt.set(e.peer, e.t);
    } else if (e.ev === "down") this.up.delete(e.peer);
    else if (e.ev === "routes") this.routes.set(e.peer, e.n!);
  }

  /** Every peer's session is up. */
  allUp(): boolean {
    return this.up.size === this.n;
  }

  /** Every peer has a route to the hub, every other peer and itself (n + 1 prefixes). */
  allRoutes(): boolean {
    if (this.routes.size < this.n) return false;
    for (const k of this.routes.values()) if (k < this.n + 1) return false;
    return true;
  }
}

async function waitUntil(what: string, ok: () => boolean, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await delay(10);
  }
  return Date.now();
}

function startWorker(hub: MeshNode, o: HubPeersOptions, board: PeerBoard): Worker {
  const cmd = hub.ns.command([
    Deno.execPath(),
    "run",
    "-A",
    new URL("./hub_peers.ts", import.meta.url).pathname,
    JSON.stringify(o),
  ]);
  const proc = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const { promise: ready, resolve: markReady } = Promise.withResolvers<void>();
  (async () => {
    let buf = "";
    for await (const chunk of proc.stdout.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.startsWith("{")) continue;
        const e = JSON.parse(line);
        if (e.ev === "ready") markReady();
        else if (e.ev === "stall") board.event({ ...e, n: e.ms });
        else board.event(e);
      }
    }
  })().catch((e) => console.error(`hub peer worker output: ${e}`));
  return { proc, ready };
}

async function idleWindow(pid: number, seconds: number) {
  const c0 = await cpuSeconds(pid);
  const t0 = performance.now();
  await delay(seconds * 1000);
  const c1 = await cpuSeconds(pid);
  const s = (performance.now() - t0) / 1000;
  return { cpuPct: (c1 - c0) / s * 100, rssMiB: ((await rssKiB(pid)) ?? NaN) / 1024 };
}

/** Runs the scenario (root and namespaces required). */
export async function runHub(o: HubOptions): Promise<HubResult> {
  const log = o.log ?? (() => {});
  const n = o.peers;
  const workers = o.workers ?? Math.ceil(n / 25);
  const timeoutMs = o.timeoutMs ?? 120_000;
  const settle = (o.settleSeconds ?? 2) * 1000;
  const stopSignal = o.stopSignal ?? "SIGTERM";
  return await withMesh({ nodes: ["hub"], links: [], label: "hub" }, async (mesh: Mesh) => {
    const hub = mesh.node("hub");
    // Each peer dials its own 127.x address: lo in the namespace holds 127.0.0.0/8, but the
    // kernel sources a loopback connection from the address dialled only if it is on lo.
    const addrs = Array.from({ length: n }, (_, i) => peerHubAddress(i));
    const batch = `${mesh.dir}/hub-lo-addresses`;
    await Deno.writeTextFile(batch, addrs.map((a) => `addr add ${a}/32 dev lo\n`).join(""));
    await hub.ns.ip(["-batch", batch]);
    log(`starting the hub`);
    await hub.start();
    let alone: HubResult["alone"];
    if (o.idleSeconds > 0) {
      await delay(settle);
      log(`measuring ${o.idleSeconds} s of the hub idle without peers`);
      alone = await idleWindow(hub.pid, o.idleSeconds);
    }
    const board = new PeerBoard(n);
    const per = Math.ceil(n / workers);
    const procs: Worker[] = [];
    try {
      log(`starting ${n} peers in ${workers} processes`);
      for (let w = 0; w < workers; w++) {
        const first = w * per;
        const count = Math.min(per, n - first);
        if (count <= 0) break;
        procs.push(startWorker(hub, {
          caCrt: mesh.pki.ca.crt,
          caKey: mesh.pki.ca.key,
          hubName: hub.fqdn,
          hubPort: LISTEN_PORT,
          first,
          count,
        }, board));
      }
      await Promise.all(procs.map((p) => p.ready));
      const tReady = Date.now();
      const tInit = await waitUntil(
        "every peer up with every route",
        () => board.allUp() && board.allRoutes(),
        timeoutMs,
      );
      const initialMs = tInit - tReady;
      log(`all ${n} sessions up and routes everywhere ${initialMs} ms after the peers were ready`);

      let loaded: HubResult["loaded"];
      let perSession: HubResult["perSession"];
      if (o.idleSeconds > 0) {
        await delay(settle);
        log(`measuring ${o.idleSeconds} s of the hub idle with ${n} peers`);
        loaded = await idleWindow(hub.pid, o.idleSeconds);
        perSession = {
          cpuPct: (loaded.cpuPct - alone!.cpuPct) / n,
          rssKiB: (loaded.rssMiB - alone!.rssMiB) * 1024 / n,
        };
      }

      log(`restarting the hub (${stopSignal})`);
      if (stopSignal === "SIGKILL") {
        hub.signal("SIGKILL");
        await hub.process!.wait(10_000);
      } else await hub.stop("SIGTERM");
      await waitUntil("every peer to see the hub go", () => board.up.size === 0, timeoutMs);
      const t0 = Date.now();
      await hub.start({ waitReady: false });
      await hub.waitReady(timeoutMs);
      const hubReadyMs = Date.now() - t0;
      const sessionsBackMs = await waitUntil("every peer back", () => board.allUp(), timeoutMs) -
        t0;
      const routesBackMs = await waitUntil(
        "every peer with every route again",
        () => board.allUp() && board.allRoutes(),
        timeoutMs,
      ) - t0;
      // The hub's own view: a session up with every peer and a route to every peer's prefix.
      await waitFor(`${hub.fqdn} to list ${n} peers up`, async () => {
        return (await hub.status()).peers.filter((p) => p.state === "up").length === n;
      }, { timeoutMs });
      await hub.waitRoutes(Array.from({ length: n }, (_, i) => peerPrefix(i)), timeoutMs);
      const hubPeersUp = (await hub.status()).peers.filter((p) => p.state === "up").length;
      const ups = [...board.upAt.values()].map((t) => t - t0);
      const first = Math.min(...ups), last = Math.max(...ups);
      const st = await hub.status() as {
        sessions?: { handshakeFailures?: Record<string, number> };
      };
      log(`every session back ${sessionsBackMs} ms, every route ${routesBackMs} ms after start`);
      return {
        peers: n,
        hubPeersUp,
        workers: procs.length,
        initialMs,
        alone,
        loaded,
        perSession,
        stopSignal,
        hubReadyMs,
        sessionsBackMs,
        routesBackMs,
        perPeerUpMs: medianMax(ups),
        handshakesPerSecond: last > first ? n / ((last - first) / 1000) : Infinity,
        hubFailures: st.sessions?.handshakeFailures ?? {},
        peerFailures: Object.fromEntries(board.failures),
        peerStalls: { count: board.stalls, maxMs: board.maxStallMs },
        rssAfterMiB: ((await rssKiB(hub.pid)) ?? NaN) / 1024,
      };
    } finally {
      for (const p of procs) {
        try {
          p.proc.kill("SIGTERM");
        } catch { /* already gone */ }
        await p.proc.stdin.close().catch(() => {});
        await p.proc.status;
      }
    }
  });
}
