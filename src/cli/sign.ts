/**
 * `vmesh sign`: sign a distributed config, as the Go vmesh's `vnconfigsign` does.
 * @module
 */
import { join } from "node:path";
import { DcError, parseDcContent, signDc } from "../dc/mod.ts";
import {
  CliFailure,
  type Command,
  Exit,
  help,
  parse,
  readTextFor,
  required,
  writeFiles,
} from "./common.ts";

/** `vmesh sign`. */
export const sign: Command = {
  name: "sign",
  summary: "sign a distributed config (DC) JSON file with the CA",
  help: `Usage: vmesh sign --ca-cert <crt> --ca-key <key> --config <dc.json> [options]

Signs the distributed config <dc.json> with the CA and writes the binary DC, byte-compatible
with the Go vmesh's vnconfigsign, to <out-dir>/dconf-YYYY-MM-DD-HH-MM-SS.bin (UTC). Prints the
path written. The JSON is checked first and signed exactly as given.

Options:
  --ca-cert <crt>      the CA certificate (PEM)
  --ca-key <key>       the CA private key (PEM)
  --config <dc.json>   the DC content, e.g. {"prefix_whitelist": {"a.vnet.example.com": ["2001:db8:1::/48"]}}
  --out-dir <dir>      output directory (default distributed-config; created if missing)
  --out <file>         exact output file instead of <out-dir>/dconf-*.bin
  --force              overwrite an existing output file
  -h, --help           show this help

Go-style single-dash flags (-ca-cert, -config=...) are accepted too.`,
  async run(args) {
    const { values } = parse(args, {
      "ca-cert": { type: "string" },
      "ca-key": { type: "string" },
      config: { type: "string" },
      "out-dir": { type: "string" },
      out: { type: "string" },
      force: { type: "boolean" },
    });
    if (values.help) return help(this);
    const caCertPath = required(values["ca-cert"], "--ca-cert");
    const caKeyPath = required(values["ca-key"], "--ca-key");
    const configPath = required(values.config, "--config");
    let content: Uint8Array;
    try {
      content = await Deno.readFile(configPath);
    } catch (e) {
      throw new CliFailure(`cannot read DC config ${configPath}: ${(e as Error).message}`);
    }
    try {
      const parsed = parseDcContent(content);
      for (const w of parsed.warnings) console.error(`warning: ${configPath}: ${w}`);
    } catch (e) {
      if (e instanceof DcError) throw new CliFailure(`${configPath}: ${e.message}`);
      throw e;
    }
    const signed = await signDc({
      caCertPem: await readTextFor(caCertPath, "CA certificate"),
      caKeyPem: await readTextFor(caKeyPath, "CA key"),
      content,
    });
    let out = values.out;
    if (out === undefined) {
      const dir = values["out-dir"] ?? "distributed-config";
      await Deno.mkdir(dir, { recursive: true });
      out = join(dir, signed.fileName);
    }
    await writeFiles([{ path: out, data: signed.bytes, mode: 0o644 }], values.force ?? false);
    console.log(out);
    return Exit.ok;
  },
};
