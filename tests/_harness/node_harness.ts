/**
 * In-process vmesh nodes on loopback for the node tests: a throwaway PKI written to a temp
 * dir, real config files (loaded with `prepareNode`, as `vmesh run` does), one memory vif per
 * node, IPv6 packet builders and DC signing.
 *
 * Node `x` with index `n` is `x.vnet.test`, announces `fd00:<n>::/48` into its memory vif
 * "mem", and listens on 127.0.0.1 on a free port (TCP for sessions, UDP for the data channel).
 *
 * @example
 * const mesh = await NodeMesh.create();
 * try {
 *   const b = await mesh.start("b", 2);
 *   const a = await mesh.start("a", 1, { peers: [b] });
 *   await mesh.waitRoute(a, "fd00:2::/48");
 *   a.vif.inject(udpPacket({ src: "fd00:1::5", dst: "fd00:2::5" }));
 *   const got = await b.vif.nextWritten();
 * } finally {
 *   await mesh.close();
 * }
 * @module
 */
import { type PreparedNode, prepareNode } from "../../src/config/mod.ts";
import { signDc } from "../../src/dc/mod.ts";
import { parseIpv6 } from "../../src/net/ipv6.ts";
import { controlRequest } from "../../src/node/control.ts";
import { Node } from "../../src/node/node.ts";
import { runNode, type RunNodeOptions } from "../../src/node/run.ts";
import { MemoryVif } from "../../src/vif/memory.ts";
import { makeTestPki, type TestNode, type TestPki } from "./pki.ts";

/** The domain of every harness node. */
export const NODE_DOMAIN = "vnet.test";

/** Options of {@link NodeMesh.configJson} and {@link NodeMesh.start}. */
export interface NodeOptions {
  /** Nodes this one dials. */
  peers?: readonly MeshNode[];
  /** `peers[].udp` for every peer (default: no key, `auto`). */
  udp?: boolean | "off";
  /** Prefixes announced into the memory vif (default `fd00:<n>::/48`). */
  announce?: readonly string[];
  /** Listen port (default: a free one). */
  port?: number;
  /** Extra top-level config keys (override the defaults). */
  extra?: Record<string, unknown>;
}

/** One in-process node. */
export interface MeshNode {
  /** Short name ("a"). */
  short: string;
  /** Certificate name ("a.vnet.test"). */
  name: string;
  /** n of `fd00:<n>::/48`. */
  index: number;
  /** Its directory: config.json, state/, control.sock. */
  dir: string;
  /** The config file. */
  configPath: string;
  /** The config as written. */
  json: Record<string, unknown>;
  /** The loaded inputs. */
  prepared: PreparedNode;
  /** The running node. */
  node: Node;
  /** Its memory vif (config key "mem"). */
  vif: MemoryVif;
  /** The listen port. */
  port: number;
}

/**
 * A free TCP and UDP port on 127.0.0.1 (the node binds both to its listen port). The port is
 * released before returning; the kernel does not hand it out again at once.
 */
export function freePort(): number {
  for (let i = 0; i < 20; i++) {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    try {
      const u = Deno.listenDatagram({ hostname: "127.0.0.1", port, transport: "udp" });
      u.close();
      return port;
    } catch {
      // UDP side taken: try another port.
    } finally {
      l.close();
    }
  }
  throw new Error("freePort(): no port free for both TCP and UDP after 20 tries");
}

/** Several nodes sharing one PKI and temp directory. */
export class NodeMesh {
  readonly nodes: MeshNode[] = [];
  readonly #certs = new Map<string, TestNode>();

  private constructor(readonly pki: TestPki, readonly dir: string) {}

  /** Makes the PKI (CA files in `<dir>/ca.crt`, `ca.key`) and the temp dir. */
  static async create(): Promise<NodeMesh> {
    const pki = await makeTestPki({ domain: NODE_DOMAIN });
    const dir = await Deno.makeTempDir({ prefix: "vmt-node-" });
    await pki.writeFiles([], dir);
    return new NodeMesh(pki, dir);
  }

  /** The certificate of node `short`, issued once and written as `<dir>/<name>.crt|key`. */
  async cert(short: string): Promise<TestNode> {
    let c = this.#certs.get(short);
    if (!c) {
      c = await this.pki.issue(short);
      await this.pki.writeFiles([c], this.dir);
      this.#certs.set(short, c);
    }
    return c;
  }

