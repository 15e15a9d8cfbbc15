/**
 * Fuzz target: certificates (DER) into `parseCertificate` and `verifyPeerCertificate`
 * (`src/pki`). The only refusal is a {@link CertificateError}; DER length fields of every
 * TLV are mutated to 0, the maximum and off by one.
 * @module
 */
import { parseCertificate } from "../src/pki/certificate.ts";
import { CertificateError } from "../src/pki/errors.ts";
import { verifyPeerCertificate } from "../src/pki/verify.ts";
import { derLengthFields, type Fixtures, fixtures } from "./fixtures.ts";
import type { Seed } from "./mutator.ts";
import { expectError, type FuzzTarget } from "./target.ts";

let fx: Fixtures;
let seeds: Seed[] = [];
const now = new Date();

/** The certificate target. */
export const certificateTarget: FuzzTarget = {
  name: "certificate",
  description: "DER certificates into parseCertificate/verifyPeerCertificate (src/pki)",
  async setup() {
    fx = await fixtures();
    seeds = fx.certs.map((bytes) => ({ bytes, lengths: derLengthFields(bytes) }));
  },
  seeds: () => seeds,
  async run(input: Uint8Array) {
    try {
      parseCertificate(input);
    } catch (e) {
      expectError(e, [CertificateError]);
      return;
    }
    for (const trust of [fx.trust, fx.trustEcdsa]) {
      try {
        await verifyPeerCertificate(input, trust, { now, localDomain: "vnet.test" });
      } catch (e) {
        expectError(e, [CertificateError]);
      }
    }
  },
};
