/**
 * `deno task bundle`: the program as one JavaScript bundle (`deno bundle --code-splitting`:
 * `main.js` plus chunks for what is imported lazily — certificate issuance, the HTTP server),
 * which starts with less CPU than `deno run main.ts`: Deno then reads, resolves and looks up
 * caches for one module instead of ~170 (docs/figures.md, "Start-up").
 *
 * Run it as `deno run <permissions> [--v8-flags=…] dist/main.js run --config …` (the flags of
 * deno.json's "compile" task). The test harness runs nodes from such a bundle too
 * ({@link freshNodeBundle}: built on first use, under `.tmp/bundle/<hash of the sources>/`, so it
 * is never stale); `VMESH_FROM_SOURCE=1` makes it run main.ts instead.
 *
 * Usage: deno task bundle [outdir]   (default dist/)
 * @module
 */
import { createHash } from "node:crypto";

/** The repository root of this checkout. */
export const ROOT: string = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** Files whose content decides the bundle: everything main.ts can load, and the pins. */
function sourceFiles(root: string): string[] {
  const out = ["main.ts", "deno.json", "deno.lock"].filter((f) => exists(`${root}/${f}`));
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(`${root}/${dir}`)) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory) walk(p);
      else if (e.isFile && !e.name.endsWith("_test.ts")) out.push(p);
    }
  };
  for (const d of ["src", "ffi"]) if (exists(`${root}/${d}`)) walk(d);
  return out.sort();
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** SHA-256 (hex, first 16 bytes) over Deno's version and every source file of `root`. */
export function sourceHash(root: string = ROOT): string {
  const h = createHash("sha256");
  h.update(`deno ${Deno.version.deno}\n`);
  for (const f of sourceFiles(root)) {
    h.update(`${f}\n`);
    h.update(Deno.readFileSync(`${root}/${f}`));
  }
  return h.digest("hex").slice(0, 32);
}

/**
 * Bundles `root`'s main.ts into `outDir` (main.js and its chunks).
 * @throws {Error} with deno bundle's output when it fails.
 */
export function bundleNode(outDir: string, root: string = ROOT): void {
  const out = new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--config",
      `${root}/deno.json`,
      "--platform",
      "deno",
      "--code-splitting",
      "--outdir",
      outDir,
      `${root}/main.ts`,
    ],
    cwd: root,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  if (!out.success) {
    const dec = new TextDecoder();
    throw new Error(
      `deno bundle ${root}/main.ts failed:\n${dec.decode(out.stdout)}${dec.decode(out.stderr)}`,
    );
  }
  Deno.statSync(`${outDir}/main.js`);
}

/** Bundles older than this are removed when a new one is built (other source states). */
const STALE_MS = 3600_000;

/**
 * The entry point of a bundle of `root`'s current sources: `.tmp/bundle/<hash>/main.js` in this
 * checkout,
 * built first when it does not exist yet. Concurrent callers (parallel test processes) each
 * build into a temporary directory and rename it into place; the first rename wins.
 */
export function freshNodeBundle(root: string = ROOT): string {
  // Always under this checkout (a comparison may bundle another checkout, read-only).
  const base = `${ROOT}/.tmp/bundle`;
  const dir = `${base}/${sourceHash(root)}`;
  const entry = `${dir}/main.js`;
  if (exists(entry)) return entry;
  Deno.mkdirSync(base, { recursive: true });
  const tmp = Deno.makeTempDirSync({ dir: base, prefix: "building-" });
  try {
    bundleNode(tmp, root);
    // Readable by a node that dropped to nobody and loads a lazy chunk afterwards.
    Deno.chmodSync(tmp, 0o755);
    try {
      Deno.renameSync(tmp, dir);
    } catch (e) {
      // Another process finished the same bundle first: use that one.
      if (!exists(entry)) throw e;
    }
  } finally {
    if (exists(tmp)) Deno.removeSync(tmp, { recursive: true });
  }
  removeStale(base, dir);
  return entry;
}

function removeStale(base: string, keep: string): void {
  const now = Date.now();
  for (const e of Deno.readDirSync(base)) {
    const p = `${base}/${e.name}`;
    if (p === keep || !e.isDirectory) continue;
    const m = Deno.statSync(p).mtime?.getTime() ?? now;
    if (now - m > STALE_MS) Deno.removeSync(p, { recursive: true });
  }
}

if (import.meta.main) {
  const outDir = Deno.args[0] ?? `${ROOT}/dist`;
  if (exists(outDir)) {
    // Replace an earlier bundle, never anything else.
    if (!exists(`${outDir}/main.js`)) {
      console.error(`${outDir} exists and holds no earlier bundle (main.js): not touching it`);
      Deno.exit(1);
    }
    Deno.removeSync(outDir, { recursive: true });
  }
  bundleNode(outDir);
  console.log(`${outDir}/main.js (run it with the permission flags of the "compile" task)`);
}
