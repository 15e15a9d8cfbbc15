import { configureSync, type LogRecord, resetSync } from "@logtape/logtape";
import { assert, assertEquals, assertStringIncludes } from "../../tests/_harness/assert.ts";
import {
  CONTENT_SECURITY_POLICY,
  type HttpServer,
  MAX_IN_FLIGHT,
  type Metrics,
  serveHttp,
  type StatusSource,
} from "./mod.ts";

const TOKEN = "s3cret-TOKEN-0123456789abcdef";

/** Every log record of the "vmesh" category, while the test runs. */
const records: LogRecord[] = [];
function captureLogs(): void {
  resetSync();
  configureSync({
    sinks: { mem: (r) => records.push(r) },
    loggers: [
      { category: ["vmesh"], lowestLevel: "debug", sinks: ["mem"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["mem"] },
    ],
  });
}

const SOURCE: StatusSource = {
  status: () => ({ node: { name: "a.vnet.test", id: "ab".repeat(32) }, peers: [] }),
  routes: () => [{ prefix: "fd00:1::/48", nextHop: { kind: "local", target: "tun0" } }],
  dc: () => null,
};

async function withServer(
  opts: {
    token?: string;
    source?: StatusSource;
    metrics?: Metrics;
    host?: string;
    limits?: { maxConnections?: number; lifetimeMs?: number };
  },
  fn: (base: string, server: HttpServer) => Promise<void>,
): Promise<void> {
  const server = await serveHttp({
    listen: { host: opts.host ?? "127.0.0.1", port: 0 },
    token: opts.token,
    source: opts.source ?? SOURCE,
    metrics: opts.metrics,
    limits: opts.limits,
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, server);
  } finally {
    await server.close();
  }
}

async function get(url: string, init: RequestInit = {}): Promise<{
  status: number;
  headers: Headers;
  text: string;
}> {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/**
 * Sends raw bytes on a fresh connection and returns the first response (head and
 * `Content-Length` body), or what came before the server closed the connection.
 */
async function raw(port: number, request: Uint8Array | string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const bytes = typeof request === "string" ? new TextEncoder().encode(request) : request;
  const gone = (e: unknown) =>
    e instanceof Deno.errors.BrokenPipe || e instanceof Deno.errors.ConnectionReset;
  try {
    try {
      let off = 0;
      while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    } catch (e) {
      // The server may close while a huge request is still being sent: what it answered counts.
      if (!gone(e)) throw e;
    }
    let text = "";
    const buf = new Uint8Array(65536);
    while (true) {
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        const length = Number(text.match(/\r\ncontent-length: *(\d+)/i)?.[1] ?? 0);
        if (text.length >= end + 4 + length) return text;
      }
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch (e) {
        if (gone(e)) return text;
        throw e;
      }
      if (n === null) return text;
      // One character per byte, so that lengths compare with Content-Length.
      text += new TextDecoder("latin1").decode(buf.subarray(0, n));
    }
  } finally {
    conn.close();
  }
}

Deno.test("serveHttp() answers the JSON views, the page and its assets with a strict CSP", async () => {
  await withServer({}, async (base) => {
    const status = await get(`${base}/api/status`);
    assertEquals(status.status, 200);
    assertEquals(status.headers.get("content-type"), "application/json; charset=utf-8");
    assertEquals(JSON.parse(status.text), SOURCE.status());
    assertEquals(JSON.parse((await get(`${base}/api/routes`)).text), SOURCE.routes());
    assertEquals(JSON.parse((await get(`${base}/api/dc`)).text), null);
    for (const path of ["/", "/app.js", "/style.css", "/api/status", "/nope"]) {
      const r = await get(base + path);
      assertEquals(r.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY, path);
      assertEquals(r.headers.get("x-content-type-options"), "nosniff", path);
      assertEquals(r.headers.get("connection"), "close", path);
    }
    assert(CONTENT_SECURITY_POLICY.startsWith("default-src 'none'; script-src 'self'; "));
    const page = await get(`${base}/`);
    assertEquals(page.headers.get("content-type"), "text/html; charset=utf-8");
    assertStringIncludes(page.text, '<script type="module" src="/app.js"></script>');
    // Nothing the page loads comes from elsewhere.
    for (const path of ["/", "/app.js", "/style.css"]) {
      const t = (await get(base + path)).text;
      assert(
        !/https?:\/\/(?!www\.w3\.org\/2000\/svg)/.test(t),
        `${path} references another origin`,
      );
    }
    // d3-force is bundled in (forceLink's error for a link to an unknown node).
    assertStringIncludes((await get(`${base}/app.js`)).text, "node not found: ");
    const etag = page.headers.get("etag")!;
    assertEquals((await get(`${base}/`, { headers: { "if-none-match": etag } })).status, 304);
    const head = await fetch(`${base}/api/status`, { method: "HEAD" });
    assertEquals([head.status, await head.text()], [200, ""]);
  });
});

Deno.test("serveHttp() answers 404 for an unknown path and for /metrics without a source", async () => {
  await withServer({}, async (base) => {
    for (const path of ["/nope", "/api", "/api/status/x", "/metrics", "/../etc/passwd", "/index"]) {
      assertEquals((await get(base + path)).status, 404, path);
    }
  });
});

Deno.test("serveHttp() serves /metrics from the metrics source", async () => {
  const metrics = {
    contentType: "text/plain; version=0.0.4",
    render: () => Promise.resolve("x 1\n"),
  };
  await withServer({ metrics }, async (base) => {
    const r = await get(`${base}/metrics`);
    assertEquals([r.status, r.text, r.headers.get("content-type")], [
      200,
      "x 1\n",
      metrics.contentType,
    ]);
  });
});

Deno.test("serveHttp() is read-only: 405 for other methods, 413 for a request with a body", async () => {
  await withServer({}, async (base, server) => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const r = await get(`${base}/api/status`, { method });
      assertEquals(r.status, 405, method);
      assertEquals(r.headers.get("allow"), "GET, HEAD");
    }
    const port = server.addr.port;
    const withBody = await raw(
      port,
      "GET /api/status HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello",
    );
    assert(withBody.startsWith("HTTP/1.1 413"), withBody);
    const chunked = await raw(
      port,
      "GET / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    );
    assert(chunked.startsWith("HTTP/1.1 413"), chunked);
  });
});

