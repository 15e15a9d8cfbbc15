/**
 * A mesh of vmesh nodes, one per network namespace, joined by veth pairs: configs, a
 * throwaway PKI, node processes with logs, convergence waits through the control socket,
 * and a teardown that always leaves nothing behind.
 *
 * Node `x` with index `n` is `x.vnet.test`, owns `fd00:<n>::/48`, has `fd00:<n>::1/48` on
 * its TUN `vmesh0` and routes `fd00::/16` into it. It listens on `0.0.0.0:5120` and is reached
 * over the IPv4 underlay of each link.
 *
 * @example
 * await withMesh({ nodes: ["a", "b", "c"], links: [["a", "b"], ["b", "c"]] }, async (mesh) => {
 *   await mesh.startAll();
 *   await mesh.waitConverged();
 *   const r = await ping(mesh.node("a").ns, mesh.node("c").address);
 * });
 * @module
 */
import { type CertFiles, type CliPki, sharedPki } from "./cli_pki.ts";
import { waitFor } from "./command.ts";
import { cleanupStale, connectNamespaces, Netns, uniqueTag, type VethLink } from "./netns.ts";
import {
  LISTEN_PORT,
  MeshNode,
  type NodeSpec,
  type NodeStartOptions,
  TUN_NAME,
} from "./mesh_node.ts";

export * from "./mesh_node.ts";

/** A veth link between two nodes. */
export interface LinkSpec {
  a: string;
  b: string;
  /** Which side lists the other in `peers` (dials it). Default "a". */
  dial?: "a" | "b" | "both";
  /** `peers[].udp` for this link; default the mesh's `udp`. */
  udp?: boolean;
}

/** What a mesh consists of. */
export interface MeshOptions {
  nodes: readonly (string | NodeSpec)[];
  links: readonly (LinkSpec | readonly [string, string])[];
  /** Word in namespace names, for operators reading `ip netns list`. */
  label?: string;
  /** Our CA; default {@link sharedPki}(). */
  pki?: CliPki;
  /** Use the UDP data channel on every link. */
  udp?: boolean;
  /** TUN MTU; default 1420. */
  mtu?: number;
}

const NAME_RE = /^[a-z][a-z0-9]{0,9}$/;

/** A running mesh. Always {@link Mesh.close} it (or use {@link withMesh}). */
export class Mesh {
  readonly nodes = new Map<string, MeshNode>();
  readonly links: VethLink[] = [];
  #closing: Promise<void> | undefined;

  private constructor(readonly tag: string, readonly dir: string, readonly pki: CliPki) {}

  /**
   * Creates the namespaces, links, certificates and config files (nodes are not started).
   * Removes leftovers of crashed earlier runs first.
   * @throws {Error} on bad specs or when the namespaces cannot be made (everything made so
   * far is removed again).
   */
  static async create(opts: MeshOptions): Promise<Mesh> {
    await cleanupStale();
    const tag = uniqueTag(opts.label);
    const dir = await Deno.makeTempDir({ prefix: `${tag}-` });
    // Nodes that drop to nobody must still reach their files.
    await Deno.chmod(dir, 0o755);
    const mesh = new Mesh(tag, dir, opts.pki ?? await sharedPki());
    try {
      await mesh.#build(opts);
    } catch (e) {
      await mesh.close();
      throw e;
    }
    return mesh;
  }

