import { assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import { addressKey, formatPrefix, parsePrefix, prefixFromKey, prefixKey } from "./prefix.ts";

Deno.test("prefixKey is compact, one key per prefix, and prefixFromKey turns it back", () => {
  for (
    const text of ["::/0", "fd00::/8", "fd00:a::/48", "fd01:0:0:1::/64", "fd00::1/128", "fd80::/9"]
  ) {
    const p = parsePrefix(text);
    const key = prefixKey(p);
    assertEquals(key.length, 1 + ((p.len + 7) >> 3));
    assertEquals(formatPrefix(prefixFromKey(key)), text);
  }
  const a = parsePrefix("fd00:a::/48"), b = parsePrefix("fd00:b::/48");
  assertEquals(prefixKey(a) === prefixKey(b), false);
  assertEquals(prefixKey(a) === prefixKey(parsePrefix("fd00:a::/47")), false);
  // The bits past the length do not count.
  assertEquals(
    addressKey(parsePrefix("fd00:ffff::/32").addr, 9),
    prefixKey(parsePrefix("fd00::/9")),
  );
  assertThrows(() => prefixFromKey(""), RangeError);
  assertThrows(() => prefixFromKey(String.fromCharCode(64, 1)), RangeError);
  assertThrows(() => prefixFromKey(String.fromCharCode(200)), RangeError);
});