Deno.test("serveHttp() refuses oversized and malformed requests with 4xx and keeps serving", async () => {
  await withServer({}, async (base, server) => {
    assertEquals((await get(`${base}/api/status?${"a".repeat(3000)}`)).status, 414);
    assertEquals(
      (await get(`${base}/api/status`, { headers: { "x-big": "b".repeat(9000) } })).status,
      431,
    );
    const port = server.addr.port;
    // A request head far past any limit: the HTTP parser refuses it before the handler runs.
    const huge = await raw(
      port,
      `GET / HTTP/1.1\r\nHost: localhost\r\nX-A: ${"c".repeat(1 << 20)}\r\n\r\n`,
    );
    assert(huge === "" || /^HTTP\/1\.1 4\d\d/.test(huge), huge.slice(0, 100));
    for (
      const junk of ["GARBAGE\r\n\r\n", "GET /\x00 HTTP/1.1\r\n\r\n", "\x16\x03\x01\x00\xa5\x01"]
    ) {
      const r = await raw(port, junk);
      assert(r === "" || /^HTTP\/1\.1 4\d\d/.test(r), JSON.stringify(r.slice(0, 100)));
    }
    assertEquals((await get(`${base}/api/status`)).status, 200);
  });
});

Deno.test("serveHttp() answers 503 beyond MAX_IN_FLIGHT requests at a time", async () => {
  const { promise: release, resolve } = Promise.withResolvers<void>();
  let started = 0;
  const metrics = {
    contentType: "text/plain",
    render: async () => {
      started++;
      await release;
      return "ok\n";
    },
  };
  await withServer({ metrics }, async (base) => {
    const slow = Array.from({ length: MAX_IN_FLIGHT }, () => get(`${base}/metrics`));
    const deadline = Date.now() + 20_000;
    while (started < MAX_IN_FLIGHT && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assertEquals(started, MAX_IN_FLIGHT);
    const busy = await get(`${base}/api/status`);
    assertEquals([busy.status, busy.headers.get("retry-after")], [503, "1"]);
    resolve();
    assertEquals((await Promise.all(slow)).map((r) => r.status), Array(MAX_IN_FLIGHT).fill(200));
    assertEquals((await get(`${base}/api/status`)).status, 200);
  });
});

Deno.test("serveHttp() with a token: 401 without it or with a wrong one, 200 with it", async () => {
  await withServer({ token: TOKEN }, async (base) => {
    for (const path of ["/", "/app.js", "/api/status", "/metrics", "/nope"]) {
      const none = await get(base + path);
      assertEquals(none.status, 401, path);
      assertEquals(none.headers.get("www-authenticate"), 'Bearer realm="vmesh"');
      assertEquals(none.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);
    }
    for (
      const auth of [
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.slice(0, -1)}`,
        `Bearer ${TOKEN.toUpperCase()}`,
        "Bearer ",
        `Basic ${btoa(`u:${TOKEN}`)}`,
        TOKEN,
        `Bearer ${TOKEN} extra`,
      ]
    ) {
      const r = await get(`${base}/api/status`, { headers: { authorization: auth } });
      assertEquals(r.status, 401, auth);
      assert(!r.text.includes(TOKEN), "a refusal must not echo the token");
    }
    const ok = await get(`${base}/api/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assertEquals(ok.status, 200);
    const lower = await get(`${base}/api/routes`, {
      headers: { authorization: `bearer ${TOKEN}` },
    });
    assertEquals(lower.status, 200);
    // Even a wrong method gets 401 first: nothing is told to a client without the token.
    assertEquals((await get(`${base}/api/status`, { method: "POST" })).status, 401);
  });
});

Deno.test("serveHttp() never logs the token, and warns when unauthenticated off loopback", async () => {
  captureLogs();
  try {
    const failing: StatusSource = {
      ...SOURCE,
      status: () => {
        throw new Error("view failed");
      },
    };
    await withServer({ token: TOKEN, source: failing }, async (base, server) => {
      const auth = { authorization: `Bearer ${TOKEN}` };
      assertEquals((await get(`${base}/api/status`, { headers: auth })).status, 500);
      await get(`${base}/api/routes`, { headers: { authorization: `Bearer ${TOKEN}zz` } });
      await get(`${base}/api/routes?t=${"q".repeat(3000)}`, { headers: auth });
      await raw(server.addr.port, `GET / HTTP/1.1\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
    });
    const text = records.map((r) => JSON.stringify([r.message, r.properties])).join("\n");
    assertStringIncludes(text, "view failed");
    assertStringIncludes(text, "bearer token required");
    assert(!text.includes(TOKEN), `the token appears in the log:\n${text}`);
    assert(!text.includes(TOKEN.slice(0, 12)), "part of the token appears in the log");

    records.length = 0;
    await withServer({ host: "0.0.0.0" }, () => Promise.resolve());
    await withServer({ host: "127.0.0.1" }, () => Promise.resolve());
    const levels = records.map((r) => [r.level, String(r.message.join(""))]);
    assertEquals(levels.map((l) => l[0]), ["warning", "info"]);
    assertStringIncludes(levels[0][1], "unauthenticated and reachable from other hosts");
  } finally {
    resetSync();
  }
});

/** Resolves with what `conn` reads: "closed" at its end or on a reset, else the bytes read. */
async function readOnce(conn: Deno.Conn): Promise<string> {
  try {
    const n = await conn.read(new Uint8Array(1024));
    return n === null ? "closed" : `${n} bytes`;
  } catch (e) {
    if (e instanceof Deno.errors.ConnectionReset) return "closed";
    throw e;
  }
}

Deno.test("serveHttp() holds at most maxConnections connections and closes any beyond at once", async () => {
  await withServer({ limits: { maxConnections: 3 } }, async (base, server) => {
    const port = server.addr.port;
    const idle = await Promise.all(
      [1, 2, 3].map(() => Deno.connect({ hostname: "127.0.0.1", port })),
    );
    try {
      // Once the three idle connections are accepted, a fourth is closed before any answer.
      const refused = await waitFor(async () => {
        try {
          await get(`${base}/api/status`);
          return false;
        } catch (e) {
          return e;
        }
      });
      assert(refused instanceof TypeError, String(refused));
    } finally {
      for (const c of idle) c.close();
    }
    assertEquals(
      await waitFor(async () =>
        (await get(`${base}/api/status`).catch(() => undefined))?.status === 200
      ),
      true,
    );
  });
});

Deno.test("serveHttp() closes a connection lifetimeMs after accepting it, mid-request or idle", async () => {
  await withServer({ limits: { lifetimeMs: 200 } }, async (_base, server) => {
    const slow = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    try {
      // A request head that never ends (slowloris).
      await slow.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: localhost\r\nX-A: "));
      assertEquals(await readOnce(slow), "closed");
    } finally {
      slow.close();
    }
  });
});

/** Polls `fn` every 20 ms until it returns something other than false (20 s at most). */
async function waitFor<T>(fn: () => Promise<T | false>): Promise<T> {
  const deadline = Date.now() + 20_000;
  while (true) {
    const v = await fn();
    if (v !== false) return v;
    if (Date.now() > deadline) throw new Error("condition not met within 20 s");
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("serveHttp() on loopback answers 403 to a Host header that is not loopback (DNS rebinding)", async () => {
  await withServer({}, async (_base, server) => {
    const port = server.addr.port;
    for (
      const host of [`localhost:${port}`, `127.0.0.1:${port}`, "[::1]:1", "LOCALHOST.", "127.1.2.3"]
    ) {
      const r = await raw(port, `GET /api/status HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      assert(r.startsWith("HTTP/1.1 200"), `${host}: ${r.slice(0, 40)}`);
    }
    for (
      const host of [`evil.example:${port}`, "127.0.0.1.evil.example", "[::2]:1", "localhost.evil"]
    ) {
      const r = await raw(port, `GET /api/status HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      assert(r.startsWith("HTTP/1.1 403"), `${host}: ${r.slice(0, 40)}`);
    }
  });
  // On other addresses any Host is fine (operators reach it by whatever name they use).
  await withServer({ host: "0.0.0.0" }, async (_base, server) => {
    const r = await raw(
      server.addr.port,
      "GET /api/status HTTP/1.1\r\nHost: node1.example\r\n\r\n",
    );
    assert(r.startsWith("HTTP/1.1 200"), r.slice(0, 40));
  });
});
