import { assertEquals } from "../../../tests/_harness/assert.ts";
import { buildGraph, linkKey, nodeLabel, routePath } from "./graph.ts";
import type { RouteJson, StatusJson } from "./types.ts";

const A = "a".repeat(64);
const B = "b".repeat(64);
const C = "c".repeat(64);
const E = "e".repeat(64);

const STATUS: StatusJson = {
  node: { name: "a.vnet.test", id: A },
  peers: [
    { name: "b.vnet.test", id: B, state: "up", rttMs: 4, loss: 0 },
    { name: "d.vnet.test", id: null, state: "down" },
    { name: "e.vnet.test", id: E, state: "up", rttMs: 9, loss: 0.1 },
  ],
};

const ROUTES: RouteJson[] = [
  { prefix: "fd00:1::/48", nextHop: { kind: "local", target: "tun0" }, path: [] },
  {
    prefix: "fd00:2::/48",
    nextHop: { kind: "peer", id: B },
    path: [{ id: B, latencyMs: 2 }],
  },
  {
    prefix: "fd00:3::/48",
    nextHop: { kind: "peer", id: B, name: "b.vnet.test" },
    path: [{ id: B, latencyMs: 2 }, { id: C, latencyMs: 3 }],
  },
];

Deno.test("buildGraph() has this node, every peer and every hop of the routes' paths", () => {
  const g = buildGraph(STATUS, ROUTES);
  const nodes = Object.fromEntries(g.nodes.map((n) => [n.key, n]));
  assertEquals(Object.keys(nodes).sort(), [A, B, C, E, "name:d.vnet.test"].sort());
  assertEquals(nodes[A].self, true);
  assertEquals(nodes[A].prefixes, ["fd00:1::/48"]);
  assertEquals(nodes[B].prefixes, ["fd00:2::/48"]);
  assertEquals(nodes[C].prefixes, ["fd00:3::/48"]);
  assertEquals([nodes[B].peer, nodes[C].peer], [true, false]);
  // A hop without a name is labelled by its short ID; a name is used as soon as one is given.
  assertEquals(nodeLabel(nodes[C]), "cccccccccccc");
  const named = buildGraph(STATUS, [
    { ...ROUTES[2], path: [{ id: B, latencyMs: 2 }, { id: C, name: "c.vnet.test", latencyMs: 3 }] },
  ]);
  assertEquals(nodeLabel(named.nodes.find((n) => n.key === C)!), "c.vnet.test");
  const links = Object.fromEntries(g.links.map((l) => [l.key, l]));
  assertEquals(links[linkKey(A, B)], {
    key: linkKey(A, B),
    a: A,
    b: B,
    latencyMs: 4,
    health: "up",
  });
  assertEquals(links[linkKey(A, E)].health, "lossy");
  assertEquals(links[linkKey(A, "name:d.vnet.test")].health, "down");
  assertEquals(links[linkKey(B, C)], {
    key: linkKey(B, C),
    a: B,
    b: C,
    latencyMs: 3,
    health: "learned",
  });
  assertEquals(g.links.length, 4);
});

Deno.test("routePath() lists the nodes and links packets to a prefix cross", () => {
  const p = routePath(STATUS, ROUTES, "fd00:3::/48");
  assertEquals([...p.nodes], [A, B, C]);
  assertEquals([...p.links], [linkKey(A, B), linkKey(B, C)]);
  assertEquals([...routePath(STATUS, ROUTES, "fd00:1::/48").nodes], [A]);
  assertEquals(routePath(STATUS, ROUTES, "fd00:9::/48").nodes.size, 0);
});
