import { assertEquals, assertStringIncludes } from "../../tests/_harness/assert.ts";
import { formatTable, formatTableJson, type RouteView } from "./table_view.ts";

const views: RouteView[] = [
  {
    prefix: "fd00:a::/48",
    nextHop: { kind: "local", target: "tun0" },
    latencyMs: 0,
    path: [],
    ageMs: 5000,
    reason: "local route",
    candidates: 1,
  },
  {
    prefix: "fd00:d::/48",
    nextHop: { kind: "peer", id: "b".repeat(64), name: "bee" },
    latencyMs: 7.5,
    path: [{ id: "b".repeat(64), name: "bee", latencyMs: 3 }, {
      id: "d".repeat(64),
      latencyMs: 4.5,
    }],
    ageMs: 3_725_000,
    reason: "hysteresis",
    candidates: 2,
  },
];

Deno.test("formatTable() shows next hop, latency, path names or short IDs, age and reason", () => {
  const text = formatTable(views);
  const lines = text.trimEnd().split("\n");
  assertEquals(lines.length, 3);
  assertStringIncludes(lines[0], "PREFIX");
  assertStringIncludes(lines[1], "local:tun0");
  assertStringIncludes(lines[2], "bee > dddddddddddd");
  assertStringIncludes(lines[2], "7.500 ms");
  assertStringIncludes(lines[2], "1h2m");
  assertStringIncludes(lines[2], "hysteresis");
});

Deno.test("formatTableJson() round-trips through JSON.parse", () => {
  assertEquals(JSON.parse(formatTableJson(views)), JSON.parse(JSON.stringify(views)));
});
