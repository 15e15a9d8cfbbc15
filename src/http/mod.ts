/**
 * The opt-in, read-only HTTP endpoint of a node (`http_listen`): the JSON of `vmesh status`,
 * `vmesh routes` and `vmesh dc current`, `/metrics` in the Prometheus text format
 * ({@link createMetrics}), and the status page (a mesh map and the peers, routes and DC of the
 * node) served from memory.
 *
 * Imports only the rooms below it (log, net) and takes its data through {@link StatusSource} and
 * {@link MetricsSource}; the node loads this room (and with it `prom-client`) with a dynamic
 * `import()` only when `http_listen` is set.
 * @module
 */
export {
  CONTENT_SECURITY_POLICY,
  type HttpServer,
  type HttpServerOptions,
  isLoopback,
  MAX_IN_FLIGHT,
  serveHttp,
  type StatusSource,
} from "./server.ts";
export { MAX_HEADER_BYTES, MAX_URL_BYTES } from "./guard.ts";
export { CONNECTION_LIFETIME_MS, type ConnectionLimits, MAX_CONNECTIONS } from "./conn_limit.ts";
export {
  createMetrics,
  DENO_UNSUPPORTED_DEFAULTS,
  type Metrics,
  type MetricsSnapshot,
  type MetricsSource,
  type PeerSample,
} from "./metrics.ts";
