/**
 * Fuzz target: the session hello (`src/session/hello.ts`). A hello either decodes — and then
 * re-encodes to exactly the bytes received, so the name and fields compared later are the
 * ones that were signed — or is refused with SessionError "malformed-hello".
 * @module
 */
import { SessionError } from "../src/session/errors.ts";
import {
  decodeHello,
  encodeHello,
  encodeHelloBody,
  PROTOCOL_VERSION,
} from "../src/session/hello.ts";
import { Rng, type Seed } from "./mutator.ts";
import { expectError, expectSameBytes, type FuzzTarget } from "./target.ts";

let seeds: Seed[] = [];

/** The hello target. */
export const helloTarget: FuzzTarget = {
  name: "hello",
  description: "session hello decodeHello (src/session/hello.ts)",
  setup() {
    const rng = new Rng(1);
    const names = ["a.vnet.example.com", "x", "n".repeat(253), "ü.vnet.example.com"];
    seeds = names.flatMap((name) =>
      [64, 72, 1].map((sigLen) => {
        const body = encodeHelloBody({
          version: PROTOCOL_VERSION,
          features: rng.u32(),
          instance: rng.bytes(8),
          id: rng.bytes(32),
          x25519: rng.bytes(32),
          name,
        });
        return {
          bytes: encodeHello(body, rng.bytes(sigLen)),
          lengths: [
            { offset: 81, width: 1 as const, value: body.length - 82 },
            { offset: body.length, width: 2 as const, value: sigLen },
          ],
        };
      })
    );
    return Promise.resolve();
  },
  seeds: () => seeds,
  run(input: Uint8Array) {
    let decoded;
    try {
      decoded = decodeHello(input);
    } catch (e) {
      expectError(e, [SessionError], (e) => (e as SessionError).reason === "malformed-hello");
      return;
    }
    const { hello, body } = decoded;
    const again = encodeHello(encodeHelloBody(hello), hello.signature);
    expectSameBytes(again, input, "hello");
    expectSameBytes(body, input.subarray(0, body.length), "hello body");
  },
};
