/**
 * The JSON view of a verified DC: what `vmesh dc show --json` prints and what a running
 * node's `dc` control command returns.
 * @module
 */
import { formatPrefix } from "../net/mod.ts";
import type { VerifiedDc } from "./verify.ts";

/** The JSON form of a verified DC read from `path` (a file, or a label such as "(running node)"). */
export function dcToJson(path: string, dc: VerifiedDc): Record<string, unknown> {
  return {
    file: path,
    valid: true,
    version: dc.version,
    signed_at: dc.notBefore.toISOString(),
    cert_expires: dc.notAfter.toISOString(),
    content_sha256: dc.contentHash,
    prefix_whitelist: Object.fromEntries(
      [...dc.content.prefixWhitelist].map(([name, entries]) => [
        name,
        entries.map((e) => ({ prefix: formatPrefix(e.prefix), max_prefix_len: e.maxPrefixLen })),
      ]),
    ),
    revoked_keys: [...dc.content.revocation.keys],
    revoked_names: [...dc.content.revocation.names],
    warnings: dc.warnings,
  };
}
