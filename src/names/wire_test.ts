import { assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import {
  decodeNodeInfo,
  decodeNodeInfoRequest,
  encodeNodeInfo,
  encodeNodeInfoRequest,
  MAX_NODE_CERT_BYTES,
  MAX_NODE_INFO_IDS,
  MAX_NODE_INFO_PAYLOAD,
  NodeInfoWireError,
} from "./wire.ts";

const id = (n: number) => n.toString(16).padStart(64, "0");

Deno.test("node-info request: round trip; duplicate IDs are asked once", () => {
  const ids = [id(1), id(2), id(0xabc)];
  assertEquals(decodeNodeInfoRequest(encodeNodeInfoRequest(ids)), ids);
  assertEquals(decodeNodeInfoRequest(encodeNodeInfoRequest([id(1), id(1)])), [id(1)]);
});

Deno.test("node-info request: the encoder refuses an empty or too long list and bad IDs", () => {
  assertThrows(() => encodeNodeInfoRequest([]), RangeError);
  const many = Array.from({ length: MAX_NODE_INFO_IDS + 1 }, (_, i) => id(i));
  assertThrows(() => encodeNodeInfoRequest(many), RangeError);
  assertThrows(() => encodeNodeInfoRequest(["xyz"]), RangeError, "not a node ID");
});

Deno.test("node-info request: truncated, trailing, bad version, zero or too many IDs are refused", () => {
  const good = encodeNodeInfoRequest([id(1), id(2)]);
  assertThrows(() => decodeNodeInfoRequest(good.subarray(0, 2)), NodeInfoWireError, "truncated");
  assertThrows(() => decodeNodeInfoRequest(good.subarray(0, 40)), NodeInfoWireError, "must be");
  const trailing = new Uint8Array(good.length + 1);
  trailing.set(good);
  assertThrows(() => decodeNodeInfoRequest(trailing), NodeInfoWireError, "must be");
  const v2 = good.slice();
  v2[0] = 2;
  assertThrows(() => decodeNodeInfoRequest(v2), NodeInfoWireError, "version 2");
  assertThrows(
    () => decodeNodeInfoRequest(new Uint8Array([1, 0, 0])),
    NodeInfoWireError,
    "0 entries",
  );
  const big = new Uint8Array(3 + 65 * 32);
  big.set([1, 0, 65]);
  assertThrows(() => decodeNodeInfoRequest(big), NodeInfoWireError, "65 entries");
  const oversize = new Uint8Array(MAX_NODE_INFO_PAYLOAD + 1);
  oversize[0] = 1;
  assertThrows(() => decodeNodeInfoRequest(oversize), NodeInfoWireError, "over the limit");
});

Deno.test("node info: round trip with known and unknown entries; certificates are copied", () => {
  const der = new Uint8Array(700).fill(7);
  const [p, ...rest] = encodeNodeInfo([{ id: id(1), der }, { id: id(2), der: undefined }]);
  assertEquals(rest.length, 0);
  const got = decodeNodeInfo(p);
  assertEquals(got.length, 2);
  assertEquals(got[0].id, id(1));
  assertEquals(got[0].der, der);
  assertEquals(got[1], { id: id(2), der: undefined });
  p.fill(0, 40);
  assertEquals(got[0].der![0], 7, "the decoded certificate does not alias the payload");
});

Deno.test("node info: long answers are split by entry count and by payload size", () => {
  const small = Array.from({ length: 100 }, (_, i) => ({ id: id(i), der: new Uint8Array(10) }));
  const bySize = Array.from({ length: 40 }, (_, i) => ({
    id: id(i),
    der: new Uint8Array(MAX_NODE_CERT_BYTES),
  }));
  for (const list of [small, bySize]) {
    const payloads = encodeNodeInfo(list);
    const back = payloads.flatMap((p) => {
      if (p.length > MAX_NODE_INFO_PAYLOAD) throw new Error(`payload of ${p.length} bytes`);
      return decodeNodeInfo(p);
    });
    assertEquals(back.map((e) => e.id), list.map((e) => e.id));
  }
  assertEquals(encodeNodeInfo(small).length, 2);
  assertEquals(encodeNodeInfo(bySize).length, 3);
  assertEquals(encodeNodeInfo([]).length, 0);
});

Deno.test("node info: the encoder refuses a certificate over the cap", () => {
  assertThrows(
    () => encodeNodeInfo([{ id: id(1), der: new Uint8Array(MAX_NODE_CERT_BYTES + 1) }]),
    RangeError,
    "over 4096",
  );
});

Deno.test("node info: oversize certificate, truncation, trailing bytes, repeats and bad headers are refused", () => {
  const entry = (len: number, declared = len, n = 1) => {
    const p = new Uint8Array(3 + 34 + len);
    p.set([1, 0, n]);
    p.set(Uint8Array.fromHex(id(1)), 3);
    new DataView(p.buffer).setUint16(35, declared);
    return p;
  };
  assertThrows(
    () => decodeNodeInfo(entry(MAX_NODE_CERT_BYTES + 1)),
    NodeInfoWireError,
    "at most 4096",
  );
  assertThrows(() => decodeNodeInfo(entry(10, 11)), NodeInfoWireError, "certificate truncated");
  assertThrows(() => decodeNodeInfo(entry(10, 9)), NodeInfoWireError, "trailing");
  assertThrows(() => decodeNodeInfo(entry(10, 10, 2)), NodeInfoWireError, "entry 1 is truncated");
  const twice = encodeNodeInfo([{ id: id(1), der: new Uint8Array(3) }])[0];
  const both = new Uint8Array(3 + 2 * (twice.length - 3));
  both.set([1, 0, 2]);
  both.set(twice.subarray(3), 3);
  both.set(twice.subarray(3), twice.length);
  assertThrows(() => decodeNodeInfo(both), NodeInfoWireError, "repeats ID");
  assertThrows(() => decodeNodeInfo(new Uint8Array([1, 0])), NodeInfoWireError, "truncated");
  assertThrows(() => decodeNodeInfo(new Uint8Array([9, 0, 1])), NodeInfoWireError, "version 9");
  assertThrows(() => decodeNodeInfo(new Uint8Array([1, 0, 0])), NodeInfoWireError, "0 entries");
});

Deno.test("node info: random bytes never throw anything but NodeInfoWireError", () => {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 2000; i++) {
    const p = new Uint8Array(Math.floor(rnd() * 200));
    for (let j = 0; j < p.length; j++) p[j] = Math.floor(rnd() * 256);
    if (p.length > 0 && rnd() < 0.7) p[0] = 1;
    if (p.length > 2 && rnd() < 0.7) p[1] = 0;
    for (const decode of [decodeNodeInfo, decodeNodeInfoRequest]) {
      try {
        decode(p);
      } catch (e) {
        if (!(e instanceof NodeInfoWireError)) throw e;
      }
    }
  }
});
