import { assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import { parseVnetHdr, writeVnetHdr } from "./vnet_hdr.ts";

Deno.test("writeVnetHdr() and parseVnetHdr() round-trip every field little-endian", () => {
  const buf = new Uint8Array(14);
  const hdr = { flags: 1, gsoType: 4, hdrLen: 86, gsoSize: 1368, csumStart: 40, csumOffset: 16 };
  writeVnetHdr(buf, 2, hdr);
  assertEquals(Array.from(buf.subarray(2, 12)), [1, 4, 86, 0, 0x58, 0x05, 40, 0, 16, 0]);
  assertEquals(parseVnetHdr(buf, 2), hdr);
  writeVnetHdr(buf, 2);
  assertEquals(buf.subarray(2, 12), new Uint8Array(10));
});

Deno.test("parseVnetHdr() refuses a buffer shorter than 10 bytes", () => {
  assertThrows(() => parseVnetHdr(new Uint8Array(9)), RangeError, "10 bytes");
  assertThrows(() => writeVnetHdr(new Uint8Array(12), 3), RangeError);
});
