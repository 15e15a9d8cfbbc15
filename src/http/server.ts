/**
 * The read-only HTTP endpoint of a node: `/api/status`, `/api/routes`, `/api/dc` (the JSON the
 * control socket answers), `/metrics` (when a metrics source is given) and the status page at
 * `/` with its assets, all from memory: nothing is read from disk and nothing external is
 * referenced.
 *
 * Bounds: at most {@link MAX_IN_FLIGHT} requests are answered at a time (503 beyond); every
 * response says `Connection: close`, so clients that follow it (browsers, `fetch`, Prometheus)
 * keep no idle connection open between polls; the request target and header block are bounded
 * (414, 431) on top of the HTTP parser's own limit on a request head; a body is refused (413)
 * and never read. Every refusal is a 4xx answer; an exception in a data source is a 500 and a
 * log line. Connections are bounded in front of `Deno.serve`: see {@link serveHttp}.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { formatHostPort, type HostPort } from "../net/mod.ts";
import type { Metrics } from "./metrics.ts";
import {
  BearerToken,
  checkLoopbackHost,
  checkMethod,
  checkNoBody,
  checkSize,
  type Refusal,
} from "./guard.ts";
import { PAGE_ASSETS } from "./page_bundle.ts";
import {
  CONNECTION_LIFETIME_MS,
  ConnectionLimiter,
  type ConnectionLimits,
  MAX_CONNECTIONS,
} from "./conn_limit.ts";

const log = getLogger(["vmesh", "http"]);

/** Requests answered at the same time; more get 503 with `Retry-After: 1`. */
export const MAX_IN_FLIGHT = 16;

/**
 * The Content-Security-Policy of every answer: the page may load its own script, style and
 * JSON, and nothing else (no inline script or style, no other origin, no framing).
 */
export const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; " +
  "style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; " +
  "form-action 'none'; frame-ancestors 'none'";

/** Where the endpoint's JSON comes from: the same views as the control socket's answers. */
export interface StatusSource {
  /** What `vmesh status --json` prints. */
  status(): unknown;
  /** What `vmesh routes --json` prints. */
  routes(): unknown;
  /** What `vmesh dc current --json` prints (null without a DC). */
  dc(): unknown;
}

/** What {@link serveHttp} needs. */
export interface HttpServerOptions {
  /** Where to listen (port 0: any free port, for tests). */
  readonly listen: HostPort;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** The JSON views. */
  readonly source: StatusSource;
  /** `/metrics`; absent: 404. */
  readonly metrics?: Metrics;
  /** Connection bounds (tests); default {@link MAX_CONNECTIONS}, {@link CONNECTION_LIFETIME_MS}. */
  readonly limits?: Partial<ConnectionLimits>;
}

/** A listening endpoint. */
export interface HttpServer {
  /** The address it listens on (the real port when 0 was asked for). */
  readonly addr: HostPort;
  /** Stops listening and waits for the answers in progress. */
  close(): Promise<void>;
}

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-resource-policy": "same-origin",
  "connection": "close",
};

/**
 * Starts the endpoint. Logs where it listens, and warns when it serves without a token on an
 * address other hosts can reach. The token is never logged.
 *
 * `Deno.serve` (Deno 2.9) has no limit on open connections and no idle timeout to set
 * (denoland/deno#32497), so it listens on an ephemeral loopback port behind a
 * {@link ConnectionLimiter} on the configured address: at most {@link MAX_CONNECTIONS}
 * connections, each closed {@link CONNECTION_LIFETIME_MS} after it was accepted.
 * @throws {Deno.errors.AddrInUse} and the like when it cannot listen
 */
