import { assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import { formatIpv6, parseIpv6 } from "./ipv6.ts";
import { formatPrefix, parsePrefix, prefixCovers } from "./prefix.ts";

Deno.test("parseIpv6() round-trips the RFC 5952 forms", () => {
  for (
    const s of [
      "::",
      "::1",
      "2001:db8::1",
      "fd00:1::",
      "1:2:3:4:5:6:7:8",
      "fe80::1:0:0:1",
      "2001:db8:0:1::",
    ]
  ) assertEquals(formatIpv6(parseIpv6(s)), s);
  assertEquals(formatIpv6(parseIpv6("2001:DB8:0:0:0:0:0:1")), "2001:db8::1");
  assertEquals(formatIpv6(parseIpv6("::ffff:1.2.3.4")), "::ffff:102:304");
  assertEquals(formatIpv6(parseIpv6("1:2:3:4:5:6:1.2.3.4")), "1:2:3:4:5:6:102:304");
});

Deno.test("parseIpv6() refuses malformed text", () => {
  for (
    const s of ["", ":", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "g::", "1.2.3.4", "::1%eth0"]
  ) assertThrows(() => parseIpv6(s), SyntaxError);
});

Deno.test("parsePrefix() checks length, host bits and IPv4", () => {
  assertEquals(formatPrefix(parsePrefix("2001:db8::/32")), "2001:db8::/32");
  assertEquals(formatPrefix(parsePrefix("fd00:1::1/64", true)), "fd00:1::/64");
  assertThrows(() => parsePrefix("fd00:1::1/64"), RangeError, "host bits");
  assertThrows(() => parsePrefix("::/129"), RangeError);
  assertThrows(() => parsePrefix("10.0.0.0/8"), SyntaxError, "IPv6 only");
  assertThrows(() => parsePrefix("fd00::"), SyntaxError);
});

Deno.test("prefixCovers() follows prefix bits", () => {
  const p = (s: string) => parsePrefix(s);
  assertEquals(prefixCovers(p("fd00::/8"), p("fd12:3400::/24")), true);
  assertEquals(prefixCovers(p("fd12:3400::/23"), p("fd12:3500::/24")), true);
  assertEquals(prefixCovers(p("fd12:3400::/24"), p("fd12:3500::/24")), false);
  assertEquals(prefixCovers(p("fd12::/16"), p("fd00::/8")), false);
  assertEquals(prefixCovers(p("::/0"), p("::1/128")), true);
});
