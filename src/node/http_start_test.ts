import { assert, assertEquals, assertRejects } from "../../tests/_harness/assert.ts";
import type { NodeConfig } from "../config/mod.ts";
import { startHttp } from "./http_start.ts";

// That main.ts loads src/http/ (and prom-client) only through dynamic imports is
// metrics_source_test.ts's "a node without http_listen loads neither…".

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
