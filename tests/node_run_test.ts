/**
 * `runNode` in this process (the life of `vmesh run`): a bad --initial-dc, the persisted DC,
 * the control socket's answers, --table, and SIGHUP re-reading the config.
 */
import { assert, assertEquals, assertStringIncludes } from "./_harness/assert.ts";
import { NodeMesh, runInProcess as runIt, waitUntil } from "./_harness/node_harness.ts";
import { controlRequest } from "../src/node/control.ts";
import { startTableWriter } from "../src/node/table_writer.ts";
import { VERSION } from "../src/node/mod.ts";

const MINUTE = 60_000;

Deno.test("runNode with a bad --initial-dc still runs and serves status, routes and dc", async () => {
  const mesh = await NodeMesh.create();
  try {
    const bad = `${mesh.dir}/bad-dc.bin`;
    await Deno.writeFile(bad, crypto.getRandomValues(new Uint8Array(500)));
    const b = await mesh.start("b", 2);
    const a = await runIt(mesh, "a", 1, { peers: [b], run: { initialDcPath: bad } });
    try {
      await mesh.waitRoute(b, "fd00:1::/48");
      await waitUntil(
        async () =>
          ((await controlRequest(a.socket, "routes")) as { prefix: string }[]).length === 2,
        "A to learn B's route",
      );
      const st = await controlRequest(a.socket, "status") as Record<string, any>;
      assertEquals(Object.keys(st).sort(), [
        "dc",
        "dcSync",
        "forwarding",
        "names",
        "node",
        "peers",
        "revocation",
        "routeRefusals",
        "routes",
        "sessions",
        "vifs",
      ]);
      assertEquals(st.node.name, "a.vnet.test");
      assertEquals(st.node.domain, "vnet.test");
      assertEquals(st.node.version, VERSION);
      assertEquals(st.node.pid, Deno.pid);
      assert(/^[0-9a-f]{64}$/.test(st.node.id));
      assertEquals(st.dc, null, "the bad DC was not used");
      assertEquals(st.routes, 2);
      assertEquals(st.peers.length, 1);
      const p = st.peers[0];
      assertEquals(p.name, b.name);
      assertEquals(p.id, b.node.identity.id);
      assertEquals(p.state, "up");
      assertEquals(p.configured, true);
      assertEquals(p.direction, "outbound");
      assertEquals(p.addr, `127.0.0.1:${b.port}`);
      assertEquals(p.routesVia, 1);
      assertEquals(st.vifs.length, 1);
      assertEquals(st.vifs[0].key, "mem");
      assertEquals(typeof st.vifs[0].rxPackets, "number");
      assertEquals(typeof st.forwarding.fromVif, "number");
      assertEquals(typeof st.sessions.unauthenticated, "number");
      assertEquals(st.dcSync, {
        accepted: 0,
        notNewer: 0,
        invalid: 0,
        superseded: 0,
        expiryWarnings: 0,
        stateFileProblems: 0,
        chunkedSent: 0,
        chunkedReceived: 0,
        transferErrors: 0,
        transfersDeclined: 0,
      });

      const routes = await controlRequest(a.socket, "routes") as Record<string, any>[];
      assertEquals(routes.map((r) => r.prefix), ["fd00:1::/48", "fd00:2::/48"]);
      assertEquals(routes[0].nextHop, { kind: "local", target: "mem" });
      assertEquals(routes[0].latencyMs, 0);
      assertEquals(routes[0].path, []);
      assertEquals(routes[1].nextHop, { kind: "peer", id: b.node.identity.id, name: b.name });
      assertEquals(routes[1].path.map((h: { id: string }) => h.id), [b.node.identity.id]);
      for (const r of routes) {
        assertEquals(Object.keys(r).sort(), [
          "ageMs",
          "candidates",
          "latencyMs",
          "nextHop",
          "path",
          "prefix",
          "reason",
        ]);
      }
      assertEquals(await controlRequest(a.socket, "dc"), null);
      let refused = "";
      await controlRequest(a.socket, "bogus").catch((e) => refused = e.message);
      assertStringIncludes(refused, 'unknown command "bogus"');
    } finally {
      assertEquals(await a.stop(), 0);
    }
    await Deno.stat(a.socket).then(
      () => assert(false, "the control socket is removed on stop"),
      () => undefined,
    );
  } finally {
    await mesh.close();
  }
});

