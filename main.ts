/**
 * The vmesh command line: parses the command words and dispatches to src/cli/.
 * @module
 */
import { type CommandEntry, COMMANDS, Exit, isUserFailure, UsageError } from "./src/cli/mod.ts";

const USAGE = `Usage: vmesh <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(17)} ${c.summary}`).join("\n")}
  help              show this list; "vmesh <command> --help" shows a command's options

Exit codes: 0 success, 1 failure, 2 usage error.`;

function findCommand(args: readonly string[]): { cmd: CommandEntry; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = args.slice(0, words).join(" ");
    const cmd = COMMANDS.find((c) => c.name === name);
    if (cmd) return { cmd, rest: args.slice(words) };
  }
  return undefined;
}

/**
 * Runs the CLI with `args` (without the program name).
 * @returns The process exit code.
 */
export async function main(args: readonly string[]): Promise<number> {
  if (args.length === 0) {
    console.error(USAGE);
    return Exit.usage;
  }
  if (["help", "--help", "-h"].includes(args[0])) {
    console.log(USAGE);
    return Exit.ok;
  }
  if (args[0] === "--version" || args[0] === "-version") args = ["version"];
  const found = findCommand(args);
  if (!found) {
    const group = COMMANDS.filter((c) => c.name.startsWith(`${args[0]} `));
    const hint = group.length
      ? `"${args[0]}" needs a subcommand: ${group.map((c) => c.name).join(", ")}`
      : `unknown command "${args.slice(0, 2).join(" ")}"`;
    console.error(`vmesh: ${hint}\n\n${USAGE}`);
    return Exit.usage;
  }
  const { cmd, rest } = found;
  try {
    // Only this command's modules load (see COMMANDS).
    return await (await cmd.load()).run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`vmesh ${cmd.name}: ${e.message}\nRun "vmesh ${cmd.name} --help" for usage.`);
      return Exit.usage;
    }
    if (await isUserFailure(e)) {
      console.error(`vmesh ${cmd.name}: ${(e as Error).message}`);
      return Exit.failure;
    }
    console.error(`vmesh ${cmd.name}: unexpected error: ${(e as Error)?.stack ?? e}`);
    return Exit.failure;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
