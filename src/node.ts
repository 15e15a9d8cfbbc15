/**
 * The vmesh node: see `src/node/` for its parts.
 * @module
 */
export { runNode, type RunNodeOptions } from "./node/run.ts";
export { Node, type NodeInputs } from "./node/node.ts";
