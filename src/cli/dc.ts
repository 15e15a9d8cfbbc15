/**
 * `vmesh dc show`: verify a distributed-config file and print what it says.
 * @module
 */
import { DcError, dcToJson, type VerifiedDc, verifyDc } from "../dc/mod.ts";
import { CertificateError, loadTrustStore } from "../pki/mod.ts";
import { CliFailure, type Command, Exit, help, parse, required, UsageError } from "./common.ts";

/** Text lines for a DC in the {@link dcToJson} form (`dc show`, `dc current`). */
export function dcText(j: Record<string, unknown>): string[] {
  const wl = (j.prefix_whitelist ?? {}) as Record<
    string,
    { prefix: string; max_prefix_len: number }[]
  >;
  const lines = [
    `file:            ${j.file}`,
    `valid:           yes (version ${j.version})`,
    `signed at:       ${j.signed_at}`,
    `cert expires:    ${j.cert_expires}${
      j.expired === true
        ? "  EXPIRED: still enforced until a newer DC arrives"
        : j.expiry_warning === true
        ? "  (within 30 days: sign a new DC)"
        : ""
    }`,
    `content sha256:  ${j.content_sha256}`,
    `prefix whitelist:${Object.keys(wl).length === 0 ? " (empty)" : ""}`,
  ];
  for (const [name, entries] of Object.entries(wl)) {
    lines.push(`  ${name}:${entries.length === 0 ? " (nothing allowed)" : ""}`);
    for (const e of entries) lines.push(`    ${e.prefix}  max_prefix_len=${e.max_prefix_len}`);
  }
  const keys = (j.revoked_keys ?? []) as string[];
  const names = (j.revoked_names ?? []) as string[];
  if (keys.length > 0) lines.push("revoked keys:", ...keys.map((k) => `  ${k}`));
  if (names.length > 0) lines.push("revoked names:", ...names.map((n) => `  ${n}`));
  for (const w of (j.warnings ?? []) as string[]) lines.push(`warning: ${w}`);
  return lines;
}

/** `vmesh dc show`. */
export const dcShow: Command = {
  name: "dc show",
  summary: "verify a distributed config file and print it",
  help: `Usage: vmesh dc show <file.bin> --ca <ca.crt> [--json]

Verifies a binary distributed config (as written by vmesh sign or vnconfigsign) against the
CA: version, certificate chain and validity, the vnet-conf:// content hash, and the content.
Prints the signing time and the prefix whitelist. Exits 1 with the reason when it is invalid.

Options:
  --ca <ca.crt>        the CA certificate (PEM)
  --json               print JSON instead of text
  -h, --help           show this help`,
  async run(args) {
    const { values, positionals } = parse(args, {
      ca: { type: "string" },
      json: { type: "boolean" },
    }, { positionals: 1 });
    if (values.help) return help(this);
    const file = positionals[0];
    if (!file) throw new UsageError("missing the DC file to show");
    const caPath = required(values.ca, "--ca");
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(file);
    } catch (e) {
      throw new CliFailure(`cannot read ${file}: ${(e as Error).message}`);
    }
    let dc: VerifiedDc;
    try {
      const trust = await loadTrustStore(caPath, []);
      dc = await verifyDc(bytes, trust, new Date());
    } catch (e) {
      if (e instanceof DcError || e instanceof CertificateError) {
        if (values.json) {
          console.log(JSON.stringify({ file, valid: false, reason: e.reason, error: e.message }));
        }
        throw new CliFailure(`invalid DC ${file}: ${e.reason}: ${e.message}`);
      }
      throw e;
    }
    if (values.json) {
      console.log(JSON.stringify(dcToJson(file, dc), null, 2));
      return Exit.ok;
    }
    const lines = dcText(dcToJson(file, dc));
    console.log(lines.join("\n"));
    return Exit.ok;
  },
};
