/**
 * scripts/pki/make_ca.sh and make_node.sh: openssl-made certificates that vmesh accepts
 * (`vmesh run --check`, the PKI loader) and that two nodes form a session with.
 */
import { assert, assertEquals, assertStringIncludes } from "./_harness/assert.ts";
import { hasOpenssl } from "./_harness/openssl.ts";
import { run } from "./_harness/command.ts";
import { freePort, waitUntil } from "./_harness/node_harness.ts";
import { REPO_ROOT, vmeshArgv } from "./_harness/vmesh_cli.ts";
import { prepareNode } from "../src/config/mod.ts";
import { Node } from "../src/node/node.ts";
import { MemoryVif } from "../src/vif/memory.ts";
import { udpPacket } from "./_harness/node_harness.ts";

const SCRIPTS = `${REPO_ROOT}/scripts/pki`;
const haveOpenssl = await hasOpenssl();
if (!haveOpenssl) console.log("node_pki_scripts_test: openssl not installed, skipping");

function script(name: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  return run(["sh", `${SCRIPTS}/${name}`, ...args], {
    cwd,
    env: { ...env, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
  });
}

async function writeConfig(dir: string, short: string, index: number, peers: [string, number][]) {
  const port = freePort();
  const json = {
    listen_addr: `127.0.0.1:${port}`,
    ca: "ca.crt",
    cert: `${short}.crt`,
    private_key: `${short}.key`,
    server_name: `${short}.vnet.test`,
    local_announcements: [{ prefix: `fd00:${index}::/48`, vif: "mem" }],
    peers: peers.map(([name, p]) => ({ addr: `127.0.0.1:${p}`, name })),
    vifs: { mem: { type: "dummy" } },
    state_dir: `state-${short}`,
    control_socket: `${short}.sock`,
  };
  const path = `${dir}/${short}.json`;
  await Deno.writeTextFile(path, JSON.stringify(json));
  return { path, port };
}

Deno.test({
  name:
    "make_ca.sh and make_node.sh make certificates vmesh accepts and two nodes form a session with",
  ignore: !haveOpenssl,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "vmt-pki-" });
    const nodes: Node[] = [];
    try {
      const ca = await script("make_ca.sh", ["vnet.test", "ca"], dir);
      assertEquals(ca.code, 0, ca.stderr);
      assertStringIncludes(ca.stdout, 'wrote ca.crt and ca.key (CA "vnet.test", ed25519');
      const a = await script("make_node.sh", ["ca", "a.vnet.test", "a"], dir);
      assertEquals(a.code, 0, a.stderr);
      const b = await script("make_node.sh", ["ca", "b.vnet.test", "b"], dir, {
        VMESH_ALGORITHM: "ecdsa-p256",
        VMESH_DAYS: "30",
      });
      assertEquals(b.code, 0, b.stderr);
      assertStringIncludes(b.stdout, "ecdsa-p256, 30 days");
      for (const f of ["ca.key", "a.key", "b.key"]) {
        assertEquals((await Deno.stat(`${dir}/${f}`)).mode! & 0o777, 0o600, f);
      }
      const text = await run(["openssl", "x509", "-in", `${dir}/a.crt`, "-noout", "-text"]);
      assertStringIncludes(text.stdout, "DNS:a.vnet.test");
      assertStringIncludes(text.stdout, "CA:FALSE");

      // Refusals: overwrite, bad name, missing CA, bad algorithm. Nothing is left behind.
      const before = await Deno.readFile(`${dir}/a.crt`);
      const again = await script("make_node.sh", ["ca", "a.vnet.test", "a"], dir);
      assertEquals(again.code, 1);
      assertStringIncludes(again.stderr, "a.crt exists: refusing to overwrite it");
      assertEquals(await Deno.readFile(`${dir}/a.crt`), before);
      const caAgain = await script("make_ca.sh", ["vnet.test", "ca"], dir);
      assertEquals(caAgain.code, 1);
      assertStringIncludes(caAgain.stderr, "ca.crt exists");
      const badName = await script("make_node.sh", ["ca", "nodomain", "x"], dir);
      assertEquals(badName.code, 1);
      assertStringIncludes(badName.stderr, '"nodomain" is not a node name');
      const noCa = await script("make_node.sh", ["nope", "c.vnet.test", "c"], dir);
      assertEquals(noCa.code, 1);
      assertStringIncludes(noCa.stderr, "cannot read the CA certificate nope.crt");
      const badAlg = await script("make_node.sh", ["ca", "c.vnet.test", "c"], dir, {
        VMESH_ALGORITHM: "rsa",
      });
      assertEquals(badAlg.code, 1);
      assertStringIncludes(badAlg.stderr, "algorithm must be ed25519 or ecdsa-p256");
      const usage = await script("make_ca.sh", ["onlyone"], dir);
      assertEquals(usage.code, 1);
      assertStringIncludes(usage.stderr, "usage: make_ca.sh <cn> <out-prefix>");
      for (const f of ["x.crt", "x.key", "c.crt", "c.key"]) {
        await Deno.stat(`${dir}/${f}`).then(() => assert(false, `${f} left`), () => undefined);
      }

      // vmesh run --check accepts them.
      const bCfg = await writeConfig(dir, "b", 2, []);
      const aCfg = await writeConfig(dir, "a", 1, [["b.vnet.test", bCfg.port]]);
      const check = await run(vmeshArgv(["run", "--config", aCfg.path, "--check"]), {
        cwd: REPO_ROOT,
        env: { NO_COLOR: "1" },
      });
      assertEquals(check.code, 0, check.stderr);
      assertStringIncludes(check.stdout, "OK: node a.vnet.test");

      // Two nodes with these certificates form a session and carry a packet.
      const vifs: MemoryVif[] = [];
      for (const cfg of [bCfg, aCfg]) {
        const prepared = await prepareNode(cfg.path);
        const vif = new MemoryVif();
        const node = new Node(prepared, new Map([["mem", vif]]));
        nodes.push(node);
        vifs.push(vif);
        await node.loadState();
        await node.start();
        node.startForwarding();
      }
      const [nb, na] = nodes;
      await waitUntil(
        () => na.router.table().some((r) => r.prefix === "fd00:2::/48"),
        "a to learn b's prefix over the session",
      );
      assertEquals(na.sessions.sessions()[0].peer.name, "b.vnet.test");
      assertEquals(nb.sessions.sessions()[0].peer.name, "a.vnet.test");
      vifs[1].inject(udpPacket({ src: "fd00:1::1", dst: "fd00:2::1" }));
      assertEquals((await vifs[0].nextWritten())[7], 62);
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
      await new Promise((r) => setTimeout(r, 100));
      await Deno.remove(dir, { recursive: true });
    }
  },
});