  /**
   * Writes `<dir>/<short>/config.json` for a node and returns its path and JSON. The node
   * keeps its state, control socket and config in `<dir>/<short>/`.
   */
  async configJson(
    short: string,
    index: number,
    o: NodeOptions = {},
  ): Promise<{ path: string; json: Record<string, unknown>; port: number }> {
    const c = await this.cert(short);
    const nodeDir = `${this.dir}/${short}`;
    await Deno.mkdir(nodeDir, { recursive: true });
    const port = o.port ?? freePort();
    const json: Record<string, unknown> = {
      listen_addr: `127.0.0.1:${port}`,
      ca: `${this.dir}/ca.crt`,
      cert: `${this.dir}/${c.name}.crt`,
      private_key: `${this.dir}/${c.name}.key`,
      server_name: c.name,
      local_announcements: (o.announce ?? [`fd00:${index}::/48`]).map((p) => ({
        prefix: p,
        vif: "mem",
      })),
      peers: (o.peers ?? []).map((p) => ({
        addr: `127.0.0.1:${p.port}`,
        name: p.name,
        ...(o.udp !== undefined ? { udp: o.udp } : {}),
      })),
      vifs: { mem: { type: "dummy" } },
      state_dir: `${nodeDir}/state`,
      control_socket: `${nodeDir}/control.sock`,
      // A peer is declared dead after 3 intervals without an answer. All nodes share this
      // process: on a loaded machine it can go unscheduled for most of a second, and with
      // 200 ms the sessions died under the tests (a 1 s stall dropped every session). The
      // default interval tolerates 3 s.
      ping_interval_ms: 1000,
      ...o.extra,
    };
    const path = `${nodeDir}/config.json`;
    await Deno.writeTextFile(path, JSON.stringify(json, null, 2));
    return { path, json, port };
  }

  /**
   * Starts node `short` in this process with a memory vif in place of the config's dummy
   * "mem" vif: loads its config with `prepareNode`, loads its state, starts it and its vif
   * pump.
   */
  async start(short: string, index: number, o: NodeOptions = {}): Promise<MeshNode> {
    const { path, json, port } = await this.configJson(short, index, o);
    const prepared = await prepareNode(path);
    const vif = new MemoryVif({ name: `mem-${short}` });
    const node = new Node(prepared, new Map([["mem", vif]]));
    await node.loadState();
    await node.start();
    node.startForwarding();
    const m: MeshNode = {
      short,
      name: prepared.identity.name,
      index,
      dir: `${this.dir}/${short}`,
      configPath: path,
      json,
      prepared,
      node,
      vif,
      port,
    };
    this.nodes.push(m);
    return m;
  }

  /** Stops one node (closing its sessions with `reason`). */
  async stopNode(m: MeshNode, reason?: string): Promise<void> {
    await m.node.stop(reason);
    const i = this.nodes.indexOf(m);
    if (i >= 0) this.nodes.splice(i, 1);
  }

  /**
   * Signs DC content with the mesh CA.
   * @param content e.g. `{ prefix_whitelist: { "a.vnet.test": ["fd00:1::/48"] } }`
   * @param now the signing time (NotBefore; whole seconds); default now
   */
  async signDc(content: unknown, now?: Date): Promise<Uint8Array> {
    const signed = await signDc({
      caCertPem: this.pki.ca.certPem,
      caKeyPem: this.pki.ca.keyPem,
      content: new TextEncoder().encode(JSON.stringify(content)),
      now,
    });
    return signed.bytes;
  }

  /**
   * Starts the chain A–B–C (A and C dial B; addresses 1, 2, 3) and waits until A and C know
   * each other's prefix.
   * @param o `udp`: A and C ask B for the UDP data channel; `announceA`: the prefixes A announces
   */
  async chain(
    o: { udp?: boolean | "off"; announceA?: readonly string[] } = {},
  ): Promise<MeshNode[]> {
    const b = await this.start("b", 2);
    const a = await this.start("a", 1, { peers: [b], udp: o.udp, announce: o.announceA });
    const c = await this.start("c", 3, { peers: [b], udp: o.udp });
    await this.waitRoute(a, "fd00:3::/48");
    await this.waitRoute(c, "fd00:1::/48");
    return [a, b, c];
  }

  /** Waits until `m`'s routing table has (or, with `present` false, lacks) `prefix`. */
  async waitRoute(m: MeshNode, prefix: string, present = true, timeoutMs = 10_000): Promise<void> {
    await waitUntil(
      () => m.node.router.table().some((r) => r.prefix === prefix) === present,
      `${m.short} to ${present ? "learn" : "lose"} a route to ${prefix}`,
      timeoutMs,
    );
  }

