/**
 * One vmesh node of a harness mesh: its namespace, files and process, and its answers on the
 * control socket (`status`, `routes`, `dc`). Made by `Mesh` (mesh.ts).
 * @module
 */
import { controlRequest } from "../../src/node/control.ts";
import { parsePrefix, prefixEquals } from "../../src/net/prefix.ts";
import type { CliPki } from "./cli_pki.ts";
import { waitFor } from "./command.ts";
import type { Netns } from "./netns.ts";
import { ManagedProcess } from "./process.ts";
import { vmeshArgv } from "./vmesh_cli.ts";

/** The DNS-style domain every harness node is in. */
export const MESH_DOMAIN = "vnet.test";
/** The TUN device name inside every namespace. */
export const TUN_NAME = "vmesh0";
/** The port every node listens on (each node has its own namespace). */
export const LISTEN_PORT = 5120;

/** One node of a mesh. */
export interface NodeSpec {
  /** Short name: lower-case letters and digits, at most 10 (used in namespace and veth names). */
  name: string;
  /** `n` of `fd00:<n>::/48`; by default its position in `nodes` plus one. */
  index?: number;
  /** The node's name (server_name); default `<name>.vnet.test`. */
  fqdn?: string;
  /** The CA issuing its certificate; default the mesh's PKI. */
  pki?: CliPki;
  /** Announcements beyond its own prefix (for hijack tests). */
  extraAnnouncements?: string[];
  /** TUN addresses; default `fd00:<n>::1/48`. */
  addresses?: string[];
  /** More config keys (e.g. `max_routes_per_origin`), written over the generated ones. */
  config?: Record<string, unknown>;
}

/** How to start a node. */
export interface NodeStartOptions {
  /** `--initial-dc <file>` */
  initialDc?: string;
  /** `--debug` */
  debug?: boolean;
  /** `--drop-permissions` */
  dropPermissions?: boolean;
  /** Wait until the control socket answers (default true). */
  waitReady?: boolean;
}

/** A peer as `status` reports it. */
export interface PeerStatus {
  name: string;
  id: string;
  addr?: string;
  state?: string;
  rttMs?: number;
  [k: string]: unknown;
}

/** The `status` control command's answer (the parts the harness reads). */
export interface NodeStatus {
  node: { name: string; id: string };
  peers: PeerStatus[];
  [k: string]: unknown;
}

/** One hop of a route's path as `routes` reports it (name when the node knows it). */
export interface RouteHop {
  id: string;
  name?: string;
  latencyMs?: number;
}

/** A route as `routes` reports it. */
export interface RouteInfo {
  prefix: string;
  nextHop?: { kind?: string; id?: string; name?: string };
  latencyMs?: number;
  path?: RouteHop[];
  reason?: string;
  [k: string]: unknown;
}

/** The `dc` control command's answer (`vmesh dc show --json` plus the content). */
export interface DcInfo {
  signed_at: string;
  content_sha256: string;
  content: string;
  [k: string]: unknown;
}

/** A node: its namespace, files and (while running) process. */
export class MeshNode {
  readonly fqdn: string;
  readonly prefix: string;
  /** The address on its TUN that answers pings: `fd00:<n>::1`. */
  readonly address: string;
  readonly configPath: string;
  readonly controlSocket: string;
  readonly stateDir: string;
  readonly logPath: string;
  /** The process while running (or after it exited, until the next start). */
  process: ManagedProcess | undefined;
  /** Interface name in this namespace → the neighbour it leads to. */
  readonly interfaces = new Map<string, string>();
  /** When the last start() began (performance.now()). */
  startedAt = 0;
  #id: string | undefined;

  constructor(
    readonly name: string,
    readonly index: number,
    readonly ns: Netns,
    readonly dir: string,
    readonly spec: NodeSpec,
  ) {
    this.fqdn = spec.fqdn ?? `${name}.${MESH_DOMAIN}`;
    const hex = index.toString(16);
    this.prefix = `fd00:${hex}::/48`;
    this.address = `fd00:${hex}::1`;
    this.configPath = `${dir}/config.json`;
    this.controlSocket = `${dir}/control.sock`;
    this.stateDir = `${dir}/state`;
    this.logPath = `${dir}/node.log`;
  }

  /** Whether the node process is running. */
  get running(): boolean {
    return this.process !== undefined && this.process.status === undefined;
  }

  /** The node process's pid. @throws {Error} when it was never started. */
  get pid(): number {
    if (!this.process) throw new Error(`${this.name} was not started`);
    return this.process.pid;
  }

