import { assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import { parseHostPort } from "./host_port.ts";

Deno.test("parseHostPort() handles IPv4, bracketed IPv6, names and listen-all", () => {
  assertEquals(parseHostPort("[::]:5120", true), { host: "::", port: 5120 });
  assertEquals(parseHostPort(":5120", true), { host: "", port: 5120 });
  assertThrows(() => parseHostPort(":5120"), SyntaxError);
  assertThrows(() => parseHostPort("[fe80::1%eth0]:1"), SyntaxError);
  assertThrows(() => parseHostPort("1.2.3.4:0"), SyntaxError);
  assertThrows(() => parseHostPort("999.2.3.4:1"), SyntaxError);
});
