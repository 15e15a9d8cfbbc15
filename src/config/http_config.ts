/**
 * The keys of the opt-in HTTP endpoint: `http_listen` ("host:port"; absent = no endpoint) and
 * `http_token` (the bearer token every request must carry). The token is a secret: no message
 * here repeats it.
 * @module
 */
import { type HostPort, parseHostPort } from "../net/mod.ts";
import type { Checker, Json } from "./json_checker.ts";

/** Shortest `http_token` accepted: 16 characters (guessing one is hopeless). */
export const MIN_HTTP_TOKEN = 16;
/** Longest `http_token` accepted (it travels in every request's `Authorization` header). */
export const MAX_HTTP_TOKEN = 256;
/** RFC 6750 `b64token`: the characters a bearer token may have. */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/** What {@link parseHttpKeys} returns. */
export interface HttpKeys {
  /** `http_listen`; undefined: no HTTP endpoint. */
  readonly httpListen: HostPort | undefined;
  /** `http_token`; undefined: requests need no token. */
  readonly httpToken: string | undefined;
}

/**
 * Reads `http_listen` and `http_token` of the top-level config object into `c`'s problems.
 * A listen address needs a host ("127.0.0.1:9477"; "0.0.0.0" or "[::]" for every address), so
 * that exposing the endpoint is always written down.
 */
export function parseHttpKeys(c: Checker, o: Record<string, Json>): HttpKeys {
  let httpListen: HostPort | undefined;
  const listen = c.string(o.http_listen, "http_listen", false);
  if (listen !== undefined) {
    try {
      httpListen = parseHostPort(listen, true);
      if (httpListen.host === "") {
        c.problem(
          "http_listen",
          `"${listen}" has no host: write one, e.g. "127.0.0.1:9477" ("0.0.0.0:9477" or ` +
            `"[::]:9477" to listen on every address)`,
        );
      }
    } catch (e) {
      c.problem("http_listen", (e as Error).message);
    }
  }
  let httpToken: string | undefined;
  const token = o.http_token;
  if (token !== undefined && token !== null) {
    // Not through c.string(): its messages quote the value.
    if (typeof token !== "string") {
      c.problem("http_token", "expected a string");
    } else if (token.length < MIN_HTTP_TOKEN || token.length > MAX_HTTP_TOKEN) {
      c.problem(
        "http_token",
        `must be ${MIN_HTTP_TOKEN}..${MAX_HTTP_TOKEN} characters long, got ${token.length} ` +
          `(make one with: openssl rand -hex 32)`,
      );
    } else if (!TOKEN68.test(token)) {
      c.problem(
        "http_token",
        "may contain only A-Z a-z 0-9 - . _ ~ + / (and = at the end), as a bearer token " +
          "(make one with: openssl rand -hex 32)",
      );
    } else {
      httpToken = token;
    }
    if (listen === undefined) {
      c.warnings.push("http_token: set without http_listen, so there is no HTTP endpoint to guard");
    }
  }
  return { httpListen, httpToken };
}
