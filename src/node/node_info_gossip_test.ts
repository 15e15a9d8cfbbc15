import { assert, assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import { makeTestPki, type TestCert, type TestNode } from "../../tests/_harness/pki.ts";
import { ManualClock } from "../clock/mod.ts";
import {
  decodeNodeInfo,
  decodeNodeInfoRequest,
  encodeNodeInfo,
  encodeNodeInfoRequest,
  MAX_NODE_INFO_IDS,
  NodeBook,
  NodeInfoWireError,
} from "../names/mod.ts";
import { parsePrefix } from "../net/mod.ts";
import type { PeerId } from "../pki/mod.ts";
import type { Route } from "../routing/mod.ts";
import { Feature, FrameType, SessionError } from "../session/mod.ts";
import {
  ANSWER_BURST,
  ANSWER_PER_SECOND,
  ASK_BURST,
  type InfoPeer,
  MAX_WANTS_PER_PEER,
  NodeInfoGossip,
  REFUSED_RETRY_MS,
  REQUEST_TIMEOUT_MS,
  UNKNOWN_RETRY_MS,
} from "./node_info_gossip.ts";
import { peerNodeInfo } from "./peer_input.ts";

const pki = await makeTestPki();
const [a, b, c, d] = await Promise.all(["a", "b", "c", "d"].map((n) => pki.issue(n)));

/** A session as the protocol sees it: records what it sends. */
class FakeSession implements InfoPeer {
  readonly sent: { type: number; payload: Uint8Array }[] = [];
  open = true;
  constructor(
    readonly peer: { id: PeerId; name: string },
    readonly peerFeatures: number = Feature.NodeInfo | Feature.UdpChannel,
  ) {}
  sendControl(type: number, payload: Uint8Array): boolean {
    if (!this.open) return false;
    this.sent.push({ type, payload: payload.slice() });
    return true;
  }
  /** Takes what was sent so far. */
  take(): { type: number; payload: Uint8Array }[] {
    return this.sent.splice(0);
  }
}

function gossipOf(me: TestNode, clock: ManualClock, book?: NodeBook): NodeInfoGossip {
  return new NodeInfoGossip(
    book ?? new NodeBook({ trust: pki.trust, identity: me.identity, now: () => clock.now() }),
    clock,
  );
}

/** A route announced by `from` through `hops` (IDs), as the router hands it on. */
function route(n: number, ...hops: PeerId[]): Route {
  return {
    prefix: parsePrefix(`fd00:${n.toString(16)}::/48`),
    path: hops.map((id) => ({ id, latencyMs: 1 })),
  };
}

function randomId(): PeerId {
  return crypto.getRandomValues(new Uint8Array(32)).toHex();
}

function requested(frames: { type: number; payload: Uint8Array }[]): PeerId[][] {
  return frames.filter((f) => f.type === FrameType.NodeInfoRequest).map((f) =>
    decodeNodeInfoRequest(f.payload)
  );
}

function peerOf(n: TestCert): { id: PeerId; name: string } {
  return { id: n.id, name: n.name };
}

/** A answers B's requests for what is in A's book, over a pair of fake sessions. */
async function relay(
  from: { gossip: NodeInfoGossip; toPeer: FakeSession },
  to: { gossip: NodeInfoGossip; toPeer: FakeSession },
): Promise<void> {
  for (const f of from.toPeer.take()) {
    assertEquals(f.type, FrameType.NodeInfoRequest);
    to.gossip.onRequest(to.toPeer, f.payload);
  }
  for (const f of to.toPeer.take()) {
    assertEquals(f.type, FrameType.NodeInfo);
    await from.gossip.onInfo(from.toPeer, f.payload);
  }
}

Deno.test("NodeInfoGossip: A asks its neighbour B for the hops of B's routes and learns their verified names", async () => {
  const clock = new ManualClock();
  const ga = gossipOf(a, clock);
  const gb = gossipOf(b, clock);
  assert((await gb.book.admit(c.id, c.certDer)).ok);
  const aSide = { gossip: ga, toPeer: new FakeSession(peerOf(b)) };
  const bSide = { gossip: gb, toPeer: new FakeSession(peerOf(a)) };
  ga.peerUp(aSide.toPeer);
  gb.peerUp(bSide.toPeer);

  ga.noteRoutes(b.id, [route(2, b.id), route(3, b.id, c.id)]);
  assertEquals(ga.wanted, 2);
  ga.pump();
  const reqs = requested(aSide.toPeer.sent);
  assertEquals(reqs.map((r) => r.toSorted()), [[b.id, c.id].toSorted()], "one request, both IDs");
  await relay(aSide, bSide);
  assertEquals(ga.book.get(b.id)?.name, "b.vnet.test");
  assertEquals(ga.book.get(c.id)?.name, "c.vnet.test");
  assertEquals(ga.wanted, 0);
  assertEquals([ga.stats.learned, ga.stats.requestsSent, gb.stats.requestsAnswered], [2, 1, 1]);

  // Known hops are not asked again.
  ga.noteRoutes(b.id, [route(3, b.id, c.id)]);
  ga.tick();
  assertEquals(aSide.toPeer.sent.length, 0);
});

Deno.test("NodeInfoGossip: an ID the peer does not know yet is asked again after a backoff, then learned", async () => {
  const clock = new ManualClock();
  const ga = gossipOf(a, clock);
  const gb = gossipOf(b, clock);
  const aSide = { gossip: ga, toPeer: new FakeSession(peerOf(b)) };
  const bSide = { gossip: gb, toPeer: new FakeSession(peerOf(a)) };
  ga.peerUp(aSide.toPeer);
  gb.peerUp(bSide.toPeer);
  ga.noteRoutes(b.id, [route(4, b.id, c.id, d.id)]);
  ga.pump();
  await relay(aSide, bSide);
  assertEquals(ga.stats.unknownAnswers, 2, "B knows only itself");
  assertEquals(ga.wanted, 2);
  clock.advance(UNKNOWN_RETRY_MS - 1);
  ga.tick();
  assertEquals(aSide.toPeer.sent.length, 0, "not before the backoff");
  assert((await gb.book.admit(d.id, d.certDer)).ok);
  clock.advance(1);
  ga.tick();
  assertEquals(requested(aSide.toPeer.sent).map((r) => r.toSorted()), [[c.id, d.id].toSorted()]);
  await relay(aSide, bSide);
  assertEquals(ga.book.get(d.id)?.name, "d.vnet.test");
  assert(!ga.book.has(c.id), "an unverifiable hop stays an ID");
  // The second unknown answer for C doubles the wait.
  clock.advance(2 * UNKNOWN_RETRY_MS - 1);
  ga.tick();
  assertEquals(aSide.toPeer.sent.length, 0);
  clock.advance(1);
  ga.tick();
  assertEquals(requested(aSide.toPeer.take()), [[c.id]]);
});

Deno.test("NodeInfoGossip: an unanswered request is asked again after the timeout", () => {
  const clock = new ManualClock();
  const ga = gossipOf(a, clock);
  const s = new FakeSession(peerOf(b));
  ga.peerUp(s);
  ga.noteRoutes(b.id, [route(3, b.id, c.id)]);
  ga.pump();
  assertEquals(requested(s.take()).length, 1);
  clock.advance(REQUEST_TIMEOUT_MS - 1);
  ga.tick();
  assertEquals(s.sent.length, 0);
  clock.advance(1);
  ga.tick(); // the timeout: retried after the unknown backoff
  assertEquals(ga.stats.timeouts, 2);
  clock.advance(UNKNOWN_RETRY_MS);
  ga.tick();
  assertEquals(requested(s.take()).map((r) => r.toSorted()), [[b.id, c.id].toSorted()]);
});

Deno.test("NodeInfoGossip: at most 64 IDs are outstanding at one peer", () => {
  const clock = new ManualClock();
  const ga = gossipOf(a, clock);
  const s = new FakeSession(peerOf(b));
  ga.peerUp(s);
  const ids = Array.from({ length: 100 }, randomId);
  ga.noteRoutes(b.id, ids.map((id, i) => route(i, b.id, id)));
  ga.pump();
  ga.pump();
  const reqs = requested(s.take());
  assertEquals(reqs.length, 1);
  assertEquals(reqs[0].length, MAX_NODE_INFO_IDS);
});

Deno.test("NodeInfoGossip: requests to one peer are rate-limited (a burst, then 4 a second)", () => {
  const clock = new ManualClock();
  const ga = gossipOf(a, clock);
  const s = new FakeSession(peerOf(b));
  ga.peerUp(s);
  // Each round: a new hop, a request for it, an answer "unknown" at once (retried after 1 s).
  for (let i = 0; i < ASK_BURST + 8; i++) {
    const id = randomId();
    ga.noteRoutes(b.id, [route(i, b.id, id)]);
    ga.pump();
    for (const ids of requested(s.take())) {
      ga.onInfo(s, encodeNodeInfo(ids.map((x) => ({ id: x, der: undefined })))[0]);
    }
  }
  assertEquals(ga.stats.requestsSent, ASK_BURST);
  clock.advance(250);
  ga.pump();
  const reqs = requested(s.take());
  assertEquals(reqs.length, 1, "one more token after 250 ms");
  assertEquals(reqs[0].length, 8, "it carries every ID that waited");
});

Deno.test("NodeInfoGossip: a peer asking too fast gets a burst of answers, then 8 a second; the rest are ignored", async () => {
  const clock = new ManualClock();
  const gb = gossipOf(b, clock);
  const s = new FakeSession(peerOf(a));
  gb.peerUp(s);
  const req = encodeNodeInfoRequest([b.id]);
  for (let i = 0; i < ANSWER_BURST + 500; i++) gb.onRequest(s, req);
  assertEquals(gb.stats.requestsAnswered, ANSWER_BURST);
  assertEquals(gb.stats.requestsOverRate, 500);
  const answers = s.take();
  assertEquals(answers.length, ANSWER_BURST);
  const [entry] = decodeNodeInfo(answers[0].payload);
  assertEquals(entry.id, b.id);
  assertEquals(entry.der, b.certDer);
  clock.advance(1000);
  for (let i = 0; i < 100; i++) gb.onRequest(s, req);
  assertEquals(s.take().length, ANSWER_PER_SECOND);
  // Another peer has its own budget.
  const other = new FakeSession(peerOf(c));
  gb.peerUp(other);
  gb.onRequest(other, req);
  assertEquals(other.take().length, 1);
  await Promise.resolve();
});

Deno.test("NodeInfoGossip: malformed frames throw NodeInfoWireError (the node closes that session) and change nothing", async () => {
  const clock = new ManualClock();
  const ga = gossipOf(a, clock);
  const s = new FakeSession(peerOf(b));
  ga.peerUp(s);
  ga.noteRoutes(b.id, [route(3, b.id, c.id)]);
  ga.pump();
  s.take();
  const good = encodeNodeInfo([{ id: c.id, der: c.certDer }])[0];
  const trailing = new Uint8Array(good.length + 1);
  trailing.set(good);
  const overLong = new Uint8Array(70_000);
  overLong.set(good);
  const hugeCert = new Uint8Array(3 + 34 + 5000);
  hugeCert.set([1, 0, 1]);
  hugeCert.set(Uint8Array.fromHex(c.id), 3);
  new DataView(hugeCert.buffer).setUint16(35, 5000);
  const junk: Uint8Array[] = [
    new Uint8Array(0),
    new Uint8Array([1]),
    new Uint8Array([2, 0, 1]), // version 2
    new Uint8Array([1, 0, 0]), // no entries
    new Uint8Array([1, 0xff, 0xff]),
    good.subarray(0, good.length - 1),
    trailing,
    overLong,
    hugeCert,
    crypto.getRandomValues(new Uint8Array(333)),
  ];
  for (const p of junk) {
    assertThrows(() => ga.onInfo(s, p), NodeInfoWireError);
    assertThrows(() => ga.onRequest(s, p), NodeInfoWireError);
    // The node's handler turns it into the error that closes the peer's session.
    const e = assertThrows(() => peerNodeInfo("node info", () => ga.onInfo(s, p)), SessionError);
    assertEquals((e as SessionError).reason, "malformed-frame");
  }
  assertThrows(
    () => ga.onRequest(s, new Uint8Array([1, 0, 2, ...new Uint8Array(40)])),
    NodeInfoWireError,
  );
  assertEquals(s.sent.length, 0, "no answer to a malformed request");
  assertEquals(ga.book.size, 1);
  // The outstanding request is still answered normally.
  await ga.onInfo(s, good);
  assertEquals(ga.book.get(c.id)?.name, "c.vnet.test");
});

Deno.test("NodeInfoGossip: unsolicited entries are dropped unread; bad certificates are refused and asked again only after a long backoff", async () => {
  const clock = new ManualClock();
  const ga = gossipOf(a, clock);
  const s = new FakeSession(peerOf(b));
  ga.peerUp(s);
  // Valid, but never asked for.
  await ga.onInfo(s, encodeNodeInfo([{ id: d.id, der: d.certDer }])[0]);
  assertEquals([ga.stats.unsolicited, ga.book.has(d.id)], [1, false]);

  const foreign = await pki.foreign.issue("f");
  const bad: [PeerId, Uint8Array, string][] = [
    [c.id, d.certDer, "id_mismatch"],
    [foreign.id, foreign.certDer, "not_issued_by_ca"],
    [pki.expired.id, pki.expired.certDer, "expired"],
    [randomId(), new Uint8Array([0x30, 0x03, 1, 2, 3]), "malformed"],
  ];
  ga.noteRoutes(b.id, bad.map(([id], i) => route(i, b.id, id)));
  ga.pump();
  const [asked] = requested(s.take());
  assertEquals(asked.length, bad.length + 1);
  await ga.onInfo(
    s,
    encodeNodeInfo([{ id: b.id, der: b.certDer }, ...bad.map(([id, der]) => ({ id, der }))])[0],
  );
  assertEquals(ga.book.size, 2, "only B's own certificate entered the book");
  assertEquals(ga.stats.refused, bad.length);
  assertEquals(
    ga.book.stats.refused,
    Object.fromEntries(bad.map(([, , reason]) => [reason, 1])),
  );
  assertEquals(ga.wanted, bad.length);
  clock.advance(REFUSED_RETRY_MS - 1);
  ga.tick();
  assertEquals(s.sent.length, 0);
  clock.advance(1);
  ga.tick();
  assertEquals(requested(s.take()).map((r) => r.toSorted()), [bad.map(([id]) => id).toSorted()]);
});

Deno.test("NodeInfoGossip: a peer without the NodeInfo feature bit is never sent a frame", () => {
  const clock = new ManualClock();
  const ga = gossipOf(a, clock);
  const old = new FakeSession(peerOf(b), Feature.VnetHdr | Feature.UdpChannel);
  ga.peerUp(old);
  ga.noteRoutes(b.id, [route(3, b.id, c.id)]);
  assertEquals(ga.wanted, 0);
  ga.pump();
  for (let i = 0; i < 10; i++) {
    clock.advance(1000);
    ga.tick();
  }
  ga.sweep(new Set([b.id, c.id]));
  assertEquals(old.sent, []);
});

Deno.test("NodeInfoGossip: wants are capped per neighbour, and forgotten when it goes down", () => {
  const clock = new ManualClock();
  const ga = gossipOf(a, clock);
  const s = new FakeSession(peerOf(b));
  ga.peerUp(s);
  const routes = Array.from({ length: MAX_WANTS_PER_PEER + 50 }, (_, i) => route(i, randomId()));
  ga.noteRoutes(b.id, routes);
  assertEquals(ga.wanted, MAX_WANTS_PER_PEER);
  assertEquals(ga.stats.wantsFull, 1);
  ga.peerDown(new FakeSession(peerOf(b))); // a stale session of the same peer: no effect
  assertEquals(ga.wanted, MAX_WANTS_PER_PEER);
  ga.peerDown(s);
  assertEquals(ga.wanted, 0);
  // Frames of the closed session are ignored.
  ga.onRequest(s, encodeNodeInfoRequest([a.id]));
  assertEquals(s.sent.length, 0);
});

Deno.test("NodeInfoGossip.sweep() forgets wants for nodes in no path", () => {
  const clock = new ManualClock();
  const ga = gossipOf(a, clock);
  const s = new FakeSession(peerOf(b), Feature.NodeInfo);
  ga.peerUp(s);
  const gone = randomId();
  ga.noteRoutes(b.id, [route(1, gone)]);
  ga.pump();
  s.take();
  ga.onInfo(s, encodeNodeInfo([{ id: gone, der: undefined }])[0]);
  assertEquals(ga.wanted, 1);
  ga.sweep(new Set([b.id]));
  assertEquals(ga.wanted, 0);
});

Deno.test("NodeInfoGossip: a certificate check that throws is logged and counted, never an unhandled rejection", async () => {
  const clock = new ManualClock();
  class BrokenBook extends NodeBook {
    override admit(): never {
      throw new TypeError("bug in the check");
    }
  }
  const book = new BrokenBook({ trust: pki.trust, identity: a.identity, now: () => clock.now() });
  const ga = gossipOf(a, clock, book);
  const s = new FakeSession(peerOf(b));
  ga.peerUp(s);
  ga.noteRoutes(b.id, [route(2, b.id)]);
  ga.pump();
  s.take();
  await ga.onInfo(s, encodeNodeInfo([{ id: b.id, der: b.certDer }])[0]);
  assertEquals([ga.stats.checkErrors, ga.stats.refused, ga.wanted], [1, 1, 1]);
});

Deno.test("NodeInfoGossip: a session that replaces another with the same peer asks again what the old one left unanswered", async () => {
  const clock = new ManualClock();
  const ga = gossipOf(a, clock);
  const gb = gossipOf(b, clock);
  assert((await gb.book.admit(c.id, c.certDer)).ok);
  const first = new FakeSession(peerOf(b));
  ga.peerUp(first);
  ga.noteRoutes(b.id, [route(3, b.id, c.id)]);
  ga.pump();
  assertEquals(requested(first.take()).length, 1);
  first.open = false; // replaced before it answered; no peerDown for it
  const aSide = { gossip: ga, toPeer: new FakeSession(peerOf(b)) };
  const bSide = { gossip: gb, toPeer: new FakeSession(peerOf(a)) };
  ga.peerUp(aSide.toPeer);
  gb.peerUp(bSide.toPeer);
  ga.pump();
  await relay(aSide, bSide);
  assertEquals(ga.book.get(c.id)?.name, "c.vnet.test");
  assertEquals(ga.wanted, 0);
});

Deno.test("NodeInfoGossip: a certificate unknown when asked is sent on as soon as the answering node learns it", async () => {
  const clock = new ManualClock();
  const [ga, gb, gc] = [gossipOf(a, clock), gossipOf(b, clock), gossipOf(c, clock)];
  assert((await gc.book.admit(d.id, d.certDer)).ok);
  const ab = { gossip: ga, toPeer: new FakeSession(peerOf(b)) };
  const ba = { gossip: gb, toPeer: new FakeSession(peerOf(a)) };
  const bc = { gossip: gb, toPeer: new FakeSession(peerOf(c)) };
  const cb = { gossip: gc, toPeer: new FakeSession(peerOf(b)) };
  ga.peerUp(ab.toPeer);
  gb.peerUp(ba.toPeer);
  gb.peerUp(bc.toPeer);
  gc.peerUp(cb.toPeer);
  // C announced [c, d] to B, B announced [b, c, d] to A; B's request to C is not answered yet.
  gb.noteRoutes(c.id, [route(4, c.id, d.id)]);
  gb.pump();
  ga.noteRoutes(b.id, [route(4, b.id, c.id, d.id)]);
  ga.pump();
  await relay(ab, ba);
  assertEquals(ga.stats.unknownAnswers, 2, "B knew neither C nor D yet");
  await relay(bc, cb); // B learns C and D, and sends both on to A at once
  assertEquals(gb.stats.deferredSent, 2);
  for (const f of ba.toPeer.take()) await ga.onInfo(ab.toPeer, f.payload);
  assertEquals(ga.stats.deferredReceived, 2);
  assertEquals(ga.book.get(d.id)?.name, "d.vnet.test");
  assertEquals(ga.book.get(c.id)?.name, "c.vnet.test");
  assertEquals(ga.wanted, 0);
  assertEquals(clock.now(), 0, "without waiting for the retry");
  // Sent once: a second learning of D sends nothing.
  await gb.onInfo(bc.toPeer, encodeNodeInfo([{ id: d.id, der: d.certDer }])[0]);
  assertEquals(ba.toPeer.sent.length, 0);
});
