/**
 * A throwaway PKI on disk made with the vmesh CLI itself (`vmesh cert ca`, `vmesh cert node`,
 * `vmesh sign`), as an operator would make one. Each CA lives in its own directory; node
 * certificates are made on first use and cached, so a test file pays for each one once.
 * @module
 */
import { vmesh } from "./vmesh_cli.ts";

/** Paths of a certificate and its private key. */
export interface CertFiles {
  crt: string;
  key: string;
}

/** A CA and the node certificates issued by it. */
export class CliPki {
  #nodes = new Map<string, Promise<CertFiles>>();

  private constructor(readonly dir: string, readonly caName: string, readonly ca: CertFiles) {}

  /**
   * Makes a CA called `caName` in `dir` (created if missing) with `vmesh cert ca`.
   * @throws {Error} when the CLI fails.
   */
  static async create(dir: string, caName = "vnet.test"): Promise<CliPki> {
    await Deno.mkdir(dir, { recursive: true });
    const prefix = `${dir}/ca`;
    await vmesh(["cert", "ca", "--name", caName, "--out", prefix]);
    return new CliPki(dir, caName, { crt: `${prefix}.crt`, key: `${prefix}.key` });
  }

  /** The certificate for node `fqdn` (e.g. "a.vnet.test"), made with `vmesh cert node` once. */
  node(fqdn: string): Promise<CertFiles> {
    let p = this.#nodes.get(fqdn);
    if (!p) {
      const prefix = `${this.dir}/${fqdn}`;
      p = vmesh(["cert", "node", "--ca", `${this.dir}/ca`, "--name", fqdn, "--out", prefix])
        .then(() => ({ crt: `${prefix}.crt`, key: `${prefix}.key` }));
      p.catch(() => this.#nodes.delete(fqdn));
      this.#nodes.set(fqdn, p);
    }
    return p;
  }

  /**
   * Signs a distributed config with this CA (`vmesh sign`) and returns the signed file's path.
   * @param content the DC JSON, e.g. `{ prefix_whitelist: { "b.vnet.test": ["fd00:2::/48"] } }`
   */
  async signDc(content: unknown, name = "dc"): Promise<string> {
    const src = `${this.dir}/${name}.json`;
    const out = `${this.dir}/${name}.signed`;
    await Deno.writeTextFile(src, JSON.stringify(content, null, 2));
    await vmesh([
      "sign",
      "--ca-cert",
      this.ca.crt,
      "--ca-key",
      this.ca.key,
      "--config",
      src,
      "--out",
      out,
    ]);
    return out;
  }
}

const cache = new Map<string, Promise<CliPki>>();
let cacheDir: string | undefined;

/**
 * A PKI shared by all tests of one test file (per worker), keyed by `label` (use different
 * labels for independent CAs, e.g. "ours" and "foreign"). The files live in a temp dir named
 * `vme-<pid>-pki-…`, removed when the process exits (or by the next run's stale cleanup).
 */
export function sharedPki(label = "ours", caName = "vnet.test"): Promise<CliPki> {
  let p = cache.get(label);
  if (!p) {
    p = (async () => {
      if (!cacheDir) {
        cacheDir = await Deno.makeTempDir({ prefix: `vme-${Deno.pid}-pki-` });
        const dir = cacheDir;
        globalThis.addEventListener("unload", () => {
          try {
            Deno.removeSync(dir, { recursive: true });
          } catch {
            // Already gone, or the process is exiting without file access: stale cleanup
            // of the next run removes it.
          }
        });
      }
      return await CliPki.create(`${cacheDir}/${label}`, caName);
    })();
    p.catch(() => cache.delete(label));
    cache.set(label, p);
  }
  return p;
}
