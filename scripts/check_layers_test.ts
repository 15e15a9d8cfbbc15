import { assertEquals } from "../tests/_harness/assert.ts";
import { checkFaces, checkGraph, formatViolation, type Import, LAYERS } from "./check_layers.ts";

const graph = (g: Record<string, string[]>) =>
  new Map<string, Import[]>(
    Object.entries(g).map(([f, ts]) => [f, ts.map((target, i) => ({ target, line: i + 1 }))]),
  );
const check = (g: Record<string, string[]>) => checkGraph(graph(g)).map(formatViolation);

Deno.test("check_layers accepts downward imports through faces and direct imports within a room", () => {
  assertEquals(
    check({
      "main.ts": ["src/cli/mod.ts", "src/node/mod.ts"],
      "mod.ts": ["src/node/mod.ts", "src/pki/mod.ts"],
      "src/node/node.ts": ["src/routing/mod.ts", "src/dataplane/mod.ts", "ffi/mod.ts"],
      "src/routing/router.ts": ["src/routing/route.ts", "src/net/mod.ts", "npm:@logtape/logtape"],
      "src/dataplane/forwarder.ts": ["src/vif/mod.ts", "src/clock/mod.ts"],
      "src/dataplane/forwarder_test.ts": ["tests/_harness/assert.ts", "src/net/mod.ts"],
      "src/node/version.ts": ["deno.json"],
      "tests/e2e_chain_test.ts": ["src/node/node.ts", "src/cli/run.ts"],
    }),
    [],
  );
});

Deno.test("check_layers reports an upward import, naming both layers", () => {
  assertEquals(check({ "src/node/run.ts": ["src/node/node.ts", "src/cli/version.ts"] }), [
    "src/node/run.ts:2: imports src/cli/version.ts (layer node may not import layer cli)",
  ]);
});

Deno.test("check_layers reports imports between rooms of one layer and ffi importing src", () => {
  assertEquals(check({ "src/routing/router.ts": ["src/session/mod.ts"] }), [
    "src/routing/router.ts:1: imports src/session/mod.ts (layer routing may not import layer session)",
  ]);
  assertEquals(check({ "ffi/tun_linux.ts": ["ffi/errno.ts", "src/net/mod.ts"] }), [
    "ffi/tun_linux.ts:2: imports src/net/mod.ts (layer ffi may not import layer net)",
  ]);
});

Deno.test("check_layers keeps the packet path from importing the control plane", () => {
  assertEquals(
    check({ "src/dataplane/forwarder.ts": ["src/filter/mod.ts", "src/routing/mod.ts"] }),
    [
      "src/dataplane/forwarder.ts:1: imports src/filter/mod.ts (layer dataplane may not import layer filter)",
      "src/dataplane/forwarder.ts:2: imports src/routing/mod.ts (layer dataplane may not import layer routing)",
    ],
  );
});

Deno.test("check_layers reports a cross-room import that bypasses the face", () => {
  assertEquals(check({ "src/node/node.ts": ["src/dataplane/forwarder.ts", "ffi/libc.ts"] }), [
    "src/node/node.ts:1: imports src/dataplane/forwarder.ts (other rooms import dataplane through its face src/dataplane/mod.ts)",
    "src/node/node.ts:2: imports ffi/libc.ts (other rooms import ffi through its face ffi/mod.ts)",
  ]);
});

Deno.test("check_layers reports the library face importing the CLI, loose files and unknown rooms", () => {
  assertEquals(
    check({
      "mod.ts": ["src/cli/mod.ts"],
      "src/log.ts": [],
      "src/stats/mod.ts": [],
      "src/udp/socket.ts": ["scripts/bench_udp.ts", "tests/_harness/assert.ts"],
    }),
    [
      "mod.ts:1: imports src/cli/mod.ts (layer mod.ts may not import layer cli)",
      "src/log.ts: lies outside every room (every file in src/ belongs in a room folder)",
      "src/udp/socket.ts:1: imports scripts/bench_udp.ts (library code may not import scripts/)",
      "src/udp/socket.ts:2: imports tests/_harness/assert.ts (library code may not import tests/)",
    ],
  );
  assertEquals(check({ "src/stats/mod.ts": ["src/net/mod.ts"] }), [
    "src/stats/mod.ts:1: imports src/net/mod.ts (room stats is not in the layer table of scripts/check_layers.ts)",
  ]);
});

Deno.test("check_layers' table puts every room in exactly one layer", () => {
  const rooms = LAYERS.flat();
  assertEquals(new Set(rooms).size, rooms.length);
});

Deno.test("check_layers reports a room without a face and a face without a module doc", () => {
  const faces = new Map<string, string | undefined>([
    ["net", '/**\n * IPv6 value types.\n * @module\n */\nexport { parseIpv6 } from "./ipv6.ts";\n'],
    ["vif", undefined],
    ["ffi", 'export { libc } from "./libc.ts";\n'],
  ]);
  assertEquals(checkFaces(faces).map(formatViolation), [
    "src/vif/mod.ts: room vif has no face",
    "ffi/mod.ts: a face opens with a module doc (@module)",
  ]);
});