  /** Waits until `m` has an open session with each of `peers`. */
  async waitSessions(m: MeshNode, peers: readonly MeshNode[], timeoutMs = 10_000): Promise<void> {
    await waitUntil(
      () => peers.every((p) => m.node.sessions.sessions().some((s) => s.peer.name === p.name)),
      `${m.short} to have sessions with ${peers.map((p) => p.short).join(", ")}`,
      timeoutMs,
    );
  }

  /** Stops every node still running and removes the temp dir. */
  async close(): Promise<void> {
    await Promise.all(this.nodes.splice(0).map((m) => m.node.stop()));
    // Let close frames and socket teardown finish so that the test sanitizers see no leaks.
    await new Promise((r) => setTimeout(r, 100));
    await Deno.remove(this.dir, { recursive: true }).catch(() => undefined);
  }
}

/** A node run by `runNode` in this process. */
export interface RunningNode {
  /** Its control socket. */
  socket: string;
  /** Its config file. */
  configPath: string;
  /** Asks it to stop and returns runNode's exit code. */
  stop(): Promise<number>;
}

/**
 * Writes node `short`'s config and runs it with `runNode` (as `vmesh run` would, its "mem" vif
 * a dummy) until `stop()`; resolves once its control socket answers.
 */
export async function runInProcess(
  mesh: NodeMesh,
  short: string,
  index: number,
  o: NodeOptions & { run?: Partial<RunNodeOptions> } = {},
): Promise<RunningNode> {
  const { path, json } = await mesh.configJson(short, index, o);
  const prepared = await prepareNode(path);
  const { promise: stopSignal, resolve } = Promise.withResolvers<void>();
  const exit = runNode(prepared, {
    configPath: path,
    dropPermissions: false,
    stopSignal,
    ...o.run,
  });
  const socket = json.control_socket as string;
  let code: number | undefined;
  exit.then((c) => code = c);
  await waitUntil(
    () => code !== undefined || controlRequest(socket, "status").then(() => true, () => false),
    `node ${short} to answer on its control socket`,
  );
  if (code !== undefined) throw new Error(`runNode for ${short} exited with ${code} at start`);
  return {
    socket,
    configPath: path,
    async stop() {
      resolve();
      const c = await exit;
      await new Promise((r) => setTimeout(r, 50));
      return c;
    },
  };
}

/** Polls `cond` every 10 ms until it holds; throws after `timeoutMs` naming `what`. */
export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** IPv6 next header: UDP. */
export const PROTO_UDP = 17;
/** IPv6 next header: ICMPv6. */
export const PROTO_ICMPV6 = 58;

/**
 * An IPv6 + UDP packet (ports 4000 → 5000, checksum left 0; the forwarder does not check it).
 * @param o.hopLimit default 64
 * @param o.payload default 32 bytes of 0xab
 */
export function udpPacket(
  o: { src: string; dst: string; hopLimit?: number; payload?: Uint8Array },
): Uint8Array {
  const payload = o.payload ?? new Uint8Array(32).fill(0xab);
  const p = new Uint8Array(40 + 8 + payload.length);
  const dv = new DataView(p.buffer);
  p[0] = 0x60;
  dv.setUint16(4, 8 + payload.length);
  p[6] = PROTO_UDP;
  p[7] = o.hopLimit ?? 64;
  p.set(parseIpv6(o.src), 8);
  p.set(parseIpv6(o.dst), 24);
  dv.setUint16(40, 4000);
  dv.setUint16(42, 5000);
  dv.setUint16(44, 8 + payload.length);
  p.set(payload, 48);
  return p;
}

/** The fields of an IPv6 packet the tests look at. */
export interface PacketSummary {
  src: Uint8Array;
  dst: Uint8Array;
  hopLimit: number;
  nextHeader: number;
  /** ICMPv6 type and code when `nextHeader` is ICMPv6. */
  icmp?: { type: number; code: number; quoted: Uint8Array };
}

/** Reads the header fields (and the ICMPv6 type, code and quoted packet) of a packet. */
export function summarize(p: Uint8Array): PacketSummary {
  if (p.length < 40 || p[0] >> 4 !== 6) throw new Error(`not an IPv6 packet (${p.length} bytes)`);
  const s: PacketSummary = {
    src: p.slice(8, 24),
    dst: p.slice(24, 40),
    hopLimit: p[7],
    nextHeader: p[6],
  };
  if (s.nextHeader === PROTO_ICMPV6 && p.length >= 48) {
    s.icmp = { type: p[40], code: p[41], quoted: p.slice(48) };
  }
  return s;
}
