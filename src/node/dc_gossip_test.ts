import { assert, assertEquals } from "../../tests/_harness/assert.ts";
import { assertBytes } from "../../tests/_harness/bytes.ts";
import { makeTestPki } from "../../tests/_harness/pki.ts";
import {
  DC_TRANSFER_TIMEOUT_MS,
  encodeDcChunks,
  MAX_DC_BYTES,
  signDc,
  type VerifiedDc,
  verifyDc,
} from "../dc/mod.ts";
import { ManualClock } from "../clock/mod.ts";
import { FrameType } from "../session/mod.ts";
import { DC_REASSEMBLY_BUDGET, DcGossip, type DcPeer } from "./dc_gossip.ts";
import { DcSync } from "./dc_sync.ts";

const pki = await makeTestPki();
const enc = new TextEncoder();

async function sign(content: unknown, now: Date): Promise<Uint8Array> {
  return (await signDc({
    caCertPem: pki.ca.certPem,
    caKeyPem: pki.ca.keyPem,
    content: enc.encode(JSON.stringify(content)),
    now,
  })).bytes;
}

/** A node's DC half: state, protocol, and the sessions it has. */
interface TestNode {
  name: string;
  sync: DcSync<VerifiedDc>;
  gossip: DcGossip<VerifiedDc>;
  dir: string;
}

async function testNode(name: string, clock = new ManualClock()): Promise<TestNode> {
  const dir = await Deno.makeTempDir();
  const node = { name, dir } as TestNode;
  node.sync = new DcSync<VerifiedDc>(
    (raw) => verifyDc(raw, pki.trust, new Date(), { allowExpired: true }),
    `${dir}/dc.bin`,
    (dc, from) => node.gossip.push(dc, from),
  );
  node.gossip = new DcGossip(node.sync, () => clock.now());
  return node;
}

/** One side of an in-memory session: frames are delivered to the other node in a later turn. */
class FakePeer implements DcPeer {
  closed: string | undefined;
  frames = 0;
  constructor(
    readonly peer: { name: string },
    readonly to: TestNode,
    readonly back: () => DcPeer,
  ) {}
  sendControl(type: number, payload: Uint8Array): boolean {
    if (this.closed) return false;
    this.frames++;
    const copy = payload.slice();
    setTimeout(() => deliver(this.to, this.back(), type, copy), 0);
    return true;
  }
  close(reason: string): void {
    this.closed = reason;
  }
}

function deliver(node: TestNode, from: DcPeer, type: number, payload: Uint8Array): void {
  if (type === FrameType.DcOffer) node.gossip.onOffer(from, payload);
  else if (type === FrameType.Dc) node.gossip.onDc(from, payload);
  else if (type === FrameType.DcChunk) node.gossip.onChunk(from, payload);
}

/** Connects two nodes: `a` sees a peer named b, and b one named a. */
function connect(a: TestNode, b: TestNode): [FakePeer, FakePeer] {
  const ab: FakePeer = new FakePeer({ name: b.name }, b, () => ba);
  const ba: FakePeer = new FakePeer({ name: a.name }, a, () => ab);
  a.gossip.peerUp(ab);
  b.gossip.peerUp(ba);
  return [ab, ba];
}

async function settle(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert(cond(), `timed out waiting for ${what}`);
}

Deno.test("two nodes holding two DCs signed in the same second both end with the same one, whatever the order", async () => {
  const t = new Date(Date.now() - 60_000);
  const x = await sign({ prefix_whitelist: { "a.vnet.test": ["fd00:1::/48"] } }, t);
  const y = await sign({ prefix_whitelist: { "a.vnet.test": ["fd00:2::/48"] } }, t);
  const vx = await verifyDc(x, pki.trust);
  const vy = await verifyDc(y, pki.trust);
  assertEquals(vx.notBefore.getTime(), vy.notBefore.getTime(), "signed in the same second");
  const winner = vx.contentHash > vy.contentHash ? vx : vy;
  for (const [first, second] of [[x, y], [y, x]]) {
    const a = await testNode("a.vnet.test");
    const b = await testNode("b.vnet.test");
    assert(await a.sync.applyInitial(first));
    assert(await b.sync.applyInitial(second));
    connect(a, b);
    await settle(
      () => a.sync.current?.contentHash === b.sync.current?.contentHash,
      "A and B to agree",
    );
    assertEquals(a.sync.current!.contentHash, winner.contentHash, "the greater content hash");
    // A third node joining either one converges too, and nothing goes back and forth.
    const c = await testNode("c.vnet.test");
    assert(await c.sync.applyInitial(first));
    connect(c, a);
    await settle(() => c.sync.current?.contentHash === winner.contentHash, "C to agree");
    await new Promise((r) => setTimeout(r, 50));
    // Each applied its own; A or B took the winner; C took it unless it was its own.
    const own = (first === x ? vx : vy).contentHash === winner.contentHash;
    assertEquals(
      a.sync.stats.accepted + b.sync.stats.accepted + c.sync.stats.accepted,
      own ? 4 : 5,
    );
    for (const n of [a, b, c]) await Deno.remove(n.dir, { recursive: true });
  }
});

