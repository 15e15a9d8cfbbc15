import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/_harness/assert.ts";
import { assertBytes } from "../../tests/_harness/bytes.ts";
import { makeTestPki } from "../../tests/_harness/pki.ts";
import { hasOpenssl, OpensslDir, pb } from "../../tests/_harness/openssl.ts";
import { formatPrefix } from "../net/mod.ts";
import { createCa, parseCertificate, trustStoreFromPem } from "../pki/mod.ts";
import {
  compareDc,
  DcError,
  dcFileName,
  decodeDc,
  decodeDcOffer,
  encodeDc,
  encodeDcOffer,
  isNewer,
  MAX_DC_BYTES,
  NO_DC_OFFER,
  parseDcContent,
  sha256Hex,
  signDc,
  verifyDc,
} from "./mod.ts";

const pki = await makeTestPki();
const enc = new TextEncoder();
const CONTENT = enc.encode(
  JSON.stringify({ prefix_whitelist: { "a.vnet.test": ["fd00:1::/32,max_prefix_len=48"] } }),
);

/** A CA valid 2025..2035, for tests that sign at fixed dates. */
const oldCa = await createCa({ name: "vnet.test", now: new Date("2025-01-01T00:00:00Z") });
const oldTrust = await trustStoreFromPem(oldCa.certPem);

async function sign(content = CONTENT, now?: Date) {
  const ca = now ? oldCa : pki.ca;
  return await signDc({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, content, now });
}

async function reason(p: Promise<unknown>): Promise<string> {
  return ((await assertRejects(() => p, DcError)) as DcError).reason;
}

/** Minimal protobuf assembly, independent of the codec under test. */

Deno.test("signDc() makes a DC that verifyDc() accepts, with Go's certificate fields", async () => {
  const now = new Date("2026-03-04T05:06:07.890Z");
  const s = await sign(CONTENT, now);
  assertEquals(s.fileName, "dconf-2026-03-04-05-06-07.bin");
  assertEquals(s.notBefore.toISOString(), "2026-03-04T05:06:07.000Z");
  const v = await verifyDc(s.bytes, oldTrust, new Date("2026-06-01T00:00:00Z"));
  assertEquals(v.version, 1);
  assertEquals(v.contentHash, await sha256Hex(CONTENT));
  assertEquals(v.notAfter.toISOString(), "2027-03-04T05:06:07.000Z");
  const entries = v.content.prefixWhitelist.get("a.vnet.test")!;
  assertEquals(entries.map((e) => [formatPrefix(e.prefix), e.maxPrefixLen]), [["fd00:1::/32", 48]]);
  assertEquals(v.warnings, []);
  const m = decodeDc(s.bytes);
  const c = parseCertificate(m.certificate);
  assertEquals([...c.serial], [0]);
  assertEquals(c.cn, undefined);
  assertEquals(c.uriSans, [`vnet-conf://${v.contentHash}`]);
  assertEquals(c.keyUsage?.[0], true);
  assertEquals(c.keyAlgorithm.oid, "1.2.840.10045.2.1");
  // Bytes on the wire: field 1 varint 1, then certificate, then content.
  assertEquals([...s.bytes.subarray(0, 3)], [0x08, 0x01, 0x12]);
});

Deno.test("signDc() works with an ECDSA P-256 CA (the Go scripts' kind)", async () => {
  const p = await makeTestPki({ algorithm: "ecdsa-p256" });
  const s = await signDc({ caCertPem: p.ca.certPem, caKeyPem: p.ca.keyPem, content: CONTENT });
  const v = await verifyDc(s.bytes, p.ca.certPem);
  assertEquals(v.contentHash, s.contentHash);
});

Deno.test("dcFileName() pads like vnconfigsign", () => {
  assertEquals(dcFileName(new Date("2031-01-02T03:04:05Z")), "dconf-2031-01-02-03-04-05.bin");
});

Deno.test("verifyDc() refuses a DC signed by another CA, and when our CA has expired", async () => {
  const other = await signDc({
    caCertPem: pki.foreign.ca.certPem,
    caKeyPem: pki.foreign.ca.keyPem,
    content: CONTENT,
  });
  assertEquals(await reason(verifyDc(other.bytes, pki.trust)), "bad_certificate");
  const s = await sign();
  const e = await assertRejects(
    () => verifyDc(s.bytes, pki.trust, new Date(Date.now() + 3700 * 86_400_000)),
    DcError,
    "expired",
  );
  assertEquals((e as DcError).reason, "bad_certificate");
  assertEquals(
    await reason(verifyDc(s.bytes, pki.trust, new Date(Date.now() - 86_400_000))),
    "bad_certificate",
  );
});

