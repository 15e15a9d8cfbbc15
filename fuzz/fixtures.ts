/**
 * Valid certificates and DCs made by the project's own issuers, shared by the certificate
 * and DC targets: two CAs (Ed25519, ECDSA P-256), node certificates of both kinds, pinned
 * self-signed externals, an expired certificate and signed DCs. Made once per process.
 * @module
 */
import { signDc } from "../src/dc/sign.ts";
import type { TrustStore } from "../src/pki/trust.ts";
import { makeTestPki } from "../tests/_harness/pki.ts";
import type { LengthField } from "./mutator.ts";

/** What the certificate and DC targets start from. */
export interface Fixtures {
  /** Trust store: our Ed25519 CA, with the externals pinned. */
  trust: TrustStore;
  /** Trust store of the ECDSA CA. */
  trustEcdsa: TrustStore;
  /** DER certificates: CAs, nodes, externals, expired, foreign. */
  certs: Uint8Array[];
  /** Signed DistributedConfig protobufs (both CAs). */
  dcs: { bytes: Uint8Array; ecdsa: boolean }[];
  /** DC content documents. */
  contents: Uint8Array[];
}

let cached: Promise<Fixtures> | undefined;

const enc = new TextEncoder();

/** DC content seeds. */
const CONTENTS = [
  { prefix_whitelist: { "a.vnet.test": ["fd00:1::/32,max_prefix_len=48"] } },
  {
    prefix_whitelist: { "a.vnet.test": ["::/0"], "b.vnet.test": ["fd00:2::/48", "fd00:3::1/128"] },
  },
  { prefix_whitelist: {}, future: 1 },
  { prefix_whitelist: { "x.partner": ["2001:db8::/32,max_prefix_len=64,other"] } },
];

async function make(): Promise<Fixtures> {
  const pki = await makeTestPki();
  const pkiEc = await makeTestPki({ algorithm: "ecdsa-p256" });
  const a = await pki.issue("a");
  const b = await pkiEc.issue("b");
  const ext = await pki.selfSigned("x.partner.example");
  const trust = await pki.trustWith([ext]);
  const contents = CONTENTS.map((c) => enc.encode(JSON.stringify(c)));
  const dcs = [];
  for (const [i, content] of contents.entries()) {
    const p = i % 2 === 0 ? pki : pkiEc;
    const s = await signDc({ caCertPem: p.ca.certPem, caKeyPem: p.ca.keyPem, content });
    dcs.push({ bytes: s.bytes, ecdsa: p === pkiEc });
  }
  const caDer = (pem: string) =>
    Uint8Array.fromBase64(pem.replace(/-----[^-]+-----/g, "").replace(/\s/g, ""));
  return {
    trust,
    trustEcdsa: pkiEc.trust,
    certs: [
      a.certDer,
      b.certDer,
      ext.certDer,
      pki.expired.certDer,
      (await pki.foreign.issue("f")).certDer,
      caDer(pki.ca.certPem),
      caDer(pkiEc.ca.certPem),
    ],
    dcs,
    contents,
  };
}

/** The shared fixtures (made on first use). */
export function fixtures(): Promise<Fixtures> {
  return cached ??= make();
}

/**
 * The length fields of every DER TLV in `der` (short and long form), so the mutator can set
 * them to 0, the maximum or off by one. Stops quietly at anything it cannot walk.
 */
export function derLengthFields(der: Uint8Array): LengthField[] {
  const out: LengthField[] = [];
  const walk = (start: number, end: number, depth: number) => {
    let at = start;
    while (at + 2 <= end && depth < 20) {
      const tag = der[at];
      const first = der[at + 1];
      let len = first, hdr = 2;
      if (first & 0x80) {
        const n = first & 0x7f;
        if (n < 1 || n > 3 || at + 2 + n > end) return;
        len = 0;
        for (let i = 0; i < n; i++) len = len * 256 + der[at + 2 + i];
        out.push({ offset: at + 2, width: n as 1 | 2 | 3, value: len });
        hdr = 2 + n;
      } else {
        out.push({ offset: at + 1, width: 1, value: len });
      }
      if (at + hdr + len > end) return;
      if (tag & 0x20) walk(at + hdr, at + hdr + len, depth + 1); // constructed
      else if (tag === 0x03 && len > 1 && der[at + hdr] === 0) {
        walk(at + hdr + 1, at + hdr + len, depth + 1);
      } else if (tag === 0x04) walk(at + hdr, at + hdr + len, depth + 1);
      at += hdr + len;
    }
  };
  walk(0, der.length, 0);
  return out;
}