export async function serveHttp(opts: HttpServerOptions): Promise<HttpServer> {
  const handler = new Handler(opts);
  const { promise: listening, resolve } = Promise.withResolvers<number>();
  // The HTTP server on an ephemeral loopback port, behind the connection limiter on the
  // configured address. (Local processes can reach that port directly: they get the same
  // checks, only not the connection bound.) Deno.serve throws at once when it cannot listen.
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: (a) => resolve(a.port),
    onError: (e) => {
      log.error("HTTP handler failed: {error}", { error: e instanceof Error ? e.stack : `${e}` });
      return plain(500, "internal error");
    },
  }, (req) => handler.handle(req));
  let limiter: ConnectionLimiter;
  try {
    limiter = new ConnectionLimiter(opts.listen, await listening, {
      maxConnections: opts.limits?.maxConnections ?? MAX_CONNECTIONS,
      lifetimeMs: opts.limits?.lifetimeMs ?? CONNECTION_LIFETIME_MS,
    });
  } catch (e) {
    await server.shutdown();
    throw e;
  }
  const addr = { host: opts.listen.host, port: limiter.port };
  const url = `http://${formatHostPort(addr)}/`;
  if (opts.token !== undefined) {
    log.info("HTTP endpoint on {url} (bearer token required)", { url });
  } else if (isLoopback(addr.host)) {
    log.info("HTTP endpoint on {url} (no token: loopback only)", { url });
  } else {
    log.warn(
      "HTTP endpoint on {url} is unauthenticated and reachable from other hosts: set " +
        "http_token, or listen on 127.0.0.1",
      { url },
    );
  }
  return {
    addr,
    close: async () => {
      await limiter.close();
      await server.shutdown();
    },
  };
}

/** Whether `host` (as in `http_listen`) is a loopback address or `localhost`. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h) ||
    h === "0:0:0:0:0:0:0:1";
}

class Handler {
  readonly #token: BearerToken | undefined;
  readonly #loopback: boolean;
  #inFlight = 0;

  constructor(readonly opts: HttpServerOptions) {
    this.#token = opts.token === undefined ? undefined : new BearerToken(opts.token);
    this.#loopback = isLoopback(opts.listen.host);
  }

  async handle(req: Request): Promise<Response> {
    if (this.#inFlight >= MAX_IN_FLIGHT) {
      return refuse({ status: 503, text: "busy", headers: { "retry-after": "1" } });
    }
    this.#inFlight++;
    try {
      const refusal = checkSize(req) ?? (this.#loopback ? checkLoopbackHost(req) : undefined) ??
        this.#token?.check(req) ?? checkMethod(req) ?? checkNoBody(req);
      if (refusal) return refuse(refusal);
      const res = await this.#route(req);
      return req.method === "HEAD" ? new Response(null, res) : res;
    } catch (e) {
      log.error("HTTP {path} failed: {error}", {
        path: safePath(req),
        error: e instanceof Error ? e.stack : `${e}`,
      });
      return plain(500, "internal error");
    } finally {
      this.#inFlight--;
    }
  }

  async #route(req: Request): Promise<Response> {
    const path = new URL(req.url).pathname;
    const { source, metrics } = this.opts;
    switch (path) {
      case "/api/status":
        return json(source.status());
      case "/api/routes":
        return json(source.routes());
      case "/api/dc":
        return json(source.dc());
      case "/metrics":
        if (!metrics) return plain(404, "no metrics on this node");
        return new Response(await metrics.render(), {
          headers: { ...SECURITY_HEADERS, "content-type": metrics.contentType, ...NO_STORE },
        });
    }
    const asset = PAGE_ASSETS[path === "/" ? "/index.html" : path];
    if (asset === undefined) return plain(404, "not found");
    const headers = {
      ...SECURITY_HEADERS,
      "content-type": asset.contentType,
      "cache-control": "no-cache",
      etag: asset.etag,
    };
    if (req.headers.get("if-none-match") === asset.etag) {
      return new Response(null, { status: 304, headers });
    }
    return new Response(asset.body, { headers });
  }
}

const NO_STORE = { "cache-control": "no-store" };

function json(value: unknown): Response {
  return new Response(JSON.stringify(value), {
    headers: {
      ...SECURITY_HEADERS,
      "content-type": "application/json; charset=utf-8",
      ...NO_STORE,
    },
  });
}

function plain(status: number, text: string, headers: Record<string, string> = {}): Response {
  return new Response(text + "\n", {
    status,
    headers: {
      ...SECURITY_HEADERS,
      "content-type": "text/plain; charset=utf-8",
      ...NO_STORE,
      ...headers,
    },
  });
}

function refuse(r: Refusal): Response {
  return plain(r.status, r.text, { ...r.headers });
}

/** The request's path for a log line, shortened (never its headers: they hold the token). */
function safePath(req: Request): string {
  try {
    return new URL(req.url).pathname.slice(0, 200);
  } catch {
    return "?";
  }
}