  /**
   * Starts `vmesh run` in the node's namespace with the compiled binary's permissions and
   * (unless `waitReady: false`) waits until its control socket answers.
   * @throws {Error} with the node's log when it exits or does not come up within 30 s.
   */
  async start(opts: NodeStartOptions = {}): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    const args = ["run", "--config", this.configPath];
    if (opts.initialDc) args.push("--initial-dc", opts.initialDc);
    if (opts.debug ?? Deno.env.get("VMESH_E2E_DEBUG") === "1") args.push("--debug");
    if (opts.dropPermissions) args.push("--drop-permissions");
    this.startedAt = performance.now();
    // VMESH_E2E_CPU_PROF=<dir>: each node writes a V8 CPU profile there when it exits.
    const prof = Deno.env.get("VMESH_E2E_CPU_PROF");
    const argv = vmeshArgv(args);
    if (prof) argv.splice(2, 0, "--cpu-prof", `--cpu-prof-dir=${prof}`);
    this.process = await ManagedProcess.start(this.fqdn, this.ns.command(argv), {
      logPath: this.logPath,
      env: { NO_COLOR: "1" },
    });
    if (opts.waitReady ?? true) await this.waitReady();
  }

  /** Waits until the control socket answers `status`. */
  async waitReady(timeoutMs = 30_000): Promise<void> {
    await waitFor(`${this.fqdn} to answer on its control socket`, async () => {
      if (this.process?.status) {
        throw new Error(
          `${this.fqdn} exited with ${this.process.status.code}:\n${await this.log()}`,
        );
      }
      await controlRequest(this.controlSocket, "status");
      return true;
    }, { timeoutMs, intervalMs: 25 }).catch(async (e) => {
      throw new Error(`${e.message}\n--- ${this.fqdn} log ---\n${await this.log()}`);
    });
  }

  /**
   * Stops the node with `signal` (SIGTERM by default; SIGKILL after 5 s).
   * @returns the exit status and how long the node took to exit.
   */
  async stop(signal: Deno.Signal = "SIGTERM") {
    if (!this.process) return undefined;
    return await this.process.stop({ signal, graceMs: 5000 });
  }

  /** Sends `signal` to the node process (e.g. SIGKILL, SIGSTOP, SIGCONT). */
  signal(signal: Deno.Signal): void {
    this.process?.signal(signal);
  }

  /** The `status` control command. */
  async status(): Promise<NodeStatus> {
    return await controlRequest(this.controlSocket, "status") as NodeStatus;
  }

  /** The node's ID (SHA-256 of its certificate), from its own `status`. */
  async id(): Promise<string> {
    this.#id ??= (await this.status()).node.id;
    return this.#id;
  }

  /**
   * Whether `route` passes through `node` (by ID; a node's ID changes only with its
   * certificate, which stays the same for the life of a mesh).
   */
  async routeVia(route: RouteInfo, node: MeshNode): Promise<boolean> {
    const id = await node.id();
    return route.nextHop?.id === id || (route.path ?? []).some((h) => h.id === id);
  }

  /** The `routes` control command. */
  async routes(): Promise<RouteInfo[]> {
    return await controlRequest(this.controlSocket, "routes") as RouteInfo[];
  }

  /** The `dc` control command (null when the node has no DC). */
  async dc(): Promise<DcInfo | null> {
    return await controlRequest(this.controlSocket, "dc") as DcInfo | null;
  }

  /** This node's route for exactly `prefix`, if any. */
  async route(prefix: string): Promise<RouteInfo | undefined> {
    const want = parsePrefix(prefix);
    return (await this.routes()).find((r) => {
      try {
        return prefixEquals(parsePrefix(r.prefix), want);
      } catch {
        return false;
      }
    });
  }

  /** Waits until this node has a route for each of `prefixes`. */
  async waitRoutes(prefixes: readonly string[], timeoutMs = 20_000): Promise<void> {
    const wants = prefixes.map((p) => parsePrefix(p));
    await waitFor(`${this.fqdn} to have routes to ${prefixes.join(", ")}`, async () => {
      const have = (await this.routes()).flatMap((r) => {
        try {
          return [parsePrefix(r.prefix)];
        } catch {
          return [];
        }
      });
      return wants.every((w) => have.some((h) => prefixEquals(h, w)));
    }, { timeoutMs });
  }

  /** The node's log so far. */
  async log(): Promise<string> {
    try {
      return await Deno.readTextFile(this.logPath);
    } catch {
      return "";
    }
  }
}
