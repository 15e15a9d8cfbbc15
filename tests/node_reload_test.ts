/**
 * `Node.reload()` (what SIGHUP applies): peers and announcements change live without touching
 * the sessions that stay; other changes are reported as needing a restart.
 */
import { assert, assertEquals } from "./_harness/assert.ts";
import { NodeMesh, waitUntil } from "./_harness/node_harness.ts";
import { loadNodeConfig } from "../src/config/mod.ts";
import { ANNOUNCE_SLICE } from "../src/node/node.ts";

Deno.test("reload() adds a peer and an announcement without dropping the unaffected session", async () => {
  const mesh = await NodeMesh.create();
  try {
    const b = await mesh.start("b", 2);
    const c = await mesh.start("c", 3);
    const a = await mesh.start("a", 1, { peers: [b] });
    await mesh.waitRoute(b, "fd00:1::/48");
    const toB = a.node.sessions.sessions()[0];
    const fromA = b.node.sessions.sessions()[0];
    await new Promise((r) => setTimeout(r, 300));
    const uptimeBefore = toB.stats().uptimeMs;
    assert(uptimeBefore >= 250, `uptime ${uptimeBefore}`);

    await mesh.configJson("a", 1, {
      peers: [b, c],
      port: a.port,
      announce: ["fd00:1::/48", "fd00:1:1::/64"],
    });
    const next = (await loadNodeConfig(a.configPath)).config;
    assertEquals(a.node.reload(next), [], "everything is applied live");
    await mesh.waitSessions(a, [b, c]);
    await mesh.waitRoute(b, "fd00:1:1::/64");
    await mesh.waitRoute(c, "fd00:1:1::/64");
    await mesh.waitRoute(c, "fd00:2::/48"); // through A now
    assert(a.node.sessions.session(b.node.identity.id) === toB, "same session object with B");
    assert(b.node.sessions.sessions()[0] === fromA, "B kept its session too");
    assertEquals(toB.state, "open");
    assert(toB.stats().uptimeMs > uptimeBefore, "its uptime went on");
    assertEquals(a.node.config.peers.length, 2);

    // Remove the announcement: withdrawn at both peers; the prefix that stays is untouched.
    await mesh.configJson("a", 1, { peers: [b, c], port: a.port });
    assertEquals(a.node.reload((await loadNodeConfig(a.configPath)).config), []);
    await mesh.waitRoute(b, "fd00:1:1::/64", false);
    await mesh.waitRoute(c, "fd00:1:1::/64", false);
    assert(b.node.router.table().some((r) => r.prefix === "fd00:1::/48"));

    // Remove peer C: the session A dialled is closed; B's stays.
    await mesh.configJson("a", 1, { peers: [b], port: a.port });
    assertEquals(a.node.reload((await loadNodeConfig(a.configPath)).config), []);
    await waitUntil(() => c.node.sessions.sessions().length === 0, "C's session with A to close");
    await mesh.waitRoute(c, "fd00:1::/48", false);
    assert(a.node.sessions.session(b.node.identity.id) === toB);
  } finally {
    await mesh.close();
  }
});

Deno.test("reload() names the changes that need a restart and keeps the running values", async () => {
  const mesh = await NodeMesh.create();
  try {
    const a = await mesh.start("a", 1);
    const port = a.port;
    await mesh.configJson("a", 1, {
      port,
      extra: {
        ping_interval_ms: 500,
        hysteresis_ms: 20,
        vifs: { mem: { type: "dummy" }, x: { type: "dummy" } },
      },
    });
    const restart = a.node.reload((await loadNodeConfig(a.configPath)).config);
    assertEquals(restart.sort(), ["hysteresisMs", "pingIntervalMs", "vifs"]);
    assertEquals([...a.node.config.vifs.keys()], ["mem"], "the vifs in use stay");
    assertEquals(a.node.config.pingIntervalMs, 1000, "config shows the value in force");
    assertEquals(a.node.config.hysteresisMs, 10);
  } finally {
    await mesh.close();
  }
});

Deno.test("reload() applies many announcement changes in slices, in order, and all of them", async () => {
  const mesh = await NodeMesh.create();
  try {
    const a = await mesh.start("a", 1);
    const n = ANNOUNCE_SLICE * 2 + 100;
    const many = Array.from({ length: n }, (_, i) => `fd01:0:${i.toString(16)}::/48`);
    await mesh.configJson("a", 1, { port: a.port, announce: ["fd00:1::/48", ...many] });
    assertEquals(a.node.reload((await loadNodeConfig(a.configPath)).config), []);
    // The first slice at once, the rest in later tasks: the event loop runs in between.
    assertEquals(a.node.router.counts().routes, 1 + ANNOUNCE_SLICE);
    await waitUntil(() => a.node.router.counts().routes === 1 + n, "every announcement");
    // Withdraw them all, then (before the slices are done) add one back: the last word wins.
    await mesh.configJson("a", 1, { port: a.port });
    assertEquals(a.node.reload((await loadNodeConfig(a.configPath)).config), []);
    await mesh.configJson("a", 1, { port: a.port, announce: ["fd00:1::/48", many[n - 1]] });
    assertEquals(a.node.reload((await loadNodeConfig(a.configPath)).config), []);
    await waitUntil(() => a.node.router.counts().routes === 2, "all but the re-added one gone");
    await new Promise((r) => setTimeout(r, 50));
    assertEquals(a.node.router.table().map((r) => r.prefix), ["fd00:1::/48", many[n - 1]]);
  } finally {
    await mesh.close();
  }
});
