/**
 * The command line: one file per subcommand (`run`, `status`, `routes`, `nodes`, `dc show`,
 * `dc current`, `dc apply`, `cert ca`, `cert node`, `cert fingerprint`, `sign`, `version`), each a {@link Command} that parses
 * its own flags (Go-style single-dash flags accepted) and returns an exit code. Only `main.ts`
 * imports it; nothing in `src/` does.
 * @module
 */
export { certCa, certFingerprint, certNode } from "./cert.ts";
export { CliFailure, type Command, Exit, UsageError } from "./common.ts";
export { dcApply, dcCurrent, nodes, routes, status } from "./control_commands.ts";
export { dcShow } from "./dc.ts";
export { run, type RunOptions } from "./run.ts";
export { sign } from "./sign.ts";
export { version } from "./version.ts";
