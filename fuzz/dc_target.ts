/**
 * Fuzz targets: the distributed config (`src/dc`). `dc_codec` feeds protobuf mutations to
 * `decodeDc`; `dc_content` feeds JSON mutations to `parseDcContent`; `dc_verify` feeds whole
 * DCs to `verifyDc`, mutating the protobuf, or the certificate or content inside a correctly
 * framed message. The only refusal is a {@link DcError}.
 * @module
 */
import { decodeDc, encodeDc } from "../src/dc/codec.ts";
import { parseDcContent } from "../src/dc/content.ts";
import { DcError } from "../src/dc/errors.ts";
import { verifyDc } from "../src/dc/verify.ts";
import { derLengthFields, type Fixtures, fixtures } from "./fixtures.ts";
import { mutateJson } from "./json_mutator.ts";
import { mutate, type Rng, type Seed } from "./mutator.ts";
import { ContractViolation, expectError, type FuzzTarget } from "./target.ts";

let fx: Fixtures;
let dcSeeds: Seed[] = [];
let contentSeeds: Seed[] = [];
let certSeeds: Seed[] = [];

async function setup(): Promise<void> {
  fx = await fixtures();
  dcSeeds = fx.dcs.map((d) => ({ bytes: d.bytes }));
  contentSeeds = fx.contents.map((bytes) => ({ bytes }));
  certSeeds = fx.dcs.map((d) => decodeDc(d.bytes).certificate).map((bytes) => ({
    bytes,
    lengths: derLengthFields(bytes),
  }));
}

/** `decodeDc`. */
export const dcCodecTarget: FuzzTarget = {
  name: "dc_codec",
  description: "DistributedConfig protobuf decodeDc (src/dc/codec.ts)",
  setup,
  seeds: () => dcSeeds,
  run(input: Uint8Array) {
    let m;
    try {
      m = decodeDc(input);
    } catch (e) {
      expectError(e, [DcError]);
      return;
    }
    if (m.certificate.length + m.content.length > input.length) {
      throw new ContractViolation("decoded fields are longer than the message");
    }
    if (m.unknownFields.length === 0 && m.version !== 0) {
      const again = decodeDc(encodeDc(m));
      if (again.version !== m.version || again.content.length !== m.content.length) {
        throw new ContractViolation("decode(encode(decode(x))) differs from decode(x)");
      }
    }
  },
};

/** `parseDcContent`. */
export const dcContentTarget: FuzzTarget = {
  name: "dc_content",
  description: "DC content JSON parseDcContent (src/dc/content.ts)",
  setup,
  seeds: () => contentSeeds,
  mutate: mutateJson,
  run(input: Uint8Array) {
    try {
      parseDcContent(input);
    } catch (e) {
      expectError(e, [DcError]);
    }
  },
};

/** `verifyDc`. */
export const dcVerifyTarget: FuzzTarget = {
  name: "dc_verify",
  description: "whole DCs into verifyDc with a real CA (src/dc/verify.ts)",
  setup,
  seeds: () => dcSeeds,
  mutate(rng: Rng, seeds: readonly Seed[]): Uint8Array {
    const which = rng.below(3);
    if (which === 0) return mutate(rng, seeds);
    const m = decodeDc(rng.pick(seeds).bytes);
    const changed = which === 1
      ? { ...m, certificate: mutate(rng, certSeeds) }
      : { ...m, content: mutateJson(rng, contentSeeds) };
    // Over 1 MiB the encoder refuses; the decoder's own size check is reached by `mutate`.
    return changed.certificate.length + changed.content.length > 1_000_000
      ? mutate(rng, seeds)
      : encodeDc(changed);
  },
  async run(input: Uint8Array) {
    for (const trust of [fx.trust, fx.trustEcdsa]) {
      try {
        await verifyDc(input, trust);
      } catch (e) {
        expectError(e, [DcError]);
      }
    }
  },
};
