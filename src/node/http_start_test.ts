import { assert, assertEquals, assertRejects } from "../../tests/_harness/assert.ts";
import type { NodeConfig } from "../config/mod.ts";
import { startHttp } from "./http_start.ts";

interface InfoModule {
  specifier: string;
  dependencies?: { specifier: string; code?: { specifier: string }; isDynamic?: boolean }[];
}

Deno.test("the program loads src/http/ only through the dynamic imports in http_start.ts and metrics_source.ts", async () => {
  const root = new URL("../../", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", new URL("deno.json", root).pathname, "main.ts"],
    cwd: root.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] };
  const http = new URL("src/http/", root).href;
  const edges: string[] = [];
  for (const m of info.modules) {
    if (m.specifier.startsWith(http)) continue;
    for (const d of m.dependencies ?? []) {
      if (d.code?.specifier.startsWith(http)) {
        edges.push(`${m.specifier.slice(root.href.length)} ${d.isDynamic ? "dynamic" : "static"}`);
      }
    }
  }
  // Type-only imports (run.ts) are erased: they load nothing.
  assertEquals(edges.sort(), [
    "src/node/http_start.ts dynamic",
    "src/node/metrics_source.ts dynamic",
  ]);
});

const SOURCE = { status: () => ({}), routes: () => [], dc: () => null };

Deno.test("startHttp() serves nothing without http_listen and says which address it cannot use", async () => {
  const none = { httpListen: undefined } as unknown as NodeConfig;
  assertEquals(await startHttp(none, SOURCE), undefined);
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    const busy = { httpListen: { host: "127.0.0.1", port } } as unknown as NodeConfig;
    const e = await assertRejects(() => startHttp(busy, SOURCE), Error);
    assert(e.message.startsWith(`http_listen 127.0.0.1:${port}: cannot listen: `), e.message);
  } finally {
    taken.close();
  }
  const free = { httpListen: { host: "127.0.0.1", port: 0 } } as unknown as NodeConfig;
  const server = await startHttp(free, SOURCE);
  assert(server !== undefined);
  const res = await fetch(`http://127.0.0.1:${server.addr.port}/api/routes`);
  assertEquals(await res.json(), []);
  await server.close();
});
