import { assertEquals } from "../../tests/_harness/assert.ts";
import { PeerMap } from "./peer_map.ts";

Deno.test("PeerMap behaves as a Map from peer to value", () => {
  const m = new PeerMap<number>();
  assertEquals([m.size, m.get("a"), m.has("a"), m.delete("a")], [0, undefined, false, false]);
  m.set("a", 1);
  m.set("b", 2);
  m.set("c", 3);
  m.set("b", 20);
  assertEquals([...m.keys()], ["a", "b", "c"]);
  assertEquals([...m.values()], [1, 20, 3]);
  assertEquals(m.delete("b"), true);
  assertEquals([m.size, m.get("b"), m.get("c"), m.has("a")], [2, undefined, 3, true]);
  m.delete("a");
  m.delete("c");
  assertEquals([m.size, [...m.keys()]], [0, []]);
  m.set("d", 4);
  assertEquals([...m.values()], [4]);
});
