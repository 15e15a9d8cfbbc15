/**
 * Runs the openssl command line in a temp dir, to make certificates the way the Go vmesh's
 * scripts (and operators) do: v1 certificates without extensions, SEC1 EC keys, RSA, Ed25519.
 * @module
 */
import { sha256Hex } from "../../src/dc/mod.ts";

/** True when an `openssl` binary is on PATH. */
export async function hasOpenssl(): Promise<boolean> {
  try {
    const out = await new Deno.Command("openssl", {
      args: ["version"],
      stdout: "null",
      stderr: "null",
    })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

const haveOpenssl = await hasOpenssl();

/**
 * Registers a test that gets a fresh {@linkcode OpensslDir} (removed afterwards); ignored when
 * no `openssl` binary is on PATH.
 */
export function opensslTest(name: string, fn: (o: OpensslDir) => Promise<void>): void {
  Deno.test({
    name,
    ignore: !haveOpenssl,
    async fn() {
      const o = await OpensslDir.create();
      try {
        await fn(o);
      } finally {
        await o.cleanup();
      }
    },
  });
}

/** A scratch directory where openssl commands run. */
export class OpensslDir {
  private constructor(readonly dir: string) {}

  static async create(): Promise<OpensslDir> {
    return new OpensslDir(await Deno.makeTempDir({ prefix: "vmesh-openssl-" }));
  }

  /** Path of a file in the directory. */
  path(name: string): string {
    return `${this.dir}/${name}`;
  }

  /** Runs `openssl ...args` in the directory; throws with stderr on failure. */
  async run(...args: string[]): Promise<string> {
    const out = await new Deno.Command("openssl", { args, cwd: this.dir, stdin: "null" }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (!out.success) {
      throw new Error(`openssl ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
    }
    return text;
  }

  /** Reads a file of the directory as text. */
  read(name: string): Promise<string> {
    return Deno.readTextFile(this.path(name));
  }

  /** Writes a file into the directory. */
  write(name: string, text: string | Uint8Array): Promise<void> {
    return typeof text === "string"
      ? Deno.writeTextFile(this.path(name), text)
      : Deno.writeFile(this.path(name), text);
  }

  /** Generates a key: "ed25519", "p256" (SEC1 via ecparam, as the Go scripts), "p384", "rsa". */
  async genKey(name: string, kind: "ed25519" | "p256" | "p384" | "rsa"): Promise<void> {
    if (kind === "ed25519") await this.run("genpkey", "-algorithm", "ed25519", "-out", name);
    else if (kind === "p256") {
      await this.run("ecparam", "-name", "prime256v1", "-genkey", "-out", name);
    } else if (kind === "p384") {
      await this.run("ecparam", "-name", "secp384r1", "-genkey", "-out", name);
    } else {await this.run(
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        name,
      );}
  }

  /** Self-signed v3 CA (`openssl req -x509`), with optional `-addext` values. */
  async caV3(
    prefix: string,
    kind: Parameters<OpensslDir["genKey"]>[1],
    cn: string,
    addext: string[] = [],
  ) {
    await this.genKey(`${prefix}.key`, kind);
    await this.run(
      "req",
      "-x509",
      "-key",
      `${prefix}.key`,
      "-subj",
      `/CN=${cn}`,
      "-days",
      "30",
      ...addext.flatMap((e) => ["-addext", e]),
      "-out",
      `${prefix}.crt`,
    );
  }

  /**
   * A DistributedConfig file made as the Go `vnconfigsign` makes it, with openssl and a
   * hand-assembled protobuf: a fresh P-256 key, a certificate from CA `<ca>` (default "ca")
   * with serial 0, keyUsage digitalSignature and the URI SANs `uris` (default the one
   * `vnet-conf://<sha256(content)>`).
   */
  async goToolDc(
    content: Uint8Array,
    opts: { uris?: string[]; ca?: string } = {},
  ): Promise<Uint8Array> {
    const hash = await sha256Hex(content);
    const uris = opts.uris ?? [`vnet-conf://${hash}`];
    const ca = opts.ca ?? "ca";
    await this.genKey("dc.key", "p256");
    await this.run("req", "-new", "-key", "dc.key", "-subj", "/O=dc", "-out", "dc.csr");
    const san = uris.length
      ? `subjectAltName=critical,${uris.map((u) => `URI:${u}`).join(",")}\n`
      : "";
    await this.write("dc.ext", `keyUsage=critical,digitalSignature\n${san}`);
    await this.run(
      "x509",
      "-req",
      "-in",
      "dc.csr",
      "-CA",
      `${ca}.crt`,
      "-CAkey",
      `${ca}.key`,
      "-set_serial",
      "0",
      "-days",
      "365",
      "-extfile",
      "dc.ext",
      "-outform",
      "DER",
      "-out",
      "dc.der",
    );
    const cert = await Deno.readFile(this.path("dc.der"));
    return pb([[1, 0, 1], [2, 2, cert], [3, 2, content]]);
  }

  /** Self-signed v1 CA (CSR then `openssl x509 -req -key`): no extensions at all. */
  async caV1(prefix: string, kind: Parameters<OpensslDir["genKey"]>[1], cn: string) {
    await this.genKey(`${prefix}.key`, kind);
    await this.run(
      "req",
      "-new",
      "-key",
      `${prefix}.key`,
      "-subj",
      `/CN=${cn}`,
      "-out",
      `${prefix}.csr`,
    );
    await this.run(
      "x509",
      "-req",
      "-in",
      `${prefix}.csr`,
      "-key",
      `${prefix}.key`,
      "-days",
      "30",
      "-out",
      `${prefix}.crt`,
    );
  }

  /**
   * Node certificate as the Go vmesh's sign_node.sh makes it: CSR, then
   * `openssl x509 -req -CA -CAkey -CAcreateserial` (v1, no SAN). `extfile` text adds v3
   * extensions instead.
   */
  async node(
    prefix: string,
    ca: string,
    kind: Parameters<OpensslDir["genKey"]>[1],
    cn: string,
    extfile?: string,
  ) {
    await this.genKey(`${prefix}.key`, kind);
    await this.run(
      "req",
      "-new",
      "-key",
      `${prefix}.key`,
      "-subj",
      `/CN=${cn}`,
      "-out",
      `${prefix}.csr`,
    );
    const ext: string[] = [];
    if (extfile !== undefined) {
      await this.write(`${prefix}.ext`, extfile);
      ext.push("-extfile", `${prefix}.ext`);
    }
    await this.run(
      "x509",
      "-req",
      "-in",
      `${prefix}.csr`,
      "-CA",
      `${ca}.crt`,
      "-CAkey",
      `${ca}.key`,
      "-CAcreateserial",
      "-days",
      "30",
      ...ext,
      "-out",
      `${prefix}.crt`,
    );
  }

  /** Removes the directory. */
  async cleanup(): Promise<void> {
    await Deno.remove(this.dir, { recursive: true });
  }
}

/**
 * A protobuf message from (field number, wire type, value) triples: wire type 0 takes a
 * number (varint), 2 takes bytes (length-delimited). For building DCs by hand.
 */
export function pb(fields: [number, number, number | Uint8Array][]): Uint8Array {
  const out: number[] = [];
  const varint = (n: number) => {
    while (n >= 0x80) {
      out.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
  };
  for (const [no, wt, v] of fields) {
    varint(no * 8 + wt);
    if (typeof v === "number") varint(v);
    else {
      varint(v.length);
      out.push(...v);
    }
  }
  return new Uint8Array(out);
}
