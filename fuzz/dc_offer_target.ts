/**
 * Fuzz target: DC offers (`decodeDcOffer` in `src/dc/offer.ts`), the 40-byte frame a peer
 * sends to say which DC it has. Refusal: DcError "malformed"; success re-encodes to the same
 * bytes.
 * @module
 */
import { DcError } from "../src/dc/errors.ts";
import { decodeDcOffer, encodeDcOffer } from "../src/dc/offer.ts";
import type { Seed } from "./mutator.ts";
import { expectError, expectSameBytes, type FuzzTarget } from "./target.ts";

let seeds: Seed[] = [];

/** The DC offer target. */
export const dcOfferTarget: FuzzTarget = {
  name: "dc_offer",
  description: "DC offer frames decodeDcOffer (src/dc/offer.ts)",
  setup() {
    seeds = [0, 1_700_000_000_123, 8.64e15].map((t) => ({
      bytes: encodeDcOffer({ notBefore: t, contentHash: "ab".repeat(32) }),
    }));
    return Promise.resolve();
  },
  seeds: () => seeds,
  run(input: Uint8Array) {
    let offer;
    try {
      offer = decodeDcOffer(input);
    } catch (e) {
      expectError(e, [DcError], (e) => (e as DcError).reason === "malformed");
      return;
    }
    const again = encodeDcOffer(offer);
    expectSameBytes(again, input, "DC offer");
  },
};
