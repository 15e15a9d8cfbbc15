/**
 * The opt-in, read-only HTTP endpoint of a node (`http_listen`): the JSON of `vmesh status`,
 * `vmesh routes` and `vmesh dc current`, Prometheus metrics when given a source, and the status
 * page (a mesh map and the peers, routes and DC of the node) served from memory.
 *
 * Imports only the rooms below it (log, net) and takes its data through {@link StatusSource};
 * the node loads this room with a dynamic `import()` only when `http_listen` is set.
 * @module
 */
export {
  CONTENT_SECURITY_POLICY,
  type HttpServer,
  type HttpServerOptions,
  isLoopback,
  MAX_IN_FLIGHT,
  type MetricsSource,
  serveHttp,
  type StatusSource,
} from "./server.ts";
export { MAX_HEADER_BYTES, MAX_URL_BYTES } from "./guard.ts";
export { CONNECTION_LIFETIME_MS, type ConnectionLimits, MAX_CONNECTIONS } from "./conn_limit.ts";
