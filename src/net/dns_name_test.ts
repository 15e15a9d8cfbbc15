import { assertEquals } from "../../tests/_harness/assert.ts";
import { canonicalName, sameName } from "./dns_name.ts";

Deno.test("canonicalName() folds ASCII case and drops one trailing dot", () => {
  assertEquals(canonicalName("B.Vnet.Example.Com."), "b.vnet.example.com");
  assertEquals(canonicalName("b.vnet.example.com"), "b.vnet.example.com");
  assertEquals(canonicalName("a.b.."), "a.b.");
});

Deno.test("canonicalName() folds only ASCII letters", () => {
  assertEquals(canonicalName("É.Example"), "É.example");
});

Deno.test("sameName() treats case and a trailing dot as the same name", () => {
  assertEquals(sameName("B.Vnet.Example.Com.", "b.vnet.example.com"), true);
  assertEquals(sameName("b.vnet.example.com", "c.vnet.example.com"), false);
});
