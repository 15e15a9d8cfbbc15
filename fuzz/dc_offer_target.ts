/**
 * Fuzz target: DC offers (`decodeDcOffer` in `src/node/dc_sync.ts`), the 40-byte frame a peer
 * sends to say which DC it has. Refusal: RangeError; success re-encodes to the same bytes.
 * @module
 */
import { decodeDcOffer, encodeDcOffer } from "../src/node/dc_sync.ts";
import type { Seed } from "./mutator.ts";
import { expectError, expectSameBytes, type FuzzTarget } from "./target.ts";

let seeds: Seed[] = [];

/** The DC offer target. */
export const dcOfferTarget: FuzzTarget = {
  name: "dc_offer",
  description: "DC offer frames decodeDcOffer (src/node/dc_sync.ts)",
  setup() {
    seeds = [0, 1_700_000_000_123, 8.64e15].map((t) => ({
      bytes: encodeDcOffer({
        notBefore: new Date(t),
        contentHash: "ab".repeat(32),
        raw: new Uint8Array(),
      }),
    }));
    return Promise.resolve();
  },
  seeds: () => seeds,
  run(input: Uint8Array) {
    let offer;
    try {
      offer = decodeDcOffer(input);
    } catch (e) {
      expectError(e, [RangeError]);
      return;
    }
    const again = encodeDcOffer({
      notBefore: new Date(offer.notBefore),
      contentHash: offer.contentHash,
      raw: new Uint8Array(),
    });
    expectSameBytes(again, input, "DC offer");
  },
};
