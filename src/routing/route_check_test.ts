import { assertEquals } from "../../tests/_harness/assert.ts";
import { isValidPrefix, routeProblem } from "./route_check.ts";

Deno.test("isValidPrefix refuses host bits past the length, in the partial byte and after it", () => {
  const p = (bytes: number[], len: number) => {
    const addr = new Uint8Array(16);
    addr.set(bytes);
    return { addr, len };
  };
  assertEquals(isValidPrefix(p([0xfd, 0x80], 9)), true);
  assertEquals(isValidPrefix(p([0xfd, 0xc0], 9)), false, "bit 10 set in the partial byte");
  assertEquals(isValidPrefix(p([0xfd, 0, 0, 1], 24)), false, "a byte after the length");
  assertEquals(isValidPrefix(p([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 128)), true);
  assertEquals(isValidPrefix(p([1], 0)), false);
  assertEquals(isValidPrefix(p([], 0)), true);
  assertEquals(isValidPrefix({ addr: new Uint8Array(15), len: 0 }), false);
  assertEquals(isValidPrefix(p([], 129)), false);
});

Deno.test("routeProblem finds a repeated node in short and in long paths", () => {
  const id = (i: number) => i.toString(16).padStart(64, "0");
  const prefix = { addr: new Uint8Array(16), len: 0 };
  for (const hops of [3, 12]) {
    const path = Array.from({ length: hops }, (_, i) => ({ id: id(i + 1), latencyMs: 1 }));
    assertEquals(routeProblem({ prefix, path }, id(1), id(99)), undefined);
    path[hops - 1] = { id: id(2), latencyMs: 1 };
    assertEquals(routeProblem({ prefix, path }, id(1), id(99)), "path visits a node twice");
    path[hops - 1] = { id: "not an id", latencyMs: 1 };
    assertEquals(routeProblem({ prefix, path }, id(1), id(99)), "malformed hop ID");
  }
});