Deno.test("verifyDc() refuses tampered content and a tampered certificate", async () => {
  const s = await sign();
  const m = decodeDc(s.bytes);
  const content = enc.encode(JSON.stringify({ prefix_whitelist: { "a.vnet.test": ["::/0"] } }));
  const tampered = encodeDc({ version: 1, certificate: m.certificate, content });
  assertEquals(await reason(verifyDc(tampered, pki.trust)), "hash_mismatch");
  const cert = m.certificate.slice();
  cert[cert.length - 3] ^= 1;
  const badSig = encodeDc({ version: 1, certificate: cert, content: m.content });
  assertEquals(await reason(verifyDc(badSig, pki.trust)), "bad_certificate");
});

Deno.test("verifyDc() refuses a wrong version and a missing certificate", async () => {
  const s = await sign();
  const m = decodeDc(s.bytes);
  for (const version of [0, 2]) {
    const b = encodeDc({ version, certificate: m.certificate, content: m.content });
    assertEquals(await reason(verifyDc(b, pki.trust)), "unsupported_version");
  }
  const none = encodeDc({ version: 1, certificate: new Uint8Array(), content: m.content });
  assertEquals(await reason(verifyDc(none, pki.trust)), "bad_certificate");
});

Deno.test("decodeDc() refuses truncated, garbage, duplicate, mistyped and oversize input", async () => {
  const s = await sign();
  for (let n = 1; n < s.bytes.length; n += 11) {
    // Every strict prefix either fails to decode or fails verification.
    await assertRejects(() => verifyDc(s.bytes.subarray(0, n), pki.trust), DcError);
  }
  const bad = [
    new Uint8Array([0x12, 0x05, 1, 2]), // length past the end
    new Uint8Array([0x08]), // varint missing
    new Uint8Array([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
    new Uint8Array([0x00, 0x01]), // field 0
    new Uint8Array([0x0f]), // wire type 7
    pb([[1, 2, new Uint8Array([1])]]), // version as bytes
    pb([[2, 0, 5]]), // certificate as varint
    pb([[1, 0, 1], [1, 0, 1]]), // version twice
    pb([[3, 2, enc.encode("{}")], [3, 2, enc.encode("{}")]]), // content twice
  ];
  for (const b of bad) {
    const e = assertThrows(() => decodeDc(b), DcError);
    assertEquals((e as DcError).reason, "malformed", `${[...b]}: ${e.message}`);
  }
  for (let i = 0; i < 200; i++) {
    const junk = crypto.getRandomValues(new Uint8Array(1 + (i % 64)));
    try {
      decodeDc(junk);
    } catch (e) {
      assert(e instanceof DcError, `random input threw ${e}`);
    }
    await assertRejects(() => verifyDc(junk, pki.trust), DcError);
  }
  const big = new Uint8Array(MAX_DC_BYTES + 1);
  assertEquals((assertThrows(() => decodeDc(big), DcError) as DcError).reason, "oversize");
  await assertRejects(
    () => signDc({ caCertPem: pki.ca.certPem, caKeyPem: pki.ca.keyPem, content: big }),
    RangeError,
  );
});

Deno.test("decodeDc() skips unknown fields, and verifyDc() reports them as warnings", async () => {
  const s = await sign();
  const withExtra = new Uint8Array([...s.bytes, ...pb([[9, 0, 7], [10, 2, enc.encode("x")]])]);
  const m = decodeDc(withExtra);
  assertEquals(m.unknownFields, [9, 10]);
  const v = await verifyDc(withExtra, pki.trust);
  assertEquals(v.warnings.filter((w) => w.startsWith("unknown protobuf field")).length, 2);
});

Deno.test("verifyDc() gives a padded or reordered DC back in canonical form, which still verifies", async () => {
  const s = await sign();
  assertBytes((await verifyDc(s.bytes, pki.trust)).raw, s.bytes, "canonical input kept as is");
  const m = decodeDc(s.bytes);
  const padded = [
    // A relaying peer pads with an unknown field of 100 kB…
    new Uint8Array([...s.bytes, ...pb([[15, 2, new Uint8Array(100_000)]])]),
    // …puts unknown fields first, and reorders the known ones…
    pb([[99, 0, 1], [3, 2, m.content], [2, 2, m.certificate], [1, 0, 1]]),
    // …or writes the version varint with redundant continuation bytes.
    new Uint8Array([0x08, 0x81, 0x80, 0x80, 0x00, ...s.bytes.subarray(2)]),
  ];
  for (const [i, p] of padded.entries()) {
    const v = await verifyDc(p, pki.trust);
    assertBytes(v.raw, s.bytes, `variant ${i} re-encoded to the signer's bytes`);
    assert(v.warnings.some((w) => w.includes("canonical")), `variant ${i}: ${v.warnings}`);
    assertEquals((await verifyDc(v.raw, pki.trust)).contentHash, v.contentHash);
  }
});

Deno.test("verifyDc() refuses an expired DC unless asked to allow it, and never one not yet valid", async () => {
  const s = await sign(CONTENT, new Date("2026-01-01T00:00:00Z")); // valid until 2027-01-01
  const later = new Date("2028-06-01T00:00:00Z");
  assertEquals(await reason(verifyDc(s.bytes, oldTrust, later)), "bad_certificate");
  const v = await verifyDc(s.bytes, oldTrust, later, { allowExpired: true });
  assertEquals(v.notAfter.toISOString(), "2027-01-01T00:00:00.000Z");
  const early = new Date("2025-06-01T00:00:00Z");
  assertEquals(
    await reason(verifyDc(s.bytes, oldTrust, early, { allowExpired: true })),
    "bad_certificate",
  );
  // Another CA's expired DC is still refused.
  const other = await createCa({ name: "vnet.test", now: new Date("2025-01-01T00:00:00Z") });
  assertEquals(
    await reason(verifyDc(s.bytes, await trustStoreFromPem(other.certPem), later, {
      allowExpired: true,
    })),
    "bad_certificate",
  );
});

Deno.test("parseDcContent() reads the whitelist and reports unknown keys and options", () => {
  const c = parseDcContent(enc.encode(JSON.stringify({
    prefix_whitelist: {
      "a.vnet.test": ["2001:db8::/32", "fd00::/8,max_prefix_len=64,future=1"],
      "b.vnet.test": [],
      "c.vnet.test": ["fd00::1/64"],
    },
    something_new: true,
  })));
  const a = c.prefixWhitelist.get("a.vnet.test")!;
  assertEquals(a.map((e) => e.maxPrefixLen), [128, 64]);
  assertEquals(c.prefixWhitelist.get("b.vnet.test"), []);
  assertEquals(formatPrefix(c.prefixWhitelist.get("c.vnet.test")![0].prefix), "fd00::/64");
  assertEquals(c.warnings.length, 3, c.warnings.join("\n"));
  assertEquals(parseDcContent(enc.encode("{}")).prefixWhitelist.size, 0);
});

Deno.test("parseDcContent() refuses bad CIDRs and max_prefix_len out of range, naming the entry", () => {
  const cases: [unknown, string][] = [
    [{ prefix_whitelist: { a: ["not-a-cidr"] } }, 'prefix_whitelist["a"][0]'],
    [{ prefix_whitelist: { a: ["fd00::/8", "10.0.0.0/8"] } }, "IPv6 only"],
    [{ prefix_whitelist: { a: ["fd00::/129"] } }, "[0]"],
    [{ prefix_whitelist: { a: ["fd00::/8,max_prefix_len=200"] } }, "max_prefix_len"],
    [{ prefix_whitelist: { a: ["fd00::/8,max_prefix_len=-1"] } }, "max_prefix_len"],
    [{ prefix_whitelist: { a: ["fd00::/8,max_prefix_len=x"] } }, "max_prefix_len"],
    [{ prefix_whitelist: { a: [42] } }, "must be a string"],
    [{ prefix_whitelist: { a: "fd00::/8" } }, "array"],
    [{ prefix_whitelist: [] }, "object"],
    [[], "object"],
  ];
  for (const [json, part] of cases) {
    const e = assertThrows(() => parseDcContent(enc.encode(JSON.stringify(json))), DcError, part);
    assertEquals((e as DcError).reason, "bad_content");
  }
  assertThrows(() => parseDcContent(enc.encode("{")), DcError, "not JSON");
  assertThrows(() => parseDcContent(new Uint8Array([0x7b, 0xff, 0x7d])), DcError);
});

Deno.test("verifyDc() refuses content that is signed but invalid", async () => {
  const s = await sign(enc.encode('{"prefix_whitelist":{"a":["fd00::/8,max_prefix_len=200"]}}'));
  assertEquals(await reason(verifyDc(s.bytes, pki.trust)), "bad_content");
});

Deno.test("isNewer() and compareDc() order by NotBefore, then by content hash", async () => {
  const a = await sign(CONTENT, new Date("2026-01-01T00:00:00Z"));
  const b = await sign(CONTENT, new Date("2026-01-01T00:00:01Z"));
  const va = await verifyDc(a.bytes, oldTrust, new Date("2026-02-01T00:00:00Z"));
  const vb = await verifyDc(b.bytes, oldTrust, new Date("2026-02-01T00:00:00Z"));
  assert(isNewer(vb, va));
  assert(!isNewer(va, vb));
  assert(!isNewer(va, va));
  assert(isNewer(va, undefined));
  assert(compareDc(va, vb) < 0);
  // Same second, other content: the greater content hash is the newer, either way round.
  const c = await sign(enc.encode('{"prefix_whitelist":{}}'), new Date("2026-01-01T00:00:01.700Z"));
  const vc = await verifyDc(c.bytes, oldTrust, new Date("2026-02-01T00:00:00Z"));
  assertEquals(vc.notBefore.getTime(), vb.notBefore.getTime());
  const [lo, hi] = vb.contentHash < vc.contentHash ? [vb, vc] : [vc, vb];
  assert(isNewer(hi, lo) && !isNewer(lo, hi));
  assert(compareDc(lo, hi) < 0 && compareDc(hi, lo) > 0);
  // Offers (ms and hex) order the same way as DCs.
  assert(isNewer({ notBefore: hi.notBefore.getTime(), contentHash: hi.contentHash }, lo));
  // Same time and content (signed twice in one second): equal, neither replaces the other.
  const b2 = await sign(CONTENT, new Date("2026-01-01T00:00:01Z"));
  const vb2 = await verifyDc(b2.bytes, oldTrust, new Date("2026-02-01T00:00:00Z"));
  assertEquals(compareDc(vb, vb2), 0);
  assert(!isNewer(vb2, vb));
});

Deno.test("DC offers round-trip and refuse the wrong length and an absurd time", () => {
  const dc = { notBefore: new Date(1_700_000_000_123), contentHash: "AB".repeat(32) };
  assertEquals(decodeDcOffer(encodeDcOffer(dc)), {
    notBefore: 1_700_000_000_123,
    contentHash: "ab".repeat(32),
  });
  assertEquals(encodeDcOffer(NO_DC_OFFER), new Uint8Array(40));
  assertThrows(() => decodeDcOffer(new Uint8Array(39)), DcError);
  assertThrows(() => decodeDcOffer(new Uint8Array(41)), DcError);
  assertThrows(() => decodeDcOffer(new Uint8Array(40).fill(0xff)), DcError, "out of range");
  assertThrows(() => encodeDcOffer({ notBefore: 0, contentHash: "xyz" }), RangeError);
});

// --- DC certificates made by openssl, protobuf assembled by hand -------------------------------

Deno.test({
  name: "verifyDc() accepts a DC built with openssl as the Go tool would, and refuses bad URIs",
  ignore: !(await hasOpenssl()),
  async fn() {
    const o = await OpensslDir.create();
    try {
      await o.caV3("ca", "ed25519", "vnet.example.com");
      const caPem = await o.read("ca.crt");
      const dc = await o.goToolDc(CONTENT);
      const v = await verifyDc(dc, caPem);
      assertEquals(v.contentHash, await sha256Hex(CONTENT));
      assertEquals(v.content.prefixWhitelist.size, 1);
      const hash = await sha256Hex(CONTENT);
      const bad: [string[], string][] = [
        [[], "bad_uri"],
        [[`vnet-conf://${hash}`, `vnet-conf://${hash}`], "bad_uri"],
        [[`https://${hash}`], "bad_uri"],
        [[`vnet-conf://${hash.slice(0, 60)}zzzz`], "bad_uri"],
        [[`vnet-conf://${"0".repeat(64)}`], "hash_mismatch"],
      ];
      for (const [uris, why] of bad) {
        assertEquals(
          await reason(verifyDc(await o.goToolDc(CONTENT, { uris }), caPem)),
          why,
          uris.join(),
        );
      }
      // Upper-case hex is accepted, as Go's hex.DecodeString does.
      const upper = await o.goToolDc(CONTENT, { uris: [`vnet-conf://${hash.toUpperCase()}`] });
      assertEquals((await verifyDc(upper, caPem)).contentHash, hash);
    } finally {
      await o.cleanup();
    }
  },
});
