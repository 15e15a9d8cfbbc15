import { assert, assertEquals } from "../../tests/_harness/assert.ts";
import { DROP_REASONS, FORWARD_DIRECTIONS, HANDSHAKE_FAILURE_REASONS } from "./metrics_source.ts";
import type { ForwarderStats } from "../dataplane/mod.ts";
import { runCommandGraph } from "../../tests/_harness/module_graph.ts";

Deno.test("a node without http_listen loads neither the http room nor prom-client", async () => {
  const { loaded, dynamic } = await runCommandGraph();
  const offending = [...loaded].filter((s) =>
    s.includes("/src/http/") || s.includes("prom-client")
  );
  assertEquals(offending, [], "statically imported by vmesh run");
  assert(
    [...dynamic].some((s) => s.endsWith("/src/http/mod.ts")),
    "the http room is imported dynamically (so this test looks at the right graph)",
  );
});

Deno.test("metric labels cover every forwarder counter and session reason, each label once", () => {
  const stats: ForwarderStats = {
    fromVif: 0,
    fromPeer: 0,
    toVif: 0,
    toPeer: 0,
    dropMalformed: 0,
    dropNotIpv6: 0,
    dropScope: 0,
    dropNoRoute: 0,
    dropHopLimit: 0,
    dropNoTarget: 0,
    dropPeerQueue: 0,
    dropVnet: 0,
    dropBadVnetHdr: 0,
    dropSourceOwn: 0,
    dropSourceUnfeasible: 0,
    icmpSent: 0,
    icmpRateLimited: 0,
  };
  const drops = Object.keys(stats).filter((k) => k.startsWith("drop"));
  assertEquals(Object.keys(DROP_REASONS).sort(), drops.sort(), "every drop counter has a reason");
  assertEquals(new Set(Object.values(DROP_REASONS)).size, drops.length);
  assertEquals(Object.keys(FORWARD_DIRECTIONS).length, 4);
  for (const label of [...Object.values(DROP_REASONS), ...Object.values(FORWARD_DIRECTIONS)]) {
    assert(/^[a-z][a-z0-9_]*$/.test(label!), label);
  }
  assertEquals(HANDSHAKE_FAILURE_REASONS.includes("duplicate"), false);
  assert(HANDSHAKE_FAILURE_REASONS.includes("name-mismatch"));
});
