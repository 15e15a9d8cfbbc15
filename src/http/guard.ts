/**
 * What a request must pass before the endpoint answers it: its size, the bearer token, the
 * method and the absence of a body. Each check returns the refusal (a 4xx status and a short
 * text) or `undefined`; none of them throws, whatever the request holds.
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";

/** Longest request target (path and query) answered; longer ones get 414. */
export const MAX_URL_BYTES = 2048;
/** Largest header block (names, values and ": \r\n" per header) answered; larger gets 431. */
export const MAX_HEADER_BYTES = 8192;

/** A refusal: the status, the text sent as the body, and extra headers. */
export interface Refusal {
  readonly status: number;
  readonly text: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** 414 when the target is too long, 431 when the header block is too large. */
export function checkSize(req: Request): Refusal | undefined {
  const url = new URL(req.url);
  if (url.pathname.length + url.search.length > MAX_URL_BYTES) {
    return { status: 414, text: `request target over ${MAX_URL_BYTES} bytes` };
  }
  let bytes = 0;
  for (const [k, v] of req.headers) bytes += k.length + v.length + 4;
  if (bytes > MAX_HEADER_BYTES) {
    return { status: 431, text: `request headers over ${MAX_HEADER_BYTES} bytes` };
  }
  return undefined;
}

/**
 * For an endpoint on loopback: 403 unless the `Host` header names loopback (`localhost`,
 * `127.x.y.z`, `[::1]`, with any port). A web page the operator visits could otherwise point a
 * DNS name of its own at 127.0.0.1 (DNS rebinding) and read the endpoint through the
 * operator's browser as a same-origin page.
 */
export function checkLoopbackHost(req: Request): Refusal | undefined {
  const host = req.headers.get("host") ?? "";
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0];
  const h = name.toLowerCase().replace(/\.$/, "");
  if (h === "localhost" || h === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) {
    return undefined;
  }
  return {
    status: 403,
    text: "this endpoint listens on loopback: use http://localhost:<port>/ or " +
      "http://127.0.0.1:<port>/ (a proxy must keep that Host header)",
  };
}

/** 405 for anything but GET and HEAD (the endpoint is read-only). */
export function checkMethod(req: Request): Refusal | undefined {
  if (req.method === "GET" || req.method === "HEAD") return undefined;
  return { status: 405, text: "read-only: GET and HEAD only", headers: { allow: "GET, HEAD" } };
}

/** 413 for a request that carries (or announces) a body: nothing here reads one. */
export function checkNoBody(req: Request): Refusal | undefined {
  const length = req.headers.get("content-length");
  if (req.headers.has("transfer-encoding") || (length !== null && length.trim() !== "0")) {
    return { status: 413, text: "request bodies are refused" };
  }
  return undefined;
}

/**
 * The bearer token check. The expected token is kept as its SHA-256 only, and a presented
 * token is hashed and compared with `timingSafeEqual`, so neither its length nor its content
 * shows in the time a refusal takes.
 */
export class BearerToken {
  readonly #digest: Uint8Array;

  /** @param token the `http_token` of the config */
  constructor(token: string) {
    this.#digest = sha256(token);
  }

  /** 401 (with `WWW-Authenticate`) unless `Authorization: Bearer <the token>`. */
  check(req: Request): Refusal | undefined {
    const header = req.headers.get("authorization");
    const m = header?.match(/^Bearer +([^\s]+) *$/i);
    if (!m) {
      return {
        status: 401,
        text: "authentication required: send Authorization: Bearer <http_token>",
        headers: { "www-authenticate": 'Bearer realm="vmesh"' },
      };
    }
    if (!timingSafeEqual(sha256(m[1]), this.#digest)) {
      return {
        status: 401,
        text: "invalid token",
        headers: { "www-authenticate": 'Bearer realm="vmesh", error="invalid_token"' },
      };
    }
    return undefined;
  }
}

function sha256(text: string): Uint8Array {
  return createHash("sha256").update(text, "utf8").digest();
}
