/**
 * `vmesh run`: check everything the node needs, then start it.
 * @module
 */
import { ConfigError, prepareNode } from "../config/mod.ts";
import { logger, setupLogging } from "../log/mod.ts";
import { shortId } from "../pki/mod.ts";
import { runNode, type RunNodeOptions } from "../node/mod.ts";
import { CliFailure, type Command, Exit, help, parse, required } from "./common.ts";

/**
 * What `vmesh run` parsed: the node's options (`runNode(prepared, options)`, see
 * {@link RunNodeOptions}) plus the logging level.
 */
export interface RunOptions extends RunNodeOptions {
  /** Debug logging. */
  debug: boolean;
}

/** `vmesh run`. */
export const run: Command = {
  name: "run",
  summary: "run a node (or --check its config, certificates and initial DC)",
  help: `Usage: vmesh run --config <path> [options]

Loads and checks the node config, the CA, pinned external certificates, this node's
certificate and key, and the initial distributed config; lists every problem found and exits
1 if there is any. Then runs the node.

Options:
  --config <path>        the node config (JSON)
  --initial-dc <file>    a signed distributed config (dconf-*.bin) to start with
  --debug                log debug events
  --table <path>         write the routing table to this file periodically
  --drop-permissions     drop root privileges once devices and sockets are open
  --check                check only, then exit 0 when everything is valid
  -h, --help             show this help

Go-style single-dash flags (-config, -initial-dc, -debug, -table, -drop-permissions,
-config=path) are accepted too.`,
  async run(args) {
    const { values } = parse(args, {
      config: { type: "string" },
      "initial-dc": { type: "string" },
      debug: { type: "boolean" },
      table: { type: "string" },
      "drop-permissions": { type: "boolean" },
      check: { type: "boolean" },
    });
    if (values.help) return help(this);
    const options: RunOptions = {
      configPath: required(values.config, "--config"),
      initialDcPath: values["initial-dc"],
      debug: values.debug ?? false,
      tablePath: values.table,
      dropPermissions: values["drop-permissions"] ?? false,
    };
    setupLogging({ debug: options.debug });
    const log = logger("cli");
    let prepared;
    try {
      // A running node reports a bad --initial-dc and keeps its DC; --check fails on it.
      prepared = await prepareNode(options.configPath, {
        initialDcPath: values.check ? options.initialDcPath : undefined,
      });
    } catch (e) {
      if (e instanceof ConfigError) {
        for (const w of e.warnings) console.error(`warning: ${w}`);
        throw new CliFailure(e.message);
      }
      throw e;
    }
    for (const w of prepared.warnings) console.error(`warning: ${w}`);
    const { identity, config, initialDc } = prepared;
    const summary = `node ${identity.name} (id ${shortId(identity.id)}), ${config.peers.length} ` +
      `peer(s), ${config.vifs.size} vif(s), ${config.localAnnouncements.length} announcement(s)` +
      (initialDc ? `, initial DC signed ${initialDc.notBefore.toISOString()}` : "");
    if (values.check) {
      console.log(`${options.configPath}: OK: ${summary}`);
      return Exit.ok;
    }
    log.info(`Starting ${summary}`);
    return await runNode(prepared, options);
  },
};
