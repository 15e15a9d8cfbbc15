/**
 * The node: wires vifs, forwarder, routing, sessions, the UDP channels and DC sync into one
 * running vmesh node ({@link Node}), runs it as a process ({@link runNode}: devices, signals,
 * privileges, reload) and serves its control socket ({@link controlRequest} reads it).
 *
 * Imports every room below it; only the CLI (`src/cli/`) and `mod.ts` import it.
 * @module
 */
export { runNode, type RunNodeOptions } from "./run.ts";
export { Node, type NodeInputs } from "./node.ts";
export { routerAddress } from "./router_address.ts";
export { ControlError, controlRequest } from "./control.ts";
export type { NodeView, PeerStatus } from "./views.ts";
export {
  DROP_REASONS,
  FORWARD_DIRECTIONS,
  HANDSHAKE_FAILURE_REASONS,
  loadNodeMetrics,
  metricsSnapshot,
  nodeMetricsSource,
} from "./metrics_source.ts";
export { startTableWriter } from "./table_writer.ts";
export { VERSION } from "./version.ts";
