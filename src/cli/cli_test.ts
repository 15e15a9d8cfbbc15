/**
 * The CLI as a user runs it: `deno run -A main.ts ...` in a subprocess, checking exit codes
 * and output.
 */
import { assert, assertEquals, assertStringIncludes } from "../../tests/_harness/assert.ts";
import { hasOpenssl, OpensslDir } from "../../tests/_harness/openssl.ts";
import { vmeshIn as vmesh } from "../../tests/_harness/vmesh_cli.ts";
import { sha256Hex } from "../dc/mod.ts";

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "vmesh-cli-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("vmesh: usage, help, version and unknown commands", async () => {
  await withDir(async (d) => {
    const none = await vmesh(d);
    assertEquals(none.code, 2);
    assertStringIncludes(none.stderr, "Commands:");
    const h = await vmesh(d, "--help");
    assertEquals(h.code, 0);
    for (
      const c of [
        "run",
        "status",
        "routes",
        "nodes",
        "dc current",
        "dc apply",
        "cert ca",
        "cert node",
        "sign",
        "dc show",
        "version",
      ]
    ) {
      assertStringIncludes(h.stdout, c);
      const ch = await vmesh(d, ...c.split(" "), "--help");
      assertEquals(ch.code, 0, `${c} --help`);
      assertStringIncludes(ch.stdout, `Usage: vmesh ${c}`);
    }
    const v = await vmesh(d, "version");
    assertEquals(v.code, 0);
    assert(/^vmesh \d+\.\d+\.\d+/.test(v.stdout), v.stdout);
    const u = await vmesh(d, "stauts");
    assertEquals(u.code, 2);
    assertStringIncludes(u.stderr, 'unknown command "stauts"');
    const down = await vmesh(d, "status", "--control", `${d}/none.sock`);
    assertEquals(down.code, 1);
    assertStringIncludes(down.stderr, "is the node running?");
    const bad = await vmesh(d, "sign", "--bogus");
    assertEquals(bad.code, 2);
    assertStringIncludes(bad.stderr, "--bogus");
    const missing = await vmesh(d, "cert", "ca", "--name", "x");
    assertEquals(missing.code, 2);
    assertStringIncludes(missing.stderr, "--out");
  });
});

