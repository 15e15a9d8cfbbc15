/**
 * The DC content: JSON `{ "prefix_whitelist": { "<node name>": ["<cidr>[,max_prefix_len=N]"] } }`,
 * as the Go vmesh reads it, plus the revocation lists (`revocation.ts`): `revoked_keys` and
 * `revoked_names`, which the Go vmesh ignores as it ignores every unknown key.
 * @module
 */
import type { PrefixWhitelist, WhitelistEntry } from "../filter/mod.ts";
import { formatPrefix, parsePrefix } from "../net/mod.ts";
import { DcError } from "./errors.ts";
import { parseRevocation, type Revocation, REVOCATION_KEYS } from "./revocation.ts";

/** The parsed DC content. */
export interface DcContent {
  /** Node name → allowed prefixes. */
  readonly prefixWhitelist: PrefixWhitelist;
  /** Revoked node keys and names (empty sets when the DC revokes nothing). */
  readonly revocation: Revocation;
  /** Things kept but not understood (unknown keys and options), or suspicious. */
  readonly warnings: readonly string[];
}

const KNOWN_TOP = new Set(["prefix_whitelist", ...REVOCATION_KEYS]);

/**
 * Parses one whitelist entry, "2001:db8::/32" or "2001:db8::/32,max_prefix_len=48".
 * Host bits set in the CIDR are cleared (as Go's net.ParseCIDR does) with a warning.
 * @throws {DcError} "bad_content" for a bad CIDR or a max_prefix_len outside 0..128.
 */
export function parseWhitelistEntry(
  text: string,
  where: string,
  warnings: string[],
): WhitelistEntry {
  const [cidr, ...opts] = text.split(",");
  let prefix;
  const c = cidr.trim();
  try {
    prefix = parsePrefix(c);
  } catch (strictErr) {
    try {
      prefix = parsePrefix(c, true);
    } catch (e) {
      throw new DcError("bad_content", `${where}: bad CIDR "${cidr}": ${(e as Error).message}`, {
        cause: e,
      });
    }
    warnings.push(`${where}: ${(strictErr as Error).message}; using ${formatPrefix(prefix)}`);
  }
  let maxPrefixLen = 128;
  for (const opt of opts) {
    const eq = opt.indexOf("=");
    const key = (eq < 0 ? opt : opt.slice(0, eq)).trim();
    const value = eq < 0 ? "true" : opt.slice(eq + 1).trim();
    if (key === "max_prefix_len") {
      if (!/^\d{1,3}$/.test(value) || Number(value) > 128) {
        throw new DcError(
          "bad_content",
          `${where}: max_prefix_len must be an integer 0..128, got "${value}" in "${text}"`,
        );
      }
      maxPrefixLen = Number(value);
    } else {
      warnings.push(`${where}: unknown option "${key}" in "${text}" (kept, ignored)`);
    }
  }
  if (maxPrefixLen < prefix.len) {
    warnings.push(
      `${where}: max_prefix_len=${maxPrefixLen} is shorter than the prefix length ${prefix.len}: ` +
        "the entry allows nothing",
    );
  }
  return { prefix, maxPrefixLen };
}

/**
 * Parses DC content bytes.
 * @throws {DcError} "bad_content" naming the first bad entry.
 */
export function parseDcContent(bytes: Uint8Array): DcContent {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new DcError("bad_content", `the DC content is not JSON: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new DcError("bad_content", "the DC content must be a JSON object");
  }
  const warnings: string[] = [];
  for (const key of Object.keys(json)) {
    if (!KNOWN_TOP.has(key)) warnings.push(`unknown top-level key "${key}" (kept, ignored)`);
  }
  const wl = new Map<string, WhitelistEntry[]>();
  const raw = (json as Record<string, unknown>).prefix_whitelist;
  if (raw !== undefined && raw !== null) {
    if (typeof raw !== "object" || Array.isArray(raw)) {
      throw new DcError("bad_content", "prefix_whitelist: must be an object of name → [cidr, ...]");
    }
    for (const [name, list] of Object.entries(raw as Record<string, unknown>)) {
      const where = `prefix_whitelist[${JSON.stringify(name)}]`;
      if (list === null) {
        wl.set(name, []);
        continue;
      }
      if (!Array.isArray(list)) {
        throw new DcError("bad_content", `${where}: must be an array of CIDR strings`);
      }
      const entries: WhitelistEntry[] = [];
      list.forEach((item, i) => {
        if (typeof item !== "string") {
          throw new DcError("bad_content", `${where}[${i}]: must be a string, got ${typeof item}`);
        }
        entries.push(parseWhitelistEntry(item, `${where}[${i}]`, warnings));
      });
      wl.set(name, entries);
    }
  }
  const revocation = parseRevocation(json as Record<string, unknown>, warnings);
  return { prefixWhitelist: wl, revocation, warnings };
}
