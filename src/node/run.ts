/**
 * `vmesh run`: the life of a node process — open devices and sockets, optionally drop
 * privileges, serve until SIGINT/SIGTERM, re-read the config on SIGHUP.
 * @module
 */
import { applyDcRequest } from "./dc_apply.ts";
import { getLogger } from "@logtape/logtape";
import { type Clock, realClock } from "../clock/mod.ts";
import { ConfigError, loadNodeConfig, type PreparedNode } from "../config/mod.ts";
import { VERSION } from "./version.ts";
import { NOBODY } from "../../ffi/mod.ts";
import { ControlServer } from "./control.ts";
import { checkStateDir, dropToUnprivileged } from "./drop_permissions.ts";
import { Node } from "./node.ts";
import { openVifs } from "./open_vifs.ts";
import { startTableWriter } from "./table_writer.ts";
import { formatTable } from "../routing/mod.ts";
import { dcView, nodesView, routesView, statusView } from "./views.ts";
import { startHttp } from "./http_start.ts";
import { loadNodeMetrics } from "./metrics_source.ts";
import type { HttpServer } from "../http/mod.ts";

const log = getLogger(["vmesh", "node"]);

/** A stopping node exits within this time even if something hangs. */
const STOP_DEADLINE_MS = 1800;

/** Options of {@link runNode} (what `vmesh run` parsed). */
export interface RunNodeOptions {
  /** The config file (re-read on SIGHUP). */
  configPath: string;
  /** A DC file to verify and apply at start. A bad one is reported; the node still runs. */
  initialDcPath?: string;
  /** Write the routing table here every 10 s. */
  tablePath?: string;
  /** Switch to uid/gid 65534 once devices and sockets are open. */
  dropPermissions: boolean;
  /** Resolves when the node should stop (tests); signals are used as well. */
  stopSignal?: Promise<void>;
  /** The node's clock (default the real one); the stop deadline always uses real time. */
  clock?: Clock;
}

/**
 * Runs a node until SIGINT/SIGTERM (or `stopSignal`).
 * @returns the process exit code: 0 after a clean stop, 1 when the node could not start.
 */
