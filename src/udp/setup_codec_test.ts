import { assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import {
  decodeChannelRequest,
  decodeChannelResponse,
  encodeChannelRefusal,
  encodeChannelRequest,
  encodeChannelResponse,
  SETUP_PAYLOAD_BYTES,
  SetupStatus,
} from "./setup_codec.ts";

const random = Uint8Array.from({ length: 16 }, (_, i) => i + 1);

Deno.test("encodeChannelRequest() round-trips through decodeChannelRequest()", () => {
  const m = { epoch: 0xfffffffe, receiverIndex: 0x80000001, udpPort: 65535, random };
  const p = encodeChannelRequest(m);
  assertEquals(p.length, SETUP_PAYLOAD_BYTES);
  assertEquals(decodeChannelRequest(p), m);
});

Deno.test("encodeChannelResponse() and refusals round-trip through decodeChannelResponse()", () => {
  const m = { status: SetupStatus.Accepted, epoch: 7, receiverIndex: 9, udpPort: 4000, random };
  assertEquals(decodeChannelResponse(encodeChannelResponse(m)), m);
  const r = decodeChannelResponse(encodeChannelRefusal(7, SetupStatus.NoUdp));
  assertEquals(r.status, SetupStatus.NoUdp);
  assertEquals(r.epoch, 7);
});

Deno.test("decodeChannelRequest() refuses truncated, oversize, wrong-kind and garbage payloads", () => {
  const good = encodeChannelRequest({ epoch: 1, receiverIndex: 2, udpPort: 3, random });
  assertThrows(() => decodeChannelRequest(good.subarray(0, 31)), SyntaxError, "expected 32 bytes");
  assertThrows(() => decodeChannelRequest(new Uint8Array(33)), SyntaxError, "expected 32 bytes");
  assertThrows(() => decodeChannelRequest(new Uint8Array(0)), SyntaxError);
  const v2 = good.slice();
  v2[0] = 2;
  assertThrows(() => decodeChannelRequest(v2), SyntaxError, "unsupported version 2");
  const resp = encodeChannelRefusal(1, SetupStatus.NoUdp);
  assertThrows(() => decodeChannelRequest(resp), SyntaxError, "wrong message kind");
  assertThrows(() => decodeChannelResponse(good), SyntaxError, "wrong message kind");
  const reserved = good.slice();
  reserved[15] = 1;
  assertThrows(() => decodeChannelRequest(reserved), SyntaxError, "reserved");
  const status = good.slice();
  status[2] = 1;
  assertThrows(() => decodeChannelRequest(status), SyntaxError, "status");
  for (let i = 0; i < 200; i++) {
    const junk = crypto.getRandomValues(new Uint8Array(32));
    try {
      decodeChannelResponse(junk);
    } catch (e) {
      assertEquals(e instanceof SyntaxError, true);
    }
  }
});

Deno.test("decodeChannelResponse() refuses an accepted response with port 0 or unknown status", () => {
  const p = encodeChannelResponse({
    status: SetupStatus.Accepted,
    epoch: 1,
    receiverIndex: 2,
    udpPort: 0,
    random,
  });
  assertThrows(() => decodeChannelResponse(p), SyntaxError, "port 0");
  const q = encodeChannelRefusal(1, SetupStatus.Unavailable);
  q[2] = 9;
  assertThrows(() => decodeChannelResponse(q), SyntaxError, "unknown status 9");
});

Deno.test("encodeChannelRequest() refuses out-of-range fields", () => {
  assertThrows(
    () => encodeChannelRequest({ epoch: -1, receiverIndex: 0, udpPort: 1, random }),
    RangeError,
  );
  assertThrows(
    () => encodeChannelRequest({ epoch: 0, receiverIndex: 2 ** 32, udpPort: 1, random }),
    RangeError,
  );
  assertThrows(
    () => encodeChannelRequest({ epoch: 0, receiverIndex: 0, udpPort: 70000, random }),
    RangeError,
  );
  assertThrows(
    () => encodeChannelRequest({ epoch: 0, receiverIndex: 0, udpPort: 1, random: random.slice(1) }),
    RangeError,
  );
});
