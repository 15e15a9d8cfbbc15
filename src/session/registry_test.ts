import { assertEquals } from "../../tests/_harness/assert.ts";
import { type DuplicateFacts, preferSession, SessionRegistry } from "./registry.ts";

const LOW = "1".repeat(64);
const HIGH = "f".repeat(64);

const facts = (dialedByUs: boolean, peerInstance = "i1"): DuplicateFacts => ({
  dialedByUs,
  peerInstance,
});

Deno.test("preferSession() keeps the connection dialled by the lower ID, on both ends", () => {
  // LOW dialled connection X (LOW sees dialedByUs, HIGH does not); HIGH dialled Y.
  // Whatever order each end saw them open in, both keep X.
  const atLow = (x: "existing" | "fresh", order: "x-first" | "y-first") =>
    order === "x-first"
      ? preferSession(LOW, HIGH, facts(true), facts(false)) === x
      : preferSession(LOW, HIGH, facts(false), facts(true)) === x;
  assertEquals(atLow("existing", "x-first"), true);
  assertEquals(atLow("fresh", "y-first"), true);
  assertEquals(preferSession(HIGH, LOW, facts(false), facts(true)), "existing"); // X first at HIGH
  assertEquals(preferSession(HIGH, LOW, facts(true), facts(false)), "fresh"); // Y first at HIGH
});

Deno.test("preferSession() takes the fresh session when the peer restarted or the same side dialled both", () => {
  assertEquals(preferSession(LOW, HIGH, facts(true, "old"), facts(false, "new")), "fresh");
  assertEquals(preferSession(HIGH, LOW, facts(true, "old"), facts(false, "new")), "fresh");
  assertEquals(preferSession(LOW, HIGH, facts(false), facts(false)), "fresh");
  assertEquals(preferSession(HIGH, LOW, facts(true), facts(true)), "fresh");
});

interface Fake extends DuplicateFacts {
  peer: { id: string; name: string; external: boolean };
  label: string;
}
const fake = (label: string, id: string, dialedByUs: boolean, peerInstance = "i1"): Fake => ({
  label,
  peer: { id, name: `n${id.slice(0, 1)}`, external: false },
  dialedByUs,
  peerInstance,
});

Deno.test("SessionRegistry keeps one session per peer and reports which one to close", () => {
  const r = new SessionRegistry<Fake>(LOW);
  const x = fake("x", HIGH, true); // we (LOW) dialled it: the keeper
  const y = fake("y", HIGH, false);
  assertEquals(r.admit(y), { admitted: true, loser: undefined });
  assertEquals(r.admit(x), { admitted: true, loser: y }, "x replaces y");
  assertEquals(r.get(HIGH), x);
  assertEquals(r.sessions(), [x]);
  assertEquals(r.release(y), true, "y was up: its down event is still reported");
  assertEquals(r.get(HIGH), x, "releasing the replaced one keeps the survivor");
  const z = fake("z", HIGH, false);
  assertEquals(r.admit(z), { admitted: false, loser: z }, "a late duplicate loses");
  assertEquals(r.release(z), false, "never admitted: no down event");
  assertEquals(r.hasName(x.peer.name), true);
  assertEquals(r.release(x), true);
  assertEquals(r.get(HIGH), undefined);
  assertEquals(r.hasName(x.peer.name), false);
});

Deno.test("SessionRegistry lets a restarted peer's new session replace the old one", () => {
  const r = new SessionRegistry<Fake>(LOW);
  const old = fake("old", HIGH, true, "before");
  const fresh = fake("fresh", HIGH, false, "after");
  r.admit(old);
  assertEquals(r.admit(fresh), { admitted: true, loser: old });
  assertEquals(r.get(HIGH), fresh);
});

Deno.test("SessionRegistry keeps one session per peer key even when the peer IDs differ", () => {
  // Two certificates under one node name: different IDs, one peer.
  const r = new SessionRegistry<Fake>(LOW, (s) => `node:${s.peer.name}`);
  const first = fake("first", "f1".padEnd(64, "0"), true);
  const twin = fake("twin", "f2".padEnd(64, "0"), true);
  assertEquals(first.peer.name, twin.peer.name);
  r.admit(first);
  assertEquals(r.admit(twin), { admitted: true, loser: first }, "the same side dialled both");
  assertEquals(r.sessions(), [twin]);
  assertEquals(r.get(first.peer.id), undefined, "the replaced ID no longer resolves");
  assertEquals(r.get(twin.peer.id), twin);
  assertEquals(r.release(first), true);
  assertEquals(r.sessions(), [twin], "releasing the replaced one keeps the survivor");
});
