/**
 * The control socket: a Unix stream socket (mode 0600) through which `vmesh status`,
 * `vmesh routes` and `vmesh dc current` read a running node.
 *
 * Protocol: the client sends one JSON object `{"cmd": "<name>", …arguments}` terminated by "\n"
 * (at most 2 MiB: `dc-apply` carries a DC of up to 1 MiB in base64); the node answers with one JSON object `{"ok": true, "result": …}` or
 * `{"ok": false, "error": "…"}` and closes the connection.
 * @module
 */
import { getLogger } from "@logtape/logtape";

const log = getLogger(["vmesh", "control"]);
/** Largest request: a 1 MiB DC in base64 (1.4 MiB) and the JSON around it. */
export const MAX_CONTROL_REQUEST = 2 * 1024 * 1024;
const MAX_RESPONSE = 64 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 5000;
const MAX_CLIENTS = 16;
const ACCEPT_RETRY_MS = 100;
/** How long the CLI waits for a node's answer. */
const CLIENT_TIMEOUT_MS = 10_000;

/** The commands a node answers; `req` is the whole request object (the command's arguments). */
export type ControlHandler = (
  cmd: string,
  req: Record<string, unknown>,
) => unknown | Promise<unknown>;

/** A control socket failure the CLI reports (cannot connect, bad answer). */
export class ControlError extends Error {
  /**
   * Creates the error.
   * @param message what failed and what to do
   * @param options standard error options (`cause`)
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ControlError";
  }
}

/** A listening control socket. */
export class ControlServer {
  #listener: Deno.Listener;
  #clients = 0;
  #closed = false;
  readonly done: Promise<void>;

  private constructor(listener: Deno.Listener, readonly path: string, handler: ControlHandler) {
    this.#listener = listener;
    this.done = this.#accept(handler);
  }

  /**
   * Listens on `path` (replacing a stale socket file left by a dead node, refusing to replace
   * anything that is not a socket) with mode 0600.
   */
  static async listen(path: string, handler: ControlHandler): Promise<ControlServer> {
    const dir = path.slice(0, Math.max(path.lastIndexOf("/"), 0));
    if (dir) await Deno.mkdir(dir, { recursive: true, mode: 0o755 });
    try {
      const st = await Deno.lstat(path);
      if (!st.isSocket) {
        throw new ControlError(`control_socket ${path} exists and is not a socket: remove it`);
      }
      if (await isAlive(path)) {
        throw new ControlError(
          `control_socket ${path} is in use by a running node: stop it or pick another path`,
        );
      }
      await Deno.remove(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    // bind(2) creates the socket file with mode 0777 & ~umask. Were it created with the usual
    // 022 and chmodded afterwards, any local user could connect() in between (connecting
    // needs write permission on the file, and a connection made then stays open after the
    // chmod) and read status, routes and the DC. So bind under a 0077 umask: the file is
    // 0600 from the start. listen() is synchronous, so no other code of ours runs while the
    // process umask is changed; files created meanwhile by other threads can only get a
    // stricter mode.
    const umask = Deno.umask(0o077);
    let listener: Deno.Listener;
    try {
      listener = Deno.listen({ transport: "unix", path });
    } finally {
      Deno.umask(umask);
    }
    await Deno.chmod(path, 0o600); // in case the bind(2) mode ever changes
    return new ControlServer(listener, path, handler);
  }

  async #accept(handler: ControlHandler): Promise<void> {
    while (!this.#closed) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (e) {
        if (this.#closed) return;
        // E.g. out of file descriptors: say so, and do not spin.
        log.warn("control socket accept failed: {error}", { error: String(e) });
        await new Promise((r) => setTimeout(r, ACCEPT_RETRY_MS));
        continue;
      }
      if (this.#clients >= MAX_CLIENTS) {
        conn.close();
        continue;
      }
      this.#clients++;
      this.#serve(conn, handler).finally(() => this.#clients--);
    }
  }

  async #serve(conn: Deno.Conn, handler: ControlHandler): Promise<void> {
    const timer = setTimeout(() => safeClose(conn), REQUEST_TIMEOUT_MS);
    try {
      const line = await readLine(conn, MAX_CONTROL_REQUEST);
      let reply: unknown;
      try {
        const req = parseControlRequest(line);
        reply = { ok: true, result: await handler(req.cmd, req) };
      } catch (e) {
        reply = { ok: false, error: e instanceof Error ? e.message : String(e) };
      }
      await writeAll(conn, new TextEncoder().encode(JSON.stringify(reply) + "\n"));
    } catch (e) {
      log.debug("control client dropped: {error}", { error: String(e) });
    } finally {
      clearTimeout(timer);
      safeClose(conn);
    }
  }

