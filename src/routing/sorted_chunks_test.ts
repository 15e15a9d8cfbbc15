import { assertEquals } from "../../tests/_harness/assert.ts";
import { MAX_CHUNK, SortedChunks } from "./sorted_chunks.ts";

Deno.test("SortedChunks keeps random inserts and removals in order, as a sorted array", () => {
  let seed = 7;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  const list = new SortedChunks<{ v: number }>((a, b) => a.v - b.v);
  const model: { v: number }[] = [];
  for (let step = 0; step < 20 * MAX_CHUNK; step++) {
    if (model.length > 0 && rand(3) === 0) {
      const item = model[rand(model.length)];
      assertEquals(list.remove(item), true);
      model.splice(model.indexOf(item), 1);
    } else {
      const item = { v: rand(5000) };
      list.insert(item);
      model.push(item);
      model.sort((a, b) => a.v - b.v);
    }
  }
  assertEquals(list.size, model.length);
  assertEquals([...list].map((x) => x.v), model.map((x) => x.v));
  assertEquals(list.remove({ v: 1 }), false, "an object that is not in the list");
  const from = [...list.from({ v: 2500 })].map((x) => x.v);
  assertEquals(from, model.map((x) => x.v).filter((v) => v >= 2500));
  list.reset(model.slice(0, 1000));
  assertEquals([...list.from({ v: -1 })].length, 1000);
});
