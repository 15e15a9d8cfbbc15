/**
 * Everything a node needs before it starts, loaded and checked together: config, trust store,
 * identity, and the initial distributed config. All problems are reported at once.
 * @module
 */
import { type VerifiedDc, verifyDc } from "../dc/mod.ts";
import {
  CertificateError,
  isInDomain,
  loadIdentity,
  loadTrustStore,
  type NodeIdentity,
  parseCertificate,
  pemCertificates,
  type TrustStore,
} from "../pki/mod.ts";
import { sameName } from "../net/mod.ts";
import { ConfigError } from "./errors.ts";
import { loadNodeConfig, type NodeConfig } from "./node_config.ts";

/** A node's checked inputs. */
export interface PreparedNode {
  /** The validated config. */
  readonly config: NodeConfig;
  /** Our CA and pinned external certificates. */
  readonly trust: TrustStore;
  /** This node's certificate, key, id and name. */
  readonly identity: NodeIdentity;
  /** The DC given with `--initial-dc`, verified. */
  readonly initialDc: VerifiedDc | undefined;
  /** Non-fatal findings from all the above. */
  readonly warnings: readonly string[];
}

function describe(e: unknown): string {
  if (e instanceof CertificateError) return `${e.message} [${e.reason}]`;
  return (e as Error).message;
}

/**
 * Loads the config file, then our CA, the pinned external certificates, our certificate and
 * key, and the initial DC; checks server_name against the certificate's CN.
 * @param configPath Path of the node config.
 * @param opts.initialDcPath A `dconf-*.bin` file to verify and use first.
 * @param opts.now Clock for certificate validity (default now).
 * @throws {ConfigError} listing every problem found.
 */
export async function prepareNode(
  configPath: string,
  opts: { initialDcPath?: string; now?: Date } = {},
): Promise<PreparedNode> {
  const now = opts.now ?? new Date();
  const { config, warnings: w } = await loadNodeConfig(configPath);
  const warnings = [...w];
  const problems: string[] = [];

  let caOk = false;
  // The CA alone first, so a bad CA and a bad pinned certificate are told apart; without
  // pinned certificates that store is the one the node uses.
  let caOnly: TrustStore | undefined;
  try {
    caOnly = await loadTrustStore(config.ca, []);
    caOk = true;
  } catch (e) {
    problems.push(`ca: ${describe(e)}`);
  }
  const externalOk: string[] = [];
  for (const [i, path] of config.externalPeerCerts.entries()) {
    try {
      const text = await Deno.readTextFile(path);
      const ders = pemCertificates(text);
      if (ders.length === 0) throw new Error(`${path}: no "BEGIN CERTIFICATE" block found`);
      parseCertificate(ders[0]);
      externalOk.push(path);
    } catch (e) {
      problems.push(`external_peer_certs[${i}]: ${describe(e)}`);
    }
  }
  let trust: TrustStore | undefined = config.externalPeerCerts.length === 0 ? caOnly : undefined;
  if (caOk && !trust && externalOk.length === config.externalPeerCerts.length) {
    try {
      trust = await loadTrustStore(config.ca, config.externalPeerCerts);
    } catch (e) {
      problems.push(`ca: ${describe(e)}`);
    }
  }

  let identity: NodeIdentity | undefined;
  if (trust) {
    try {
      identity = await loadIdentity(config.cert, config.privateKey, trust, now);
    } catch (e) {
      const field = e instanceof CertificateError && (e.reason === "bad_key" ||
          e.reason === "key_mismatch")
        ? "private_key"
        : "cert";
      problems.push(`${field}: ${describe(e)}`);
    }
  }
  if (
    identity && config.serverName !== undefined &&
    !sameName(config.serverName, identity.name)
  ) {
    problems.push(
      `server_name: "${config.serverName}" differs from the certificate's CN "${identity.name}"`,
    );
  }
  if (identity && trust) {
    // The trust store holds the pinned certificates in config order, already parsed once.
    for (const [i, der] of trust.externalDers.entries()) {
      const cn = parseCertificate(der).cn ?? "";
      if (isInDomain(cn, identity.domain)) {
        warnings.push(
          `external_peer_certs[${i}]: "${cn}" is inside our domain "${identity.domain}": ` +
            "it will be refused (names in our domain must come from our CA)",
        );
      }
    }
  }

  let initialDc: VerifiedDc | undefined;
  if (opts.initialDcPath !== undefined && trust) {
    try {
      const bytes = await Deno.readFile(opts.initialDcPath);
      initialDc = await verifyDc(bytes, trust, now);
      warnings.push(...initialDc.warnings.map((x) => `initial DC: ${x}`));
    } catch (e) {
      problems.push(`--initial-dc ${opts.initialDcPath}: ${describe(e)}`);
    }
  }

  if (problems.length > 0 || !trust || !identity) {
    throw new ConfigError(configPath, problems, warnings);
  }
  return { config, trust, identity, initialDc, warnings };
}