  async #build(opts: MeshOptions): Promise<void> {
    const specs = opts.nodes.map((n) => typeof n === "string" ? { name: n } : n);
    const indexes = new Set<number>();
    for (const [i, spec] of specs.entries()) {
      if (!NAME_RE.test(spec.name)) {
        throw new TypeError(`node name "${spec.name}": use 1-10 lower-case letters/digits`);
      }
      if (this.nodes.has(spec.name)) throw new TypeError(`node "${spec.name}" listed twice`);
      const index = spec.index ?? i + 1;
      if (indexes.has(index)) throw new TypeError(`node index ${index} used twice`);
      indexes.add(index);
      const ns = await Netns.create(`${this.tag}-${spec.name}`);
      const nodeDir = `${this.dir}/${spec.name}`;
      await Deno.mkdir(nodeDir, { mode: 0o755 });
      await Deno.chmod(nodeDir, 0o755);
      this.nodes.set(spec.name, new MeshNode(spec.name, index, ns, nodeDir, spec));
    }
    const links = opts.links.map((l): LinkSpec =>
      Array.isArray(l) ? { a: l[0], b: l[1] } : l as LinkSpec
    );
    const peers = new Map<string, unknown[]>([...this.nodes.keys()].map((k) => [k, []]));
    for (const [i, l] of links.entries()) {
      const a = this.node(l.a);
      const b = this.node(l.b);
      if (a === b) throw new TypeError(`link ${i} joins ${l.a} to itself`);
      const link = await connectNamespaces(a.ns, b.ns, i + 1, {
        aIf: `to-${b.name}`,
        bIf: `to-${a.name}`,
      });
      a.interfaces.set(link.aIf, b.name);
      b.interfaces.set(link.bIf, a.name);
      this.links.push(link);
      const udp = l.udp ?? opts.udp ?? false;
      const dial = l.dial ?? "a";
      if (dial === "a" || dial === "both") {
        peers.get(a.name)!.push({ addr: `${link.bAddr}:${LISTEN_PORT}`, name: b.fqdn, udp });
      }
      if (dial === "b" || dial === "both") {
        peers.get(b.name)!.push({ addr: `${link.aAddr}:${LISTEN_PORT}`, name: a.fqdn, udp });
      }
    }
    await Promise.all([...this.nodes.values()].map(async (node) => {
      const certs: CertFiles = await (node.spec.pki ?? this.pki).node(node.fqdn);
      const ca = (node.spec.pki ?? this.pki).ca.crt;
      const config = {
        listen_addr: `0.0.0.0:${LISTEN_PORT}`,
        ca,
        cert: certs.crt,
        private_key: certs.key,
        server_name: node.fqdn,
        external_peer_certs: [],
        local_announcements: [node.prefix, ...node.spec.extraAnnouncements ?? []].map((p) => ({
          prefix: p,
          vif: "tun0",
        })),
        peers: peers.get(node.name),
        vifs: {
          tun0: {
            type: "tun",
            tun_name: TUN_NAME,
            addresses: node.spec.addresses ?? [`${node.address}/48`],
            routes: ["fd00::/16"],
            mtu: opts.mtu ?? 1420,
          },
        },
        state_dir: node.stateDir,
        control_socket: node.controlSocket,
        ...node.spec.config,
      };
      await Deno.writeTextFile(node.configPath, JSON.stringify(config, null, 2) + "\n");
    }));
  }

  /** The node called `name`. @throws {TypeError} for an unknown name. */
  node(name: string): MeshNode {
    const n = this.nodes.get(name);
    if (!n) throw new TypeError(`no node "${name}" in this mesh`);
    return n;
  }

  /** The link between nodes `a` and `b` (either order). */
  link(a: string, b: string): VethLink {
    const na = this.node(a).ns;
    const nb = this.node(b).ns;
    const l = this.links.find((l) => (l.a === na && l.b === nb) || (l.a === nb && l.b === na));
    if (!l) throw new TypeError(`no link between ${a} and ${b}`);
    return l;
  }

  /** Starts the given nodes (all by default) in parallel. */
  async start(names?: readonly string[], opts: NodeStartOptions = {}): Promise<void> {
    const nodes = names ? names.map((n) => this.node(n)) : [...this.nodes.values()];
    await Promise.all(nodes.map((n) => n.start(opts)));
  }

  /**
   * Waits until the mesh among the running nodes (or `names`) has converged: the session of
   * every link between them is up at both ends, and each has a route to every other one's
   * prefix.
   */
  async waitConverged(names?: readonly string[], timeoutMs = 30_000): Promise<void> {
    const nodes = names
      ? names.map((n) => this.node(n))
      : [...this.nodes.values()].filter((n) => n.running);
    await this.waitLinksUp(nodes, timeoutMs);
    await Promise.all(
      nodes.map((n) => n.waitRoutes(nodes.filter((o) => o !== n).map((o) => o.prefix), timeoutMs)),
    );
  }

  /** Waits until each link between two of `nodes` has its session up at both ends. */
  async waitLinksUp(nodes: readonly MeshNode[], timeoutMs = 30_000): Promise<void> {
    const byNs = new Map(nodes.map((n) => [n.ns, n]));
    const pairs: [MeshNode, MeshNode][] = [];
    for (const l of this.links) {
      const a = byNs.get(l.a);
      const b = byNs.get(l.b);
      if (a && b) pairs.push([a, b], [b, a]);
    }
    await Promise.all(
      pairs.map(([n, peer]) =>
        waitFor(`${n.fqdn}'s session with ${peer.fqdn} to be up`, async () => {
          const id = await peer.id();
          return (await n.status()).peers.some((p) => p.id === id && p.state === "up");
        }, { timeoutMs })
      ),
    );
  }

  /**
   * Every node's log and, for running nodes, its peers and routes (for printing when a test
   * fails).
   */
  async logs(): Promise<string> {
    const parts: string[] = [];
    for (const n of this.nodes.values()) {
      parts.push(`----- ${n.fqdn} (${n.ns.name}) -----\n${await n.log()}`);
      if (!n.running) continue;
      try {
        const peers = (await n.status()).peers.map((p) => `${p.name} ${p.state}`);
        const routes = (await n.routes()).map((r) =>
          `${r.prefix} via ${r.nextHop?.name ?? r.nextHop?.kind} ` +
          `[${(r.path ?? []).map((h) => h.name ?? h.id.slice(0, 12)).join(" ")}] ${r.reason}`
        );
        parts.push(`peers: ${peers.join(", ")}\nroutes:\n  ${routes.join("\n  ")}`);
      } catch (e) {
        parts.push(`(control socket: ${e instanceof Error ? e.message : e})`);
      }
    }
    return parts.join("\n");
  }

  /**
   * Stops every node (SIGTERM, then SIGKILL), deletes the namespaces (killing whatever else
   * runs in them) and removes the temp dir. Safe after failures; a second call waits for the
   * first one to finish.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const errors: unknown[] = [];
    await Promise.all([...this.nodes.values()].map((n) => n.stop().catch((e) => errors.push(e))));
    for (const n of this.nodes.values()) await n.ns.destroy().catch((e) => errors.push(e));
    if (Deno.env.get("VMESH_E2E_KEEP") !== "1") {
      await Deno.remove(this.dir, { recursive: true }).catch((e) => errors.push(e));
    } else {
      console.error(`VMESH_E2E_KEEP=1: kept ${this.dir}`);
    }
    if (errors.length) throw new AggregateError(errors, `tearing down mesh ${this.tag} failed`);
  }
}

/**
 * Creates a mesh, runs `fn`, prints every node's log when `fn` fails, and always tears the
 * mesh down.
 */
export async function withMesh<T>(opts: MeshOptions, fn: (mesh: Mesh) => Promise<T>): Promise<T> {
  const mesh = await Mesh.create(opts);
  try {
    return await fn(mesh);
  } catch (e) {
    console.error(`\n===== logs of mesh ${mesh.tag} =====\n${await mesh.logs()}`);
    throw e;
  } finally {
    await mesh.close();
  }
}