  /** Stops listening and removes the socket file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
    await Deno.remove(this.path).catch(() => undefined);
  }
}

/**
 * Sends one command to the node listening on `path` and returns its result.
 * @param args the command's arguments (sent in the same JSON object as `cmd`)
 * @throws {ControlError} when the node cannot be reached or answers with an error.
 */
export async function controlRequest(
  path: string,
  cmd: string,
  args: Record<string, unknown> = {},
): Promise<unknown> {
  let conn: Deno.Conn;
  try {
    conn = await Deno.connect({ transport: "unix", path });
  } catch (e) {
    const hint = e instanceof Deno.errors.NotFound
      ? "is the node running? (is control_socket the same in its config?)"
      : e instanceof Deno.errors.PermissionDenied
      ? "run as the node's user or root"
      : "is the node running?";
    throw new ControlError(`cannot connect to control socket ${path}: ${hint}`, { cause: e });
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    safeClose(conn);
  }, CLIENT_TIMEOUT_MS);
  try {
    let line: string;
    try {
      await writeAll(conn, new TextEncoder().encode(JSON.stringify({ ...args, cmd }) + "\n"));
      line = await readLine(conn, MAX_RESPONSE);
    } catch (e) {
      if (!timedOut) throw e;
      throw new ControlError(
        `node at ${path} did not answer "${cmd}" within ${CLIENT_TIMEOUT_MS / 1000} s`,
        { cause: e },
      );
    }
    let reply: { ok?: boolean; result?: unknown; error?: string };
    try {
      reply = JSON.parse(line);
    } catch (e) {
      throw new ControlError(`control socket ${path} sent a malformed answer`, { cause: e });
    }
    if (!reply.ok) throw new ControlError(`node refused "${cmd}": ${reply.error}`);
    return reply.result;
  } finally {
    clearTimeout(timer);
    if (!timedOut) safeClose(conn);
  }
}

async function isAlive(path: string): Promise<boolean> {
  try {
    const c = await Deno.connect({ transport: "unix", path });
    c.close();
    return true;
  } catch {
    // Refused or gone: a stale socket file. That is the answer, not an error.
    return false;
  }
}

/**
 * Parses one request line, `{"cmd": "<name>", ...arguments}`.
 * @returns the request object; `cmd` is a string
 * @throws {SyntaxError} when the line is not JSON or not such an object
 */
export function parseControlRequest(line: string): { cmd: string } & Record<string, unknown> {
  const req = JSON.parse(line);
  if (typeof req !== "object" || req === null || typeof req.cmd !== "string") {
    throw new SyntaxError('expected {"cmd": "<name>"}');
  }
  return req;
}

/**
 * Reads bytes up to the first newline (or the end of the stream) as text.
 * @param conn the stream
 * @param max longest line accepted
 * @throws {RangeError} when the line is longer than `max`
 */
export async function readLine(
  conn: { read(p: Uint8Array): Promise<number | null> },
  max: number,
): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(65536);
  while (true) {
    const n = await conn.read(buf);
    if (n === null) break;
    const nl = buf.subarray(0, n).indexOf(10);
    const end = nl >= 0 ? nl : n;
    total += end;
    if (total > max) throw new RangeError(`message over ${max} bytes`);
    chunks.push(buf.slice(0, end));
    if (nl >= 0) break;
  }
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return new TextDecoder().decode(all);
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

function safeClose(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch (e) {
    if (!(e instanceof Deno.errors.BadResource)) throw e;
  }
}
