/**
 * A small version of `deno task bench:scale --topology hub`: a real vmesh hub with 20
 * lightweight peers (the real session and routing code, tests/_harness/hub_peers.ts) takes
 * every session and every route back after a `kill -9` and a restart. Waits for conditions
 * with generous limits and asserts no timing (the benchmark reports the figures).
 */
import { assertEquals } from "./_harness/assert.ts";
import { e2eTest } from "./_harness/e2e.ts";
import { runHub } from "./_harness/hub_run.ts";

await e2eTest(
  "a hub restarted with kill -9 gets all 20 peers' sessions and routes back",
  async () => {
    const r = await runHub({ peers: 20, workers: 1, idleSeconds: 0, stopSignal: "SIGKILL" });
    console.log(
      `  hub, 20 peers: every session back ${r.sessionsBackMs} ms and every route ` +
        `${r.routesBackMs} ms after the restart; failed dials ${JSON.stringify(r.peerFailures)}`,
    );
    // runHub waited (up to 120 s each) until every peer had its session and all 21 prefixes
    // back, and the hub listed every peer up with a route to each peer's prefix.
    assertEquals(r.hubPeersUp, 20);
    // Refusals a loaded machine can cause are fine; a refused certificate, name or proof is not.
    const loadOnly = new Set([
      "unauthenticated-limit",
      "handshake-timeout",
      "connection-lost",
      "tls-error",
      "dead",
    ]);
    assertEquals(Object.keys(r.hubFailures).filter((k) => !loadOnly.has(k)), []);
  },
);
