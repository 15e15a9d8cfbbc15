/**
 * DCs larger than one session frame between in-process nodes, DCs padded by a relaying peer,
 * and hostile DC chunk sequences.
 */
import { assert, assertEquals } from "./_harness/assert.ts";
import { assertBytes } from "./_harness/bytes.ts";
import { type MeshNode, NodeMesh, waitUntil } from "./_harness/node_harness.ts";
import { pb } from "./_harness/openssl.ts";
import { FrameType, MAX_FRAME_PAYLOAD } from "../src/session/mod.ts";
import { DC_CHUNK_DATA_LEN, encodeDcChunks, MAX_DC_BYTES } from "../src/dc/mod.ts";

const MINUTE = 60_000;

/**
 * A whitelist of `n` entries that still allows A its own /48, and B and C (which relay the
 * others' routes: the whitelist limits what a neighbour announces) the harness's fd00::/16.
 */
function whitelist(n: number): unknown {
  const fill: string[] = [];
  for (let i = 0; fill.length < n - 3; i++) {
    fill.push(`2001:db8:${i.toString(16)}::/48,max_prefix_len=64`);
  }
  return {
    prefix_whitelist: {
      "a.vnet.test": ["fd00:1::/48", ...fill],
      "b.vnet.test": ["fd00::/16"],
      "c.vnet.test": ["fd00::/16"],
    },
  };
}

function sessionTo(from: MeshNode, to: MeshNode) {
  return from.node.sessions.sessions().find((s) => s.peer.name === to.name);
}

Deno.test("a 3 000-entry DC applied at A crosses B to C in chunks, is enforced and persisted by each", async () => {
  const mesh = await NodeMesh.create();
  try {
    const [a, b, c] = await mesh.chain();
    const raw = await mesh.signDc(whitelist(3000), new Date(Date.now() - MINUTE));
    assert(raw.length > MAX_FRAME_PAYLOAD, `${raw.length} bytes: more than one frame`);
    assert(await a.node.dc.applyInitial(raw));
    await waitUntil(
      () => b.node.dc.current?.raw.length === raw.length && c.node.dc.current !== undefined,
      "B and C to run the 3 000-entry DC",
    );
    assertBytes(c.node.dc.current!.raw, raw);
    assertEquals(c.node.dc.current!.content.prefixWhitelist.get("a.vnet.test")!.length, 2998);
    assertEquals(b.node.dcGossip.stats.chunkedReceived, 1);
    assertEquals(c.node.dcGossip.stats.chunkedReceived, 1);
    // A→B and B→C; a session lost and re-opened on a overloaded host may carry it once more.
    const sent = a.node.dcGossip.stats.chunkedSent + b.node.dcGossip.stats.chunkedSent;
    assert(sent >= 2 && sent <= 4, `${sent} chunked transfers sent`);
    for (const m of [a, b, c]) {
      await waitUntil(
        () =>
          Deno.readFile(`${m.dir}/state/dc.bin`).then((f) => f.length === raw.length, () => false),
        `${m.short} to persist the DC`,
      );
      assertBytes(await Deno.readFile(`${m.dir}/state/dc.bin`), raw);
    }
    // The whitelist is in force: the routes it allows are still there.
    await mesh.waitRoute(c, "fd00:1::/48");
    assertEquals(b.node.sessions.sessions().length, 2, "no session was closed");
  } finally {
    await mesh.close();
  }
});

Deno.test("a DC padded by a relaying peer is accepted, persisted and passed on in canonical form", async () => {
  const mesh = await NodeMesh.create();
  try {
    const [a, b, c] = await mesh.chain();
    const raw = await mesh.signDc({ prefix_whitelist: {} }, new Date(Date.now() - MINUTE));
    // A (the relaying peer) adds 30 kB of unknown field and an unknown varint.
    const padded = new Uint8Array([
      ...pb([[7, 0, 42]]),
      ...raw,
      ...pb([[15, 2, new Uint8Array(30_000)]]),
    ]);
    sessionTo(a, b)!.sendControl(FrameType.Dc, padded);
    await waitUntil(() => c.node.dc.current !== undefined, "C to get the DC through B");
    assertBytes(b.node.dc.current!.raw, raw, "B keeps it in canonical form");
    assertBytes(c.node.dc.current!.raw, raw, "B passed on the canonical form");
    await waitUntil(
      () =>
        Deno.readFile(`${b.dir}/state/dc.bin`).then((f) => f.length === raw.length, () => false),
      "B to persist the DC",
    );
    assertBytes(await Deno.readFile(`${b.dir}/state/dc.bin`), raw, "and persisted it so");
  } finally {
    await mesh.close();
  }
});

Deno.test("hostile DC chunk sequences close only the session they came from", async () => {
  const mesh = await NodeMesh.create();
  try {
    const [_a, b, c] = await mesh.chain();
    const big = await mesh.signDc(whitelist(6000), new Date(Date.now() - MINUTE));
    const chunks = encodeDcChunks(big);
    assert(chunks.length >= 3, `${chunks.length} chunks`);
    const patch = (chunk: Uint8Array, f: (v: DataView) => void) => {
      const x = chunk.slice();
      f(new DataView(x.buffer));
      return x;
    };
    const over = MAX_DC_BYTES + 1;
    const tampered = chunks.map((x) => x.slice());
    tampered[1][100] ^= 1;
    const attacks: [string, Uint8Array[]][] = [
      ["a total over 1 MiB", [
        patch(chunks[0], (v) => {
          v.setUint32(0, over);
          v.setUint16(6, Math.ceil(over / DC_CHUNK_DATA_LEN));
        }),
      ]],
      ["a wrong hash", tampered],
      ["chunks out of order", [chunks[0], chunks[2]]],
      ["a chunk repeated", [chunks[0], chunks[1], chunks[1]]],
      ["a transfer starting with chunk 1", [chunks[1]]],
      ["a second transfer inside the first", [chunks[0], chunks[0]]],
    ];
    for (const [i, [what, frames]] of attacks.entries()) {
      const m = await mesh.start(`m${i}`, 10 + i, { peers: [b] });
      await waitUntil(() => sessionTo(m, b) !== undefined, `m${i} to connect`);
      const s = sessionTo(m, b)!;
      const up = () => sessionTo(b, m) !== undefined;
      await waitUntil(up, `B to see m${i}`);
      for (const f of frames) s.sendControl(FrameType.DcChunk, f);
      await waitUntil(() => !up(), `B to close m${i}'s session after ${what}`);
      assert(sessionTo(b, c) !== undefined, `${what}: B's session to C stays up`);
      assert(b.node.dc.current === undefined, `${what}: nothing applied`);
      await mesh.stopNode(m);
    }
    assertEquals(b.node.dcGossip.stats.transferErrors, attacks.length);
    assertEquals(b.node.dc.stats.invalid, 0, "nothing reached signature verification");
  } finally {
    await mesh.close();
  }
});