/** `n` whitelist entries (3 000 make about 110 kB: more than one 64 KiB frame). */
function bigWhitelist(n: number): unknown {
  const list: string[] = [];
  for (let i = 0; i < n; i++) list.push(`2001:db8:${i.toString(16)}::/48,max_prefix_len=64`);
  return { prefix_whitelist: { "a.vnet.test": list } };
}

Deno.test("a DC larger than one frame travels in chunks and is verified once reassembled", async () => {
  const raw = await sign(bigWhitelist(3000), new Date(Date.now() - 60_000));
  assert(raw.length > 65_585, `${raw.length} bytes: more than one frame`);
  const a = await testNode("a.vnet.test");
  const b = await testNode("b.vnet.test");
  assert(await a.sync.applyInitial(raw));
  const [ab] = connect(a, b);
  await settle(() => b.sync.current !== undefined, "B to get the DC");
  assertBytes(b.sync.current!.raw, raw);
  assertEquals(b.gossip.stats.chunkedReceived, 1);
  assertEquals(a.gossip.stats.chunkedSent, 1);
  assertEquals(ab.frames, 1 + Math.ceil(raw.length / 61_440), "one offer, then the chunks");
  for (const n of [a, b]) await Deno.remove(n.dir, { recursive: true });
});

Deno.test("a peer that never finishes a chunked transfer has its session closed, and only its own", async () => {
  const clock = new ManualClock();
  const raw = await sign(bigWhitelist(3000), new Date(Date.now() - 60_000));
  const chunks = encodeDcChunks(raw);
  assert(chunks.length >= 2);
  const b = await testNode("b.vnet.test", clock);
  const elsewhere = await testNode("z.vnet.test");
  const hostile: FakePeer = new FakePeer({ name: "m.vnet.test" }, elsewhere, () => hostile);
  const honest: FakePeer = new FakePeer({ name: "c.vnet.test" }, elsewhere, () => honest);
  b.gossip.peerUp(hostile);
  b.gossip.peerUp(honest);
  b.gossip.onChunk(hostile, chunks[0]); // …and nothing more
  clock.advance(DC_TRANSFER_TIMEOUT_MS);
  b.gossip.tick();
  assertEquals(hostile.closed, undefined, "not yet");
  clock.advance(1);
  b.gossip.tick();
  assert(hostile.closed?.includes("not finished"), `${hostile.closed}`);
  assertEquals(honest.closed, undefined);
  assertEquals(b.gossip.stats.transferErrors, 1);
  assert(b.sync.current === undefined);
  for (const n of [b, elsewhere]) await Deno.remove(n.dir, { recursive: true });
});

Deno.test("peers that each start a 1 MiB chunked transfer hold at most the budget together, and a declined one is followed, not kept", async () => {
  const clock = new ManualClock();
  const b = await testNode("b.vnet.test", clock);
  const elsewhere = await testNode("z.vnet.test");
  // Junk of exactly 1 MiB: chunk 0 makes the reassembler allocate the whole DC.
  const junk = encodeDcChunks(new Uint8Array(MAX_DC_BYTES).fill(7));
  const peers: FakePeer[] = [];
  for (let i = 0; i < 6; i++) {
    const p: FakePeer = new FakePeer({ name: `m${i}.vnet.test` }, elsewhere, () => p);
    b.gossip.peerUp(p);
    b.gossip.onChunk(p, junk[0]);
    peers.push(p);
  }
  assertEquals(b.gossip.holding(), DC_REASSEMBLY_BUDGET, "four transfers kept, not six");
  assertEquals(b.gossip.stats.transfersDeclined, 2);
  // A declined transfer is still checked chunk by chunk and ends without a DC or an error.
  for (const c of junk.slice(1)) b.gossip.onChunk(peers[5], c);
  assertEquals(peers.map((p) => p.closed), peers.map(() => undefined));
  assertEquals(b.gossip.stats.transferErrors, 0);
  assertEquals(b.gossip.stats.chunkedReceived, 0);
  let refused = "";
  try {
    b.gossip.onChunk(peers[4], junk[2]); // out of order, declined or not
  } catch (e) {
    refused = String(e);
  }
  assert(refused.includes("expected 1"), refused);
  // When a kept transfer's session ends, its bytes go back to the budget: a real DC then fits.
  b.gossip.peerDown(peers[0]);
  const raw = await sign(bigWhitelist(3000), new Date(Date.now() - 60_000));
  const honest: FakePeer = new FakePeer({ name: "c.vnet.test" }, elsewhere, () => honest);
  b.gossip.peerUp(honest);
  for (const c of encodeDcChunks(raw)) b.gossip.onChunk(honest, c);
  await settle(() => b.sync.current !== undefined, "B to take the honest DC");
  assertBytes(b.sync.current!.raw, raw);
  for (const n of [b, elsewhere]) await Deno.remove(n.dir, { recursive: true });
});
