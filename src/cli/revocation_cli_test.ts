/**
 * The revocation commands: `vmesh cert fingerprint` against openssl's own computation of the
 * same value (Ed25519, ECDSA P-256 and RSA certificates) and its errors; `vmesh sign` and
 * `vmesh dc show` with `revoked_keys` and `revoked_names`.
 */
import { assertEquals, assertStringIncludes } from "../../tests/_harness/assert.ts";
import { hasOpenssl, OpensslDir } from "../../tests/_harness/openssl.ts";
import { vmeshIn as vmesh } from "../../tests/_harness/vmesh_cli.ts";

/** `openssl x509 -pubkey -noout -in c.pem | openssl pkey -pubin -outform DER | sha256sum`. */
async function opensslFingerprint(dir: string, pem: string): Promise<string> {
  const out = await new Deno.Command("bash", {
    args: [
      "-c",
      `set -o pipefail; openssl x509 -pubkey -noout -in "${pem}" | ` +
      "openssl pkey -pubin -outform DER | sha256sum",
    ],
    cwd: dir,
    stdin: "null",
  }).output();
  if (!out.success) {
    throw new Error(`openssl pipeline failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout).split(/\s/)[0];
}

Deno.test({
  name: "vmesh cert fingerprint prints what openssl computes, for Ed25519, P-256 and RSA keys",
  ignore: !(await hasOpenssl()),
  async fn() {
    const o = await OpensslDir.create();
    try {
      const d = o.dir;
      await o.caV3("ca", "ed25519", "vnet.example.com");
      await o.node("rsa", "ca", "rsa", "r.vnet.example.com");
      await o.node("p256", "ca", "p256", "p.vnet.example.com");
      // vmesh's own certificates: Ed25519 (default) and ECDSA P-256.
      let r = await vmesh(d, "cert", "ca", "--name", "vnet.test", "--out", "vca");
      assertEquals(r.code, 0, r.stderr);
      r = await vmesh(d, "cert", "node", "--ca", "vca", "--name", "e.vnet.test", "--out", "ed");
      assertEquals(r.code, 0, r.stderr);
      r = await vmesh(
        d,
        "cert",
        "node",
        "--ca",
        "vca",
        "--name",
        "f.vnet.test",
        "--out",
        "ec",
        "--algorithm",
        "ecdsa-p256",
      );
      assertEquals(r.code, 0, r.stderr);
      const seen = new Set<string>();
      for (const f of ["ed.crt", "ec.crt", "p256.crt", "rsa.crt", "ca.crt"]) {
        const want = await opensslFingerprint(d, f);
        assertEquals(want.length, 64, f);
        r = await vmesh(d, "cert", "fingerprint", f);
        assertEquals(r.code, 0, `${f}: ${r.stderr}`);
        assertEquals(r.stdout, `${want}\n`, f);
        seen.add(want);
      }
      assertEquals(seen.size, 5, "every key has its own fingerprint");
      // A DER file gives the same value.
      await o.run("x509", "-in", "rsa.crt", "-outform", "DER", "-out", "rsa.der");
      r = await vmesh(d, "cert", "fingerprint", "rsa.der");
      assertEquals(r.stdout, `${await opensslFingerprint(d, "rsa.crt")}\n`);
    } finally {
      await o.cleanup();
    }
  },
});

Deno.test("vmesh cert fingerprint: clear errors for a missing file, a key, garbage and no argument", async () => {
  const d = await Deno.makeTempDir({ prefix: "vmesh-fp-" });
  try {
    let r = await vmesh(d, "cert", "fingerprint", "nope.pem");
    assertEquals(r.code, 1);
    assertStringIncludes(r.stderr, "cannot read certificate nope.pem");
    r = await vmesh(d, "cert", "ca", "--name", "vnet.test", "--out", "ca");
    assertEquals(r.code, 0, r.stderr);
    r = await vmesh(d, "cert", "fingerprint", "ca.key");
    assertEquals(r.code, 1);
    assertStringIncludes(r.stderr, 'ca.key: holds no "BEGIN CERTIFICATE" block');
    await Deno.writeTextFile(`${d}/junk.crt`, "hello, not a certificate\n");
    r = await vmesh(d, "cert", "fingerprint", "junk.crt");
    assertEquals(r.code, 1);
    assertStringIncludes(r.stderr, "junk.crt: not a certificate");
    await Deno.writeTextFile(
      `${d}/bad.crt`,
      "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
    );
    r = await vmesh(d, "cert", "fingerprint", "bad.crt");
    assertEquals(r.code, 1);
    assertStringIncludes(r.stderr, "bad.crt: not a PEM certificate");
    // A huge file (or a device such as /dev/zero) is not read whole.
    await Deno.writeFile(`${d}/huge.crt`, new Uint8Array(1024 * 1024 + 1));
    r = await vmesh(d, "cert", "fingerprint", "huge.crt");
    assertEquals(r.code, 1);
    assertStringIncludes(r.stderr, "huge.crt: over 1048576 bytes, not a certificate");
    r = await vmesh(d, "cert", "fingerprint", "/dev/zero");
    assertEquals(r.code, 1);
    assertStringIncludes(r.stderr, "over 1048576 bytes");
    r = await vmesh(d, "cert", "fingerprint");
    assertEquals(r.code, 2);
    assertStringIncludes(r.stderr, "missing the certificate file");
  } finally {
    await Deno.remove(d, { recursive: true });
  }
});

Deno.test("vmesh sign carries revoked_keys and revoked_names through, dc show lists them, a bad entry is refused by name", async () => {
  const d = await Deno.makeTempDir({ prefix: "vmesh-rv-" });
  try {
    let r = await vmesh(d, "cert", "ca", "--name", "vnet.test", "--out", "ca");
    assertEquals(r.code, 0, r.stderr);
    r = await vmesh(d, "cert", "node", "--ca", "ca", "--name", "c.vnet.test", "--out", "c");
    assertEquals(r.code, 0, r.stderr);
    const key = (await vmesh(d, "cert", "fingerprint", "c.crt")).stdout.trim();
    const content = JSON.stringify({ revoked_keys: [key], revoked_names: ["d.vnet.test"] });
    await Deno.writeTextFile(`${d}/dc.json`, content);
    r = await vmesh(
      d,
      "sign",
      "--ca-cert",
      "ca.crt",
      "--ca-key",
      "ca.key",
      "--config",
      "dc.json",
      "--out",
      "dc.bin",
    );
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stderr, "", "no warning: both keys are known");
    r = await vmesh(d, "dc", "show", "dc.bin", "--ca", "ca.crt");
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, `revoked keys:\n  ${key}\n`);
    assertStringIncludes(r.stdout, "revoked names:\n  d.vnet.test\n");
    r = await vmesh(d, "dc", "show", "dc.bin", "--ca", "ca.crt", "--json");
    const j = JSON.parse(r.stdout);
    assertEquals([j.revoked_keys, j.revoked_names], [[key], ["d.vnet.test"]]);

    await Deno.writeTextFile(
      `${d}/bad.json`,
      JSON.stringify({ revoked_keys: [key, "c.vnet.test"] }),
    );
    r = await vmesh(
      d,
      "sign",
      "--ca-cert",
      "ca.crt",
      "--ca-key",
      "ca.key",
      "--config",
      "bad.json",
      "--out",
      "bad.bin",
    );
    assertEquals(r.code, 1);
    assertStringIncludes(r.stderr, 'revoked_keys[1]: "c.vnet.test" is not a key fingerprint');
  } finally {
    await Deno.remove(d, { recursive: true });
  }
});
