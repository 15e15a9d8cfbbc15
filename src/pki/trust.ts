/**
 * The trust store: our CA and the pinned certificates of external peers. Nothing here ever
 * consults a system trust store.
 * @module
 */
import { parseCertificate, type ParsedCertificate } from "./certificate.ts";
import { CertificateError } from "./errors.ts";
import { encodePem, pemCertificates } from "./pem.ts";
import { type PeerId, peerIdOf } from "./peer_id.ts";
import { checkCaMaySign } from "./chain.ts";
import { isValidNodeName } from "./names.ts";

/** Our CA plus pinned external peer certificates. Treat as immutable. */
export interface TrustStore {
  /** DER of our CA certificate. */
  readonly caDer: Uint8Array;
  /** PEM of our CA certificate (one block), e.g. for `caCerts` in TLS. */
  readonly caPem: string;
  /** The CA's subject CN ("" when it has none). */
  readonly caName: string;
  /** DER of each pinned external peer certificate. */
  readonly externalDers: readonly Uint8Array[];
  /** PeerIds (SHA-256 of DER) of the pinned external certificates. */
  readonly externalIds: ReadonlySet<PeerId>;
}

const parsedCache = new WeakMap<Uint8Array, ParsedCertificate>();

/**
 * The domains our CA issues node names in, besides a node's own domain: the permitted dNSName
 * subtrees of the CA's nameConstraints, and the CA's CN when it is a domain name (vmesh cert ca
 * --name vnet.example.com; the Go vmesh's scripts use the mesh domain as the CA's CN too).
 * A pinned external certificate named inside one of them is refused (see verifyPeerCertificate).
 */
export function meshDomainsOf(trust: TrustStore): string[] {
  const ca = parsedCa(trust);
  const out = new Set<string>();
  for (const b of ca.nameConstraints?.permittedDns ?? []) {
    const d = b.toLowerCase().replace(/^\.+|\.+$/g, "");
    if (d !== "") out.add(d);
  }
  const cn = ca.cn?.toLowerCase().replace(/\.+$/, "");
  if (cn !== undefined && isValidNodeName(cn)) out.add(cn);
  return [...out];
}

/** The parsed CA of a trust store (cached). */
export function parsedCa(trust: TrustStore): ParsedCertificate {
  let p = parsedCache.get(trust.caDer);
  if (!p) {
    p = parseCertificate(trust.caDer);
    parsedCache.set(trust.caDer, p);
  }
  return p;
}

function firstCertificate(pem: string, what: string): Uint8Array {
  let ders: Uint8Array[];
  try {
    ders = pemCertificates(pem);
  } catch (e) {
    throw new CertificateError("malformed", `${what}: ${(e as Error).message}`, { cause: e });
  }
  if (ders.length === 0) {
    throw new CertificateError("malformed", `${what}: no "BEGIN CERTIFICATE" block found`);
  }
  return ders[0];
}

/**
 * Builds a trust store from PEM text.
 * @param caPem PEM holding our CA certificate (the first CERTIFICATE block is used).
 * @param externalPems PEM of each pinned external peer certificate.
 * @throws {CertificateError} "malformed" for unparseable input, "ca_not_a_ca" when the CA
 *   certificate may not sign certificates.
 */
export async function trustStoreFromPem(
  caPem: string,
  externalPems: readonly string[] = [],
): Promise<TrustStore> {
  const caDer = firstCertificate(caPem, "CA certificate");
  const ca = parseCertificate(caDer);
  checkCaMaySign(ca);
  const externalDers: Uint8Array[] = [];
  const externalIds = new Set<PeerId>();
  for (const [i, pem] of externalPems.entries()) {
    const der = firstCertificate(pem, `external peer certificate #${i + 1}`);
    try {
      parseCertificate(der);
    } catch (e) {
      const err = e as CertificateError;
      throw new CertificateError(
        err.reason,
        `external peer certificate #${i + 1}: ${err.message}`,
        {
          cause: e,
        },
      );
    }
    externalDers.push(der);
    externalIds.add(await peerIdOf(der));
  }
  const store: TrustStore = {
    caDer,
    caPem: encodePem("CERTIFICATE", caDer),
    caName: ca.cn ?? "",
    externalDers,
    externalIds,
  };
  parsedCache.set(caDer, ca);
  return store;
}

/**
 * Reads our CA certificate and the pinned external certificates from files.
 * @throws {CertificateError} "unreadable" when a file cannot be read, or as {@link trustStoreFromPem}.
 */
export async function loadTrustStore(
  caPath: string,
  externalPaths: readonly string[],
): Promise<TrustStore> {
  const caPem = await readText(caPath, "CA certificate");
  const ext: string[] = [];
  for (const p of externalPaths) ext.push(await readText(p, "external peer certificate"));
  try {
    return await trustStoreFromPem(caPem, ext);
  } catch (e) {
    if (e instanceof CertificateError) {
      throw new CertificateError(
        e.reason,
        `${e.message} (files: ${[caPath, ...externalPaths].join(", ")})`,
        {
          cause: e,
        },
      );
    }
    throw e;
  }
}

/** Reads a small text file, mapping failures to CertificateError("unreadable"). */
export async function readText(path: string, what: string): Promise<string> {
  try {
    const info = await Deno.stat(path);
    if (info.size > 1024 * 1024) {
      throw new CertificateError("malformed", `${what} ${path}: file is over 1 MiB`);
    }
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof CertificateError) throw e;
    throw new CertificateError(
      "unreadable",
      `cannot read ${what} ${path}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}
