/**
 * `vmesh version`.
 * @module
 */
import denoJson from "../../deno.json" with { type: "json" };
import { type Command, Exit, help, parse } from "./common.ts";

/** This build's version, from deno.json. */
export const VERSION: string = denoJson.version;

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
