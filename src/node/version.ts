/**
 * This build's version (from deno.json), reported by `vmesh status` and `vmesh version`.
 * @module
 */
import denoJson from "../../deno.json" with { type: "json" };

/** This build's version, from deno.json. */
export const VERSION: string = denoJson.version;
