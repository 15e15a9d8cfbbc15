/**
 * The node's opt-in HTTP endpoint (`http_listen`): `/metrics` in the Prometheus text format
 * ({@link createMetrics}). The node imports this room dynamically, only when `http_listen` is
 * configured, so that a node without it loads none of it (nor `prom-client`).
 * @module
 */
export {
  createMetrics,
  DENO_UNSUPPORTED_DEFAULTS,
  type Metrics,
  type MetricsSnapshot,
  type MetricsSource,
  type PeerSample,
} from "./metrics.ts";
