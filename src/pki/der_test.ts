import { assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import { decodeString, decodeTime, DerError, encodeTlv, readSingle, Tag } from "./der.ts";

function time(tag: number, text: string): Date {
  return decodeTime(readSingle(encodeTlv(tag, new TextEncoder().encode(text))));
}

Deno.test("decodeTime() reads UTCTime and GeneralizedTime, leap days included", () => {
  assertEquals(time(Tag.UTC_TIME, "240229123456Z").toISOString(), "2024-02-29T12:34:56.000Z");
  assertEquals(time(Tag.UTC_TIME, "500101000000Z").toISOString(), "1950-01-01T00:00:00.000Z");
  assertEquals(
    time(Tag.GENERALIZED_TIME, "20491231235959Z").toISOString(),
    "2049-12-31T23:59:59.000Z",
  );
});

Deno.test("decodeTime() refuses impossible dates instead of rolling them into the next month", () => {
  for (const text of ["230229000000Z", "240230000000Z", "240431000000Z", "241131000000Z"]) {
    assertThrows(() => time(Tag.UTC_TIME, text), DerError, "no such date");
  }
  assertThrows(() => time(Tag.GENERALIZED_TIME, "21000229000000Z"), DerError, "no such date");
});

Deno.test("decodeTime() keeps GeneralizedTime years below 100 as written", () => {
  // Date.UTC would turn year 50 into 1950 and year 1 into 1901.
  assertEquals(time(Tag.GENERALIZED_TIME, "00500101000000Z").getUTCFullYear(), 50);
  assertEquals(time(Tag.GENERALIZED_TIME, "00010101000000Z").getUTCFullYear(), 1);
});

Deno.test("decodeString() keeps a leading byte-order mark: a name is exactly its bytes", () => {
  // TextDecoder drops a leading BOM by default, so "\uFEFFa.vnet.test" read as "a.vnet.test".
  const bytes = new TextEncoder().encode("\uFEFFa.vnet.test");
  const el = readSingle(Uint8Array.of(Tag.UTF8_STRING, bytes.length, ...bytes));
  assertEquals(decodeString(el), "\uFEFFa.vnet.test");
});