Deno.test("a DC persisted by one run is loaded by the next run without --initial-dc", async () => {
  const mesh = await NodeMesh.create();
  try {
    const t = new Date(Date.now() - MINUTE);
    const dcPath = `${mesh.dir}/dconf.bin`;
    await Deno.writeFile(
      dcPath,
      await mesh.signDc({ prefix_whitelist: { "b.vnet.test": ["fd00:2::/48"] } }, t),
    );
    const first = await runIt(mesh, "a", 1, { run: { initialDcPath: dcPath } });
    const dc1 = await controlRequest(first.socket, "dc") as Record<string, any>;
    assertEquals(dc1.signed_at, new Date(Math.floor(t.getTime() / 1000) * 1000).toISOString());
    assertEquals(dc1.prefix_whitelist, {
      "b.vnet.test": [{ prefix: "fd00:2::/48", max_prefix_len: 128 }],
    });
    assertEquals(JSON.parse(dc1.content), {
      prefix_whitelist: { "b.vnet.test": ["fd00:2::/48"] },
    });
    assertEquals(typeof dc1.content_sha256, "string");
    assertEquals(await first.stop(), 0);

    const second = await runIt(mesh, "a", 1);
    const st = await controlRequest(second.socket, "status") as Record<string, any>;
    assertEquals(st.dc, {
      signedAt: dc1.signed_at,
      contentHash: dc1.content_sha256,
      expiresAt: dc1.cert_expires,
      expired: false,
    });
    assertEquals(await controlRequest(second.socket, "dc"), dc1);
    assertEquals(await second.stop(), 0);

    // An older --initial-dc does not replace the persisted newer one.
    const older = `${mesh.dir}/older.bin`;
    await Deno.writeFile(older, await mesh.signDc({}, new Date(Date.now() - 10 * MINUTE)));
    const third = await runIt(mesh, "a", 1, { run: { initialDcPath: older } });
    assertEquals(
      ((await controlRequest(third.socket, "dc")) as Record<string, unknown>).signed_at,
      dc1.signed_at,
    );
    assertEquals(await third.stop(), 0);
  } finally {
    await mesh.close();
  }
});

Deno.test("--table writes the routing table file atomically at start", async () => {
  const mesh = await NodeMesh.create();
  try {
    const table = `${mesh.dir}/table.txt`;
    const a = await runIt(mesh, "a", 1, {
      announce: ["fd00:1::/48", "fd00:1:2::/64"],
      run: { tablePath: table },
    });
    try {
      await waitUntil(() => Deno.stat(table).then(() => true, () => false), "the table file");
      const text = await Deno.readTextFile(table);
      assert(text.startsWith("PREFIX"), text);
      assertStringIncludes(text, "fd00:1::/48");
      assertStringIncludes(text, "fd00:1:2::/64");
      assertStringIncludes(text, "local:mem");
      const leftovers = [];
      for await (const e of Deno.readDir(mesh.dir)) if (e.name.includes(".tmp")) leftovers.push(e);
      assertEquals(leftovers, []);
    } finally {
      await a.stop();
    }
  } finally {
    await mesh.close();
  }
});

Deno.test("the table writer replaces the file whole: a reader never sees half a table", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vmt-table-" });
  const path = `${dir}/table`;
  let n = 0;
  // ~200 KB per write, so a non-atomic write would be seen half-done.
  const render = () => `BEGIN ${++n}\n${"route line\n".repeat(20_000)}END\n`;
  const stop = startTableWriter(path, render, 5);
  try {
    await waitUntil(() => n >= 3, "a few writes");
    let reads = 0;
    const seen = new Set<string>();
    while (reads < 200) {
      let text: string;
      try {
        text = await Deno.readTextFile(path);
      } catch {
        continue; // not written yet
      }
      reads++;
      assert(text.startsWith("BEGIN ") && text.endsWith("END\n"), `torn read (${text.length} B)`);
      seen.add(text.slice(0, text.indexOf("\n")));
    }
    assert(seen.size > 1, "the file changed while being read");
  } finally {
    stop();
    await new Promise((r) => setTimeout(r, 50));
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGHUP re-reads the config: a new announcement reaches the peer, a removed one is withdrawn", async () => {
  const mesh = await NodeMesh.create();
  try {
    const b = await mesh.start("b", 2);
    const a = await runIt(mesh, "a", 1, { peers: [b] });
    try {
      await mesh.waitRoute(b, "fd00:1::/48");
      const session = b.node.sessions.sessions()[0];
      const port = Number(
        (JSON.parse(await Deno.readTextFile(`${mesh.dir}/a/config.json`)).listen_addr as string)
          .split(":")[1],
      );
      await mesh.configJson("a", 1, { peers: [b], port, announce: ["fd00:1:7::/64"] });
      Deno.kill(Deno.pid, "SIGHUP");
      await mesh.waitRoute(b, "fd00:1:7::/64");
      await mesh.waitRoute(b, "fd00:1::/48", false);
      assert(b.node.sessions.sessions()[0] === session, "the session was not dropped");
      // A broken config is refused and the running one kept.
      await Deno.writeTextFile(`${mesh.dir}/a/config.json`, "{ not json");
      Deno.kill(Deno.pid, "SIGHUP");
      await new Promise((r) => setTimeout(r, 300));
      assertEquals(
        (await controlRequest(a.socket, "routes") as { prefix: string }[]).map((r) => r.prefix),
        ["fd00:1:7::/64", "fd00:2::/48"],
      );
    } finally {
      assertEquals(await a.stop(), 0);
    }
  } finally {
    await mesh.close();
  }
});
