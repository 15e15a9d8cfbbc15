/**
 * The revocation lists of the DC content:
 *
 * - `"revoked_keys": ["<hex SHA-256 of a certificate's SubjectPublicKeyInfo DER>", ...]`: every
 *   certificate with that public key is revoked, whatever its name or validity (`vmesh cert
 *   fingerprint <cert.pem>` prints the value; it equals
 *   `openssl x509 -pubkey -noout -in c.pem | openssl pkey -pubin -outform DER | sha256sum`).
 * - `"revoked_names": ["<node name>", ...]`: every certificate with that CN is revoked.
 *
 * Bounds: at most {@link MAX_REVOKED_KEYS} keys and {@link MAX_REVOKED_NAMES} names. A key must be
 * 64 hex characters (upper case is accepted and folded); a name must be a node name as in
 * `peers[].name` (compared as DNS names: case and a trailing dot do not matter). Duplicates are
 * warned about. Anything else is refused with the bad entry named. The Go vmesh ignores both
 * keys, so a DC that carries them still verifies and applies there.
 * @module
 */
import { canonicalName } from "../net/mod.ts";
import { isValidNodeName } from "../pki/mod.ts";
import { DcError } from "./errors.ts";

/** Most `revoked_keys` entries a DC may carry. */
export const MAX_REVOKED_KEYS = 4096;
/** Most `revoked_names` entries a DC may carry. */
export const MAX_REVOKED_NAMES = 4096;
/** The content keys this module reads. */
export const REVOCATION_KEYS = ["revoked_keys", "revoked_names"] as const;

/** What a DC revokes. */
export interface Revocation {
  /** Lower-case hex SHA-256 of revoked SubjectPublicKeyInfo DERs. */
  readonly keys: ReadonlySet<string>;
  /** Revoked node names, in canonical form ({@link canonicalName}). */
  readonly names: ReadonlySet<string>;
}

/** A revocation that revokes nothing. */
export const NO_REVOCATION: Revocation = { keys: new Set(), names: new Set() };

function listOf(json: Record<string, unknown>, key: string, max: number): unknown[] {
  const raw = json[key];
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    throw new DcError("bad_content", `${key}: must be an array of strings`);
  }
  if (raw.length > max) {
    throw new DcError("bad_content", `${key}: ${raw.length} entries, over the limit of ${max}`);
  }
  return raw;
}

/**
 * Reads `revoked_keys` and `revoked_names` from the parsed content object.
 * @param json the DC content (a JSON object)
 * @param warnings duplicates are reported here
 * @throws {DcError} "bad_content" naming the first bad entry
 */
export function parseRevocation(json: Record<string, unknown>, warnings: string[]): Revocation {
  const keys = new Set<string>();
  listOf(json, "revoked_keys", MAX_REVOKED_KEYS).forEach((item, i) => {
    const where = `revoked_keys[${i}]`;
    if (typeof item !== "string" || !/^[0-9a-fA-F]{64}$/.test(item)) {
      throw new DcError(
        "bad_content",
        `${where}: ${JSON.stringify(item)} is not a key fingerprint (64 hex characters, the ` +
          "SHA-256 of the certificate's public key as `vmesh cert fingerprint` prints it)",
      );
    }
    const key = item.toLowerCase();
    if (keys.has(key)) warnings.push(`${where}: duplicate of an earlier entry "${key}"`);
    keys.add(key);
  });
  const names = new Set<string>();
  listOf(json, "revoked_names", MAX_REVOKED_NAMES).forEach((item, i) => {
    const where = `revoked_names[${i}]`;
    if (typeof item !== "string" || !isValidNodeName(canonicalName(item))) {
      throw new DcError(
        "bad_content",
        `${where}: ${JSON.stringify(item)} is not a node name like "b.vnet.example.com"`,
      );
    }
    const name = canonicalName(item);
    if (names.has(name)) warnings.push(`${where}: duplicate of an earlier entry "${item}"`);
    names.add(name);
  });
  return keys.size === 0 && names.size === 0 ? NO_REVOCATION : { keys, names };
}

/** True when a certificate with this key fingerprint or name is revoked by `r`. */
export function isRevoked(r: Revocation, keySha256: string, name: string): boolean {
  return r.keys.has(keySha256) || r.names.has(canonicalName(name));
}

/**
 * Why a certificate is revoked by `r`, for logs and `status`, or undefined when it is not.
 * @param keySha256 the certificate's key fingerprint
 * @param name the certificate's CN
 */
export function revokedBecause(
  r: Revocation,
  keySha256: string,
  name: string,
): string | undefined {
  if (r.keys.has(keySha256)) return `its key ${keySha256.slice(0, 16)}… is revoked by the DC`;
  if (r.names.has(canonicalName(name))) return `the name "${name}" is revoked by the DC`;
  return undefined;
}
