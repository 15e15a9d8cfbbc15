import { assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import { SessionError } from "./errors.ts";
import {
  decodeHello,
  encodeHello,
  encodeHelloBody,
  Feature,
  type HelloBody,
  helloSigningInput,
  MAX_HELLO_LEN,
  PROTOCOL_VERSION,
} from "./hello.ts";

const body: HelloBody = {
  version: PROTOCOL_VERSION,
  features: Feature.VnetHdr | Feature.UdpChannel,
  instance: new Uint8Array(8).fill(3),
  id: new Uint8Array(32).fill(0xab),
  x25519: new Uint8Array(32).fill(7),
  name: "a.vnet.test",
};

Deno.test("decodeHello() reads back what encodeHello() wrote", () => {
  const b = encodeHelloBody(body);
  const sig = new Uint8Array(64).fill(9);
  const { hello, body: decodedBody } = decodeHello(encodeHello(b, sig));
  assertEquals(hello, { ...body, signature: sig });
  assertEquals(decodedBody, b);
});

Deno.test("decodeHello() refuses truncated, padded, oversize and foreign payloads", () => {
  const good = encodeHello(encodeHelloBody(body), new Uint8Array(64).fill(9));
  for (let n = 0; n < good.length; n++) {
    assertThrows(() => decodeHello(good.subarray(0, n)), SessionError, "malformed hello");
  }
  const padded = new Uint8Array(good.length + 1);
  padded.set(good);
  assertThrows(() => decodeHello(padded), SessionError, "does not match");
  assertThrows(() => decodeHello(new Uint8Array(MAX_HELLO_LEN + 1)), SessionError, "too long");
  const http = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n".padEnd(200, " "));
  assertThrows(() => decodeHello(http), SessionError, "bad magic");
  const badName = good.slice();
  badName[82] = 0xff;
  assertThrows(() => decodeHello(badName), SessionError, "UTF-8");
});

Deno.test("decodeHello() never throws anything but SessionError on random input", () => {
  for (let i = 0; i < 500; i++) {
    const junk = crypto.getRandomValues(new Uint8Array(Math.floor(Math.random() * 400)));
    junk.set([0x56, 0x4d, 0x53, 0x48].slice(0, junk.length));
    try {
      decodeHello(junk);
    } catch (e) {
      if (!(e instanceof SessionError)) throw e;
    }
  }
});

Deno.test("helloSigningInput() differs by role and by TLS session", () => {
  const b = encodeHelloBody(body);
  const f1 = new Uint8Array(32).fill(1);
  const f2 = new Uint8Array(32).fill(2);
  const a = helloSigningInput("dialer", f1, f2, b);
  assertEquals(a, helloSigningInput("dialer", f1, f2, b));
  const hex = (x: Uint8Array) => x.toHex();
  const others = [
    helloSigningInput("listener", f1, f2, b),
    helloSigningInput("dialer", f2, f1, b),
    helloSigningInput("dialer", f1, new Uint8Array(32).fill(3), b),
  ];
  for (const o of others) assertEquals(hex(o) === hex(a), false);
});

Deno.test("decodeHello() refuses a name longer than encodeHelloBody() allows (found by fuzzing)", () => {
  const name = "n".repeat(255); // the length byte can say 255; the limit is 253
  const fixed = encodeHelloBody({ ...body, name: "n".repeat(253) });
  const long = new Uint8Array(fixed.length + 2);
  long.set(fixed);
  long[81] = 255;
  long.set(new TextEncoder().encode(name), 82);
  const e = assertThrows(
    () => decodeHello(encodeHello(long, new Uint8Array(64).fill(9))),
    SessionError,
    "name",
  );
  assertEquals((e as SessionError).reason, "malformed-hello");
});

Deno.test("decodeHello() keeps a leading byte-order mark in the name, as signed (found by fuzzing)", () => {
  const bom = "\uFEFFa.vnet.test";
  const signed = encodeHelloBody({ ...body, name: bom });
  const { hello } = decodeHello(encodeHello(signed, new Uint8Array(64).fill(9)));
  assertEquals(hello.name, bom);
  assertEquals(encodeHelloBody(hello), signed);
});
