/**
 * Distributed config between in-process nodes A–B–C: spread, older and invalid DCs, the
 * whitelist taking effect, and the persisted DC.
 */
import { assert, assertEquals } from "./_harness/assert.ts";
import { assertBytes } from "./_harness/bytes.ts";
import { type MeshNode, NodeMesh, waitUntil } from "./_harness/node_harness.ts";
import { FrameType } from "../src/session/mod.ts";
import { makeTestPki } from "./_harness/pki.ts";
import { signDc } from "../src/dc/mod.ts";
import { dcView, statusView } from "../src/node/views.ts";
import { formatStatus } from "../src/cli/control_commands.ts";
import { dcText } from "../src/cli/dc.ts";
import { encodeDcOffer, NO_DC_OFFER } from "../src/dc/mod.ts";

const MINUTE = 60_000;

function signedAt(m: MeshNode): number | undefined {
  return m.node.dc.current?.notBefore.getTime();
}

Deno.test("a DC applied at A reaches B and C, and is persisted by each", async () => {
  const mesh = await NodeMesh.create();
  try {
    const [a, b, c] = await mesh.chain();
    const t = new Date(Date.now() - MINUTE);
    const raw = await mesh.signDc({ prefix_whitelist: {} }, t);
    assert(await a.node.dc.applyInitial(raw));
    const want = Math.floor(t.getTime() / 1000) * 1000;
    await waitUntil(() => signedAt(b) === want && signedAt(c) === want, "B and C to run the DC");
    assertEquals(b.node.dc.stats.accepted, 1);
    assertEquals(c.node.dc.stats.accepted, 1);
    for (const m of [a, b, c]) {
      // The DC is applied first, then written: wait for the file.
      await waitUntil(
        () => Deno.stat(`${m.dir}/state/dc.bin`).then(() => true, () => false),
        `${m.short} to persist the DC`,
      );
      assertEquals(await Deno.readFile(`${m.dir}/state/dc.bin`), raw, `${m.short} persisted it`);
      assertEquals((await Deno.stat(`${m.dir}/state/dc.bin`)).mode! & 0o777, 0o600);
    }
    // Nobody re-sends it back and forth: the offers show everyone is up to date.
    await new Promise((r) => setTimeout(r, 200));
    assertEquals(a.node.dc.stats.accepted, 1);
    assertEquals(a.node.dc.stats.notNewer + b.node.dc.stats.notNewer, 0);
  } finally {
    await mesh.close();
  }
});

Deno.test("a node that joins later gets the DC in the offer exchange when its session comes up", async () => {
  const mesh = await NodeMesh.create();
  try {
    const b = await mesh.start("b", 2);
    const raw = await mesh.signDc({ prefix_whitelist: {} }, new Date(Date.now() - MINUTE));
    await b.node.dc.applyInitial(raw);
    const a = await mesh.start("a", 1, { peers: [b] });
    await waitUntil(() => a.node.dc.current !== undefined, "A to get the DC from B");
    assertEquals(a.node.dc.current!.raw, raw);
  } finally {
    await mesh.close();
  }
});

Deno.test("an older DC arriving later is ignored; an invalid one is counted and not used", async () => {
  const mesh = await NodeMesh.create();
  try {
    const [a, b, c] = await mesh.chain();
    const newer = await mesh.signDc({ prefix_whitelist: {} }, new Date(Date.now() - MINUTE));
    const older = await mesh.signDc(
      { prefix_whitelist: { "a.vnet.test": [] } },
      new Date(Date.now() - 5 * MINUTE),
    );
    await a.node.dc.applyInitial(newer);
    await waitUntil(() => c.node.dc.current !== undefined, "C to run the DC");
    const current = b.node.dc.current!;

    const toB = a.node.sessions.sessions().find((s) => s.peer.name === b.name)!;
    toB.sendControl(FrameType.Dc, older);
    await waitUntil(() => b.node.dc.stats.notNewer === 1, "B to count the older DC");
    assertEquals(b.node.dc.current, current);
    await mesh.waitRoute(b, "fd00:1::/48"); // the older DC's whitelist would drop A's routes

    // Signed by another CA: does not verify.
    const foreign = await makeTestPki({ domain: "other.test" });
    const forged = (await signDc({
      caCertPem: foreign.ca.certPem,
      caKeyPem: foreign.ca.keyPem,
      content: new TextEncoder().encode(
        JSON.stringify({ prefix_whitelist: { "a.vnet.test": [] } }),
      ),
    })).bytes;
    toB.sendControl(FrameType.Dc, forged);
    // Garbage bytes: not a DC at all.
    toB.sendControl(FrameType.Dc, crypto.getRandomValues(new Uint8Array(300)));
    await waitUntil(() => b.node.dc.stats.invalid === 2, "B to count two invalid DCs");
    assertEquals(b.node.dc.current, current);
    assertEquals(await Deno.readFile(`${b.dir}/state/dc.bin`), newer);
    assertEquals(b.node.sessions.sessions().length, 2, "the sessions stay up");
    await mesh.waitRoute(b, "fd00:1::/48");
    assertEquals(c.node.dc.current!.raw, newer, "nothing was forwarded to C");
  } finally {
    await mesh.close();
  }
});

