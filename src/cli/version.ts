/**
 * `vmesh version`.
 * @module
 */
import { VERSION } from "../node/mod.ts";
import { type Command, Exit, help, parse } from "./common.ts";

/** `vmesh version`. */
export const version: Command = {
  name: "version",
  summary: "print the version",
  help: `Usage: vmesh version

Prints vmesh's version and the Deno runtime's.`,
  run(args) {
    const { values } = parse(args, {});
    if (values.help) return Promise.resolve(help(this));
    console.log(`vmesh ${VERSION} (deno ${Deno.version.deno}, ${Deno.build.target})`);
    return Promise.resolve(Exit.ok);
  },
};
