/**
 * Fuzz target: route announcements and withdrawals (`src/routing/wire.ts`). Each input goes
 * to both decoders; each either refuses it with a {@link WireError} or decodes it, and then
 * the encoder gives back exactly the bytes received (no two encodings of one route list).
 * @module
 */
import { parsePrefix } from "../src/net/prefix.ts";
import type { Route } from "../src/routing/route.ts";
import {
  decodeAnnounce,
  decodeWithdraw,
  encodeAnnounce,
  encodeWithdraw,
  WireError,
} from "../src/routing/wire.ts";
import { type LengthField, Rng, type Seed } from "./mutator.ts";
import { ContractViolation, expectError, expectSameBytes, type FuzzTarget } from "./target.ts";

const PREFIXES = ["::/0", "fc00::/7", "2001:db8:1::/48", "fd00:1:2:3:4:5:6:7/128", "fd00::/9"];

/** Where the count, prefix-length and hop-count fields of a valid payload are. */
function fieldsOf(p: Uint8Array, announce: boolean): LengthField[] {
  const out: LengthField[] = [{ offset: 1, width: 2, value: (p[1] << 8) | p[2] }];
  let at = 3;
  while (at < p.length) {
    out.push({ offset: at, width: 1, value: p[at] });
    at += 1 + ((p[at] + 7) >> 3);
    if (!announce) continue;
    out.push({ offset: at, width: 1, value: p[at] });
    at += 1 + 36 * p[at];
  }
  return out;
}

function check(input: Uint8Array, decodeAndEncode: () => Uint8Array[]): void {
  let encoded;
  try {
    encoded = decodeAndEncode();
  } catch (e) {
    expectError(e, [WireError]);
    return;
  }
  if (encoded.length === 0) {
    // An empty list has no payload of its own; the only valid empty payload is 01 00 00.
    if (input.length !== 3) {
      throw new ContractViolation("an empty list decoded from a long payload");
    }
    return;
  }
  if (encoded.length !== 1) throw new ContractViolation("one payload re-encoded as several");
  expectSameBytes(encoded[0], input, "route payload");
}

let seeds: Seed[] = [];

/** The route wire target. */
export const wireTarget: FuzzTarget = {
  name: "wire",
  description: "route announce/withdraw decoders (src/routing/wire.ts)",
  setup() {
    const rng = new Rng(2);
    const id = () => rng.bytes(32).toHex();
    const routes = (n: number): Route[] =>
      Array.from({ length: n }, (_, i) => ({
        prefix: parsePrefix(PREFIXES[i % PREFIXES.length]),
        path: Array.from({ length: 1 + rng.below(4) }, () => ({
          id: id(),
          latencyMs: rng.below(5_000_000) / 1000,
        })),
      }));
    const ann = [1, 2, 5].map((n) => encodeAnnounce(routes(n))[0]);
    const wd = [1, 3, 5].map((n) =>
      encodeWithdraw(PREFIXES.slice(0, n).map((p) => parsePrefix(p)))[0]
    );
    seeds = [
      ...ann.map((bytes) => ({ bytes, lengths: fieldsOf(bytes, true) })),
      ...wd.map((bytes) => ({ bytes, lengths: fieldsOf(bytes, false) })),
      { bytes: Uint8Array.of(1, 0, 0) },
    ];
    return Promise.resolve();
  },
  seeds: () => seeds,
  run(input: Uint8Array) {
    check(input, () => encodeAnnounce(decodeAnnounce(input)));
    check(input, () => encodeWithdraw(decodeWithdraw(input)));
  },
};