Deno.test("the DC whitelist takes effect: a route it does not allow disappears at once", async () => {
  const mesh = await NodeMesh.create();
  try {
    const [a, b, c] = await mesh.chain({
      announceA: ["fd00:1::/48", "fd00:99::/48", "fd00:1:5::/64"],
    });
    await mesh.waitRoute(c, "fd00:99::/48");
    await mesh.waitRoute(c, "fd00:1:5::/64");
    // B carries A's routes to C: under a DC an unlisted neighbour may not announce a listed
    // node's space, so B's entry lists what it may pass on.
    const raw = await mesh.signDc(
      {
        prefix_whitelist: {
          "a.vnet.test": ["fd00:1::/48,max_prefix_len=56"],
          "b.vnet.test": ["fd00:1::/48,max_prefix_len=56", "fd00:2::/48"],
        },
      },
      new Date(Date.now() - MINUTE),
    );
    assert(await a.node.dc.applyInitial(raw));
    await waitUntil(() => b.node.dc.current !== undefined, "B to run the DC");
    const prefixes = (m: MeshNode) => m.node.router.table().map((r) => r.prefix);
    // B filters at once on accepting the DC (no wait for a re-announcement).
    assert(!prefixes(b).includes("fd00:99::/48"), `B still has fd00:99::/48: ${prefixes(b)}`);
    assert(!prefixes(b).includes("fd00:1:5::/64"), "a /64 is longer than max_prefix_len 56");
    assert(prefixes(b).includes("fd00:1::/48"));
    // …and C loses them because B withdraws them.
    await mesh.waitRoute(c, "fd00:99::/48", false);
    await mesh.waitRoute(c, "fd00:1:5::/64", false);
    assert(prefixes(c).includes("fd00:1::/48"));
    // A's own announcements are not filtered.
    assert(prefixes(a).includes("fd00:99::/48"));
    // A newer DC that allows them brings them back from the routes B kept.
    const wider = await mesh.signDc(
      { prefix_whitelist: { "a.vnet.test": ["fd00::/16"], "b.vnet.test": ["fd00::/16"] } },
      new Date(Date.now() - MINUTE / 2),
    );
    assert(await a.node.dc.applyInitial(wider));
    await mesh.waitRoute(c, "fd00:99::/48");
    await mesh.waitRoute(c, "fd00:1:5::/64");
  } finally {
    await mesh.close();
  }
});

Deno.test("a peer repeating stale DC offers does not make a node stream its DC", async () => {
  const mesh = await NodeMesh.create();
  try {
    const b = await mesh.start("b", 2);
    await b.node.dc.applyInitial(
      await mesh.signDc({ prefix_whitelist: {} }, new Date(Date.now() - MINUTE)),
    );
    const a = await mesh.start("a", 1, { peers: [b] });
    await waitUntil(() => a.node.dc.current !== undefined, "A to get the DC");
    const toB = a.node.sessions.sessions().find((s) => s.peer.name === b.name)!;
    const stale = encodeDcOffer(NO_DC_OFFER);
    for (let i = 0; i < 50; i++) toB.sendControl(FrameType.DcOffer, stale);
    await new Promise((r) => setTimeout(r, 300));
    assertEquals(a.node.dc.stats.accepted, 1);
    assertEquals(a.node.dc.stats.notNewer, 0, "B sent its DC once, not once per offer");
  } finally {
    await mesh.close();
  }
});

Deno.test("status and dc current show the DC certificate's end date", async () => {
  const mesh = await NodeMesh.create();
  try {
    const b = await mesh.start("b", 2);
    assertEquals(statusView(b.node, "test").dc, null);
    const t = new Date(Date.now() - MINUTE);
    await b.node.dc.applyInitial(await mesh.signDc({ prefix_whitelist: {} }, t));
    const end = b.node.dc.current!.notAfter.toISOString();
    const st = statusView(b.node, "test").dc as Record<string, unknown>;
    assertEquals(st.expiresAt, end);
    assertEquals(st.expired, false);
    assert(formatStatus(statusView(b.node, "test")).includes(`expires ${end}`));
    const cur = dcView(b.node.dc.current, b.node.dc.expiry())!;
    assertEquals(cur.cert_expires, end);
    assertEquals(cur.expired, false);
    assert(dcText(cur).some((l) => l.includes(end)));
  } finally {
    await mesh.close();
  }
});

Deno.test("an expired DC in state_dir is enforced after a restart and passed on to a node that joins", async () => {
  const mesh = await NodeMesh.create();
  try {
    const now = Date.now();
    const expired = (await signDc({
      caCertPem: mesh.pki.ca.certPem,
      caKeyPem: mesh.pki.ca.keyPem,
      content: new TextEncoder().encode(
        JSON.stringify({ prefix_whitelist: { "a.vnet.test": ["fd00:1::/48"] } }),
      ),
      now: new Date(now - 12 * 3_600_000),
      notAfter: new Date(now - 3_600_000),
    })).bytes;
    // B's state as an earlier run left it.
    await Deno.mkdir(`${mesh.dir}/b/state`, { recursive: true, mode: 0o700 });
    await Deno.writeFile(`${mesh.dir}/b/state/dc.bin`, expired, { mode: 0o600 });
    const b = await mesh.start("b", 2);
    assertBytes(b.node.dc.current?.raw, expired, "B runs the expired DC");
    const st = statusView(b.node, "test").dc as Record<string, unknown>;
    assertEquals(st.expired, true);
    assert(formatStatus(statusView(b.node, "test")).includes("EXPIRED, still enforced"));
    const a = await mesh.start("a", 1, { peers: [b], announce: ["fd00:1::/48", "fd00:99::/48"] });
    await waitUntil(() => a.node.dc.current !== undefined, "A to get the expired DC from B");
    assertBytes(a.node.dc.current!.raw, expired);
    await mesh.waitRoute(b, "fd00:1::/48");
    await new Promise((r) => setTimeout(r, 200));
    assert(
      !b.node.router.table().some((r) => r.prefix === "fd00:99::/48"),
      "the expired DC's whitelist is in force at B",
    );
  } finally {
    await mesh.close();
  }
});
