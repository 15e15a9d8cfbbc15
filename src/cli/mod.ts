/**
 * The command line: one file per subcommand (`run`, `status`, `routes`, `nodes`, `dc show`,
 * `dc current`, `dc apply`, `cert ca`, `cert node`, `cert fingerprint`, `sign`, `version`), each a {@link Command} that parses
 * its own flags (Go-style single-dash flags accepted) and returns an exit code. Only `main.ts`
 * imports it; nothing in `src/` does.
 *
 * {@link COMMANDS} lists them by words and summary and loads only the one that runs: `vmesh run`
 * does not load certificate issuance, DC signing or the control-socket clients, and
 * `vmesh version` loads none of the node.
 * @module
 */
import { CliFailure, type Command } from "./common.ts";

export { CliFailure, type Command, Exit, UsageError } from "./common.ts";
export type { RunOptions } from "./run.ts";

/** A subcommand before it is loaded: its words, its line in the usage text, and its loader. */
export interface CommandEntry {
  /** "cert ca", "sign", ... (the loaded {@link Command}'s name) */
  readonly name: string;
  /** One line for the command list (the loaded {@link Command}'s summary). */
  readonly summary: string;
  /** Imports the command's module. */
  load(): Promise<Command>;
}

/** Every command, by its words, in the order of the usage text. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: "run",
    summary: "run a node (or --check its config, certificates and initial DC)",
    load: async () => (await import("./run.ts")).run,
  },
  {
    name: "status",
    summary: "show a running node: peers, latency, counters",
    load: async () => (await import("./control_commands.ts")).status,
  },
  {
    name: "routes",
    summary: "show a running node's routing table",
    load: async () => (await import("./control_commands.ts")).routes,
  },
  {
    name: "nodes",
    summary: "show the nodes whose names a running node verified",
    load: async () => (await import("./control_commands.ts")).nodes,
  },
  {
    name: "dc show",
    summary: "verify a distributed config file and print it",
    load: async () => (await import("./dc.ts")).dcShow,
  },
  {
    name: "dc current",
    summary: "show the distributed config a running node uses",
    load: async () => (await import("./control_commands.ts")).dcCurrent,
  },
  {
    name: "dc apply",
    summary: "hand a signed distributed config to a running node",
    load: async () => (await import("./control_commands.ts")).dcApply,
  },
  {
    name: "cert ca",
    summary: "create a certificate authority (<prefix>.crt, <prefix>.key)",
    load: async () => (await import("./cert.ts")).certCa,
  },
  {
    name: "cert node",
    summary: "issue a node certificate from the CA",
    load: async () => (await import("./cert.ts")).certNode,
  },
  {
    name: "cert fingerprint",
    summary: "print a certificate's key fingerprint (for the DC's revoked_keys)",
    load: async () => (await import("./cert.ts")).certFingerprint,
  },
  {
    name: "sign",
    summary: "sign a distributed config (DC) JSON file with the CA",
    load: async () => (await import("./sign.ts")).sign,
  },
  {
    name: "version",
    summary: "print the version",
    load: async () => (await import("./version.ts")).version,
  },
];

/**
 * Whether `e` is a failure whose message is for the user (exit 1 with just the message):
 * a {@link CliFailure}, or a certificate or DC error (loaded only when one is thrown).
 */
export async function isUserFailure(e: unknown): Promise<boolean> {
  if (!(e instanceof Error)) return false;
  if (e instanceof CliFailure) return true;
  const [{ CertificateError }, { DcError }] = await Promise.all([
    import("../pki/mod.ts"),
    import("../dc/mod.ts"),
  ]);
  return e instanceof CertificateError || e instanceof DcError;
}