Deno.test("vmesh cert, sign, dc show and run --check work end to end", async () => {
  await withDir(async (d) => {
    let r = await vmesh(d, "cert", "ca", "--name", "vnet.example.com", "--out", "ca");
    assertEquals(r.code, 0, r.stderr);
    assertEquals((await Deno.stat(`${d}/ca.key`)).mode! & 0o777, 0o600);
    r = await vmesh(d, "cert", "ca", "--name", "vnet.example.com", "--out", "ca");
    assertEquals(r.code, 1);
    assertStringIncludes(r.stderr, "--force");
    r = await vmesh(
      d,
      "cert",
      "ca",
      "--name",
      "vnet.example.com",
      "--out",
      "ca",
      "--force",
      "--algorithm",
      "ecdsa-p256",
    );
    assertEquals(r.code, 0, r.stderr);
    r = await vmesh(
      d,
      "cert",
      "node",
      "--ca",
      "ca",
      "--name",
      "a.vnet.example.com",
      "--out",
      "a",
      "--days",
      "30",
    );
    assertEquals(r.code, 0, r.stderr);
    assertEquals((await Deno.stat(`${d}/a.key`)).mode! & 0o777, 0o600);
    r = await vmesh(d, "cert", "node", "--ca", "ca", "--name", "nodomain", "--out", "x");
    assertEquals(r.code, 2);
    r = await vmesh(
      d,
      "cert",
      "node",
      "--ca",
      "missing",
      "--name",
      "b.vnet.example.com",
      "--out",
      "b",
    );
    assertEquals(r.code, 1);

    await Deno.writeTextFile(
      `${d}/dc.json`,
      '{"prefix_whitelist":{"a.vnet.example.com":["2001:db8:1::/48,max_prefix_len=64"]}}',
    );
    // Go-style flags, as vnconfigsign takes them.
    r = await vmesh(d, "sign", "-ca-cert", "ca.crt", "-ca-key=ca.key", "-config", "dc.json");
    assertEquals(r.code, 0, r.stderr);
    const written = r.stdout.trim();
    assert(/^distributed-config\/dconf-\d{4}(-\d\d){5}\.bin$/.test(written), written);
    r = await vmesh(
      d,
      "sign",
      "--ca-cert",
      "ca.crt",
      "--ca-key",
      "ca.key",
      "--config",
      "dc.json",
      "--out",
      "x.bin",
    );
    assertEquals([r.code, r.stdout.trim()], [0, "x.bin"]);

    r = await vmesh(d, "dc", "show", written, "--ca", "ca.crt");
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, "2001:db8:1::/48  max_prefix_len=64");
    r = await vmesh(d, "dc", "show", "x.bin", "--ca", "ca.crt", "--json");
    assertEquals(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assertEquals(j.valid, true);
    assertEquals(j.prefix_whitelist["a.vnet.example.com"], [
      { prefix: "2001:db8:1::/48", max_prefix_len: 64 },
    ]);

    // Tampered content: exit 1 with the reason.
    const bytes = await Deno.readFile(`${d}/x.bin`);
    bytes[bytes.length - 3] ^= 1;
    await Deno.writeFile(`${d}/bad.bin`, bytes);
    r = await vmesh(d, "dc", "show", "bad.bin", "--ca", "ca.crt");
    assertEquals(r.code, 1);
    assertStringIncludes(r.stderr, "hash_mismatch");

    // Invalid DC JSON is refused before signing.
    await Deno.writeTextFile(
      `${d}/bad.json`,
      '{"prefix_whitelist":{"a":["fd00::/8,max_prefix_len=200"]}}',
    );
    r = await vmesh(d, "sign", "--ca-cert", "ca.crt", "--ca-key", "ca.key", "--config", "bad.json");
    assertEquals(r.code, 1);
    assertStringIncludes(r.stderr, "max_prefix_len");

    await Deno.writeTextFile(
      `${d}/node.json`,
      JSON.stringify({
        listen_addr: "[::1]:5120",
        ca: "ca.crt",
        cert: "a.crt",
        private_key: "a.key",
        server_name: "a.vnet.example.com",
        vifs: { t: { type: "dummy" } },
        local_announcements: [{ prefix: "2001:db8:1::/48", vif: "t" }],
      }),
    );
    r = await vmesh(d, "run", "-config", "node.json", "-initial-dc", written, "--check");
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, "OK: node a.vnet.example.com");

    await Deno.writeTextFile(
      `${d}/broken.json`,
      JSON.stringify({
        listen_addr: "[::1]:5120",
        ca: "ca.crt",
        cert: "a.crt",
        private_key: "a.key",
        server_name: "b.vnet.example.com",
        peers: [{ addr: "1.2.3.4", name: "b.vnet.example.com" }],
      }),
    );
    r = await vmesh(d, "run", "--config=broken.json", "--check");
    assertEquals(r.code, 1);
    assertStringIncludes(r.stderr, 'peers[0].addr: cannot parse "1.2.3.4" as host:port');
    assertStringIncludes(r.stderr, "peers[0].name:");
    r = await vmesh(d, "run", "--check");
    assertEquals(r.code, 2);
  });
});

Deno.test({
  name: "vmesh dc show accepts a DC made with openssl as the Go tool makes it",
  ignore: !(await hasOpenssl()),
  async fn() {
    const o = await OpensslDir.create();
    try {
      await o.caV3("ca", "ed25519", "vnet.example.com");
      const content = new TextEncoder().encode(
        '{"prefix_whitelist":{"b.vnet.example.com":["2001:db8:2::/48"]}}\n',
      );
      const hash = await sha256Hex(content);
      const pb = await o.goToolDc(content);
      await o.write("dconf.bin", pb);
      const r = await vmesh(o.dir, "dc", "show", "dconf.bin", "--ca", "ca.crt", "--json");
      assertEquals(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assertEquals(j.content_sha256, hash);
      assertEquals(j.prefix_whitelist["b.vnet.example.com"][0].prefix, "2001:db8:2::/48");
    } finally {
      await o.cleanup();
    }
  },
});
