/**
 * Starts the HTTP endpoint when the config has `http_listen`. The http room is loaded here with
 * a dynamic `import()`, so a node without `http_listen` never loads it (nor the status page it
 * carries): no memory and no start-up time for what it does not use. `deno compile` still
 * includes it (the specifier is a literal).
 * @module
 */
import type { NodeConfig } from "../config/mod.ts";
import type { HttpServer, Metrics, StatusSource } from "../http/mod.ts";

/**
 * Serves `source` on `config.httpListen` (with `config.httpToken`), or does nothing when the
 * config has no `http_listen`.
 * @returns the server, or undefined when there is none
 * @throws {Error} when it cannot listen (the address is in use, for example)
 */
export async function startHttp(
  config: NodeConfig,
  source: StatusSource,
  metrics?: Metrics,
): Promise<HttpServer | undefined> {
  if (config.httpListen === undefined) return undefined;
  const { serveHttp } = await import("../http/mod.ts");
  try {
    return await serveHttp({
      listen: config.httpListen,
      token: config.httpToken,
      source,
      metrics,
    });
  } catch (e) {
    const where = `${config.httpListen.host}:${config.httpListen.port}`;
    throw new Error(
      `http_listen ${where}: cannot listen: ${e instanceof Error ? e.message : e}`,
      { cause: e },
    );
  }
}