export async function runNode(prepared: PreparedNode, opts: RunNodeOptions): Promise<number> {
  const { config } = prepared;
  const clock = opts.clock ?? realClock;
  let vifs;
  try {
    vifs = openVifs(config.vifs, clock);
  } catch (e) {
    log.error("{error}", { error: e instanceof Error ? e.message : String(e) });
    return 1;
  }
  const node = new Node(prepared, vifs, clock);
  // Signals are handled from here on: a SIGTERM during start stops the node once it has
  // started, and SIGHUPs are applied one after another once it runs.
  const { promise: stopped, resolve: stop } = Promise.withResolvers<string>();
  const { promise: started, resolve: markStarted } = Promise.withResolvers<void>();
  let reloads = Promise.resolve();
  const onStop = (sig: Deno.Signal) => () => stop(sig);
  const handlers: [Deno.Signal, () => void][] = [
    ["SIGINT", onStop("SIGINT")],
    ["SIGTERM", onStop("SIGTERM")],
    ["SIGHUP", () => {
      reloads = reloads.then(() => started).then(() => reload(node, opts.configPath));
    }],
  ];
  for (const [sig, h] of handlers) Deno.addSignalListener(sig, h);
  const removeHandlers = () => {
    for (const [sig, h] of handlers) Deno.removeSignalListener(sig, h);
  };
  let control: ControlServer | undefined;
  let http: HttpServer | undefined;
  const stopTable: (() => void)[] = [];
  const cleanup = async () => {
    for (const f of stopTable) f();
    await http?.close();
    await control?.close();
    await node.stop();
  };
  try {
    // Before anything reads state_dir as root: see drop_permissions.ts.
    if (opts.dropPermissions) await checkStateDir(config.stateDir, NOBODY);
    // After a run with --drop-permissions, dc.bin belongs to nobody.
    if (opts.dropPermissions) node.dc.allowOwner(NOBODY);
    await node.loadState();
    if (opts.initialDcPath !== undefined) await applyInitialDc(node, opts.initialDcPath);
    await node.start();
    // One source for the control socket and the HTTP endpoint: the same answers.
    const views = {
      status: () => statusView(node, VERSION),
      routes: () => routesView(node),
      dc: () => dcView(node.dc.current, node.dc.expiry()),
    };
    control = await ControlServer.listen(config.controlSocket, (cmd, req) => {
      switch (cmd) {
        case "status":
          return views.status();
        case "routes":
          return views.routes();
        case "nodes":
          return nodesView(node);
        case "dc-apply":
          return applyDcRequest(node, prepared.trust, req.dc);
        case "dc":
          return views.dc();
        default:
          throw new Error(`unknown command "${cmd}" (status, routes, dc, dc-apply)`);
      }
    });
    if (config.httpListen !== undefined) {
      http = await startHttp(config, views, await loadNodeMetrics(node));
    }
    if (opts.dropPermissions) await dropToNobody(config.stateDir);
  } catch (e) {
    log.error("cannot start: {error}", { error: e instanceof Error ? e.message : String(e) });
    await cleanup();
    removeHandlers();
    return 1;
  }
  node.startForwarding();
  if (opts.tablePath) {
    stopTable.push(
      startTableWriter(opts.tablePath, () => formatTable(node.router.table()), 10_000, clock),
    );
  }
  log.info("node {name} running: {vifs} vif(s), {peers} configured peer(s)", {
    name: node.identity.name,
    vifs: vifs.size,
    peers: config.peers.length,
  });

  markStarted();
  opts.stopSignal?.then(() => stop("stop requested"));
  const why = await stopped;
  log.info("stopping ({why})", { why });
  // Real time on purpose: the deadline must fire even if the node's clock is a test's.
  const deadline = setTimeout(() => {
    log.warn("stop took longer than {ms} ms; exiting anyway", { ms: STOP_DEADLINE_MS });
    Deno.exit(0);
  }, STOP_DEADLINE_MS);
  await cleanup();
  clearTimeout(deadline);
  removeHandlers();
  log.info("stopped");
  return 0;
}

async function applyInitialDc(node: Node, path: string): Promise<void> {
  try {
    const raw = await Deno.readFile(path);
    if (!await node.dc.applyInitial(raw)) {
      log.info("--initial-dc {path} is not newer than the persisted DC; keeping that", { path });
    }
  } catch (e) {
    const current = node.dc.current;
    log.error(
      "--initial-dc {path} cannot be used: {error}; the node runs with {what}",
      {
        path,
        error: e instanceof Error ? e.message : String(e),
        what: current ? `the DC signed ${current.notBefore.toISOString()}` : "no DC yet",
      },
    );
  }
}

/**
 * Gives the state directory (itself only, see drop_permissions.ts) to nobody, then drops to
 * nobody. Fails closed: an error stops the node rather than leaving it privileged.
 */
async function dropToNobody(stateDir: string): Promise<void> {
  await dropToUnprivileged(stateDir, NOBODY, NOBODY);
  log.info("dropped privileges to uid/gid {id}", { id: NOBODY });
}

async function reload(node: Node, configPath: string): Promise<void> {
  try {
    const { config, warnings } = await loadNodeConfig(configPath);
    for (const w of warnings) log.warn("config: {w}", { w });
    const restart = node.reload(config);
    log.info("configuration re-read: peers and announcements applied", {});
    if (restart.length > 0) {
      log.warn("changes to {keys} take effect only after a restart", { keys: restart.join(", ") });
    }
  } catch (e) {
    const msg = e instanceof ConfigError ? e.message : `${e}`;
    log.error("SIGHUP: the config has problems, keeping the running one: {msg}", { msg });
  }
}
