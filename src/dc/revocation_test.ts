/** The DC's revocation lists: parsing, bounds, and signing carries them through. */
import { assert, assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import { makeTestPki } from "../../tests/_harness/pki.ts";
import {
  DcError,
  dcToJson,
  isRevoked,
  MAX_REVOKED_KEYS,
  MAX_REVOKED_NAMES,
  NO_REVOCATION,
  parseDcContent,
  revokedBecause,
  signDc,
  verifyDc,
} from "./mod.ts";

const enc = new TextEncoder();
const K1 = "ab".repeat(32);
const K2 = "0123456789abcdef".repeat(4);
const parse = (json: unknown) => parseDcContent(enc.encode(JSON.stringify(json)));

Deno.test("parseDcContent() reads revoked_keys and revoked_names, without warnings", () => {
  const c = parse({
    prefix_whitelist: {},
    revoked_keys: [K1, K2.toUpperCase()],
    revoked_names: ["C.Vnet.Test.", "d.vnet.test"],
  });
  assertEquals([...c.revocation.keys], [K1, K2], "hex folded to lower case");
  assertEquals([...c.revocation.names], ["c.vnet.test", "d.vnet.test"], "names canonical");
  assertEquals(c.warnings, []);
  assert(isRevoked(c.revocation, K2, "x.vnet.test"));
  assert(isRevoked(c.revocation, "00".repeat(32), "c.VNET.test"));
  assert(!isRevoked(c.revocation, "00".repeat(32), "e.vnet.test"));
  assertEquals(revokedBecause(c.revocation, "00".repeat(32), "e.vnet.test"), undefined);
  assertEquals(parse({}).revocation, NO_REVOCATION);
  assertEquals(parse({ revoked_keys: null, revoked_names: [] }).revocation, NO_REVOCATION);
});

Deno.test("parseDcContent() warns about duplicate revocation entries", () => {
  const c = parse({
    revoked_keys: [K1, K1.toUpperCase()],
    revoked_names: ["c.vnet.test", "C.vnet.test"],
  });
  assertEquals(c.revocation.keys.size, 1);
  assertEquals(c.revocation.names.size, 1);
  assertEquals(c.warnings.length, 2, c.warnings.join("\n"));
  assert(c.warnings[0].startsWith("revoked_keys[1]: duplicate"));
});

Deno.test("parseDcContent() refuses bad revocation entries, naming the entry", () => {
  const cases: [unknown, string][] = [
    [{ revoked_keys: [K1, K1.slice(0, 63)] }, "revoked_keys[1]"],
    [{ revoked_keys: [K1 + "0"] }, "revoked_keys[0]"],
    [{ revoked_keys: ["zz".repeat(32)] }, "64 hex characters"],
    [{ revoked_keys: [42] }, "revoked_keys[0]: 42"],
    [{ revoked_keys: [` ${K1.slice(1)}`] }, "revoked_keys[0]"],
    [{ revoked_keys: K1 }, "revoked_keys: must be an array"],
    [{ revoked_keys: { a: K1 } }, "revoked_keys: must be an array"],
    [{ revoked_names: ["c.vnet.test", "nodots"] }, 'revoked_names[1]: "nodots"'],
    [{ revoked_names: ["bad name.vnet.test"] }, "revoked_names[0]"],
    [{ revoked_names: [""] }, "revoked_names[0]"],
    [{ revoked_names: [null] }, "revoked_names[0]: null"],
    [{ revoked_names: ["a".repeat(64) + ".vnet.test"] }, "revoked_names[0]"],
    [{ revoked_names: "c.vnet.test" }, "revoked_names: must be an array"],
  ];
  for (const [json, part] of cases) {
    const e = assertThrows(() => parse(json), DcError, part);
    assertEquals((e as DcError).reason, "bad_content");
  }
});

Deno.test("parseDcContent() bounds the revocation lists", () => {
  const keys = Array.from({ length: MAX_REVOKED_KEYS }, (_, i) => i.toString(16).padStart(64, "0"));
  assertEquals(parse({ revoked_keys: keys }).revocation.keys.size, MAX_REVOKED_KEYS);
  assertThrows(
    () => parse({ revoked_keys: [...keys, K1] }),
    DcError,
    `${MAX_REVOKED_KEYS + 1} entries, over the limit of ${MAX_REVOKED_KEYS}`,
  );
  const names = Array.from({ length: MAX_REVOKED_NAMES + 1 }, (_, i) => `n${i}.vnet.test`);
  assertThrows(() => parse({ revoked_names: names }), DcError, "over the limit");
});

Deno.test("a signed DC carries the revocation lists through verification and into its JSON view", async () => {
  const pki = await makeTestPki();
  const content = enc.encode(JSON.stringify({
    prefix_whitelist: { "a.vnet.test": ["fd00:1::/48"] },
    revoked_keys: [K1],
    revoked_names: ["c.vnet.test"],
  }));
  const s = await signDc({ caCertPem: pki.ca.certPem, caKeyPem: pki.ca.keyPem, content });
  const dc = await verifyDc(s.bytes, pki.trust);
  assertEquals(dc.contentBytes, content, "signed exactly as given");
  assertEquals([...dc.content.revocation.keys], [K1]);
  assertEquals([...dc.content.revocation.names], ["c.vnet.test"]);
  const j = dcToJson("f", dc);
  assertEquals(j.revoked_keys, [K1]);
  assertEquals(j.revoked_names, ["c.vnet.test"]);
});
