/**
 * The layering check (`deno task check` runs it): reads the module graph of every file in
 * `src/` and `ffi/` plus `main.ts` and `mod.ts` (from `deno info --json`, so type-only and
 * multi-line imports count) and fails on
 * - an import from a lower layer to a higher one, or between two rooms of the same layer;
 * - an import the layout forbids even though the layers allow it ({@link FORBIDDEN}: the
 *   packet path never imports the control plane);
 * - an import into another room that does not go through that room's face (`src/<room>/mod.ts`,
 *   `ffi/mod.ts`); files within one room import each other directly;
 * - a file in `src/` outside any room, and an import of `scripts/`, `bench/` or `tests/`
 *   (unit tests may import the shared test helpers in `tests/_harness/`);
 * - a room without a face, or a face without a module doc (`/** ... @module *\/` saying what
 *   the room is for).
 *
 * Each violation is printed as `file:line: imports X (why)`; the exit code is 1 when there is
 * any. Usage: `deno run -A scripts/check_layers.ts`.
 * @module
 */

/**
 * The rooms, lowest layer first. A room may import the rooms of lower layers only; rooms of one
 * layer do not import each other.
 */
export const LAYERS: readonly (readonly string[])[] = [
  // Foundations: libc and C structs; the clock and rate limits; logging; IPv6 value types.
  ["ffi", "clock", "log", "net"],
  // The longest-prefix-match table; certificates and names; the virtual interfaces.
  ["fib", "pki", "vif"],
  // The prefix whitelist filter; the packet path: the UDP data channel and the forwarder.
  ["filter", "udp", "dataplane"],
  // The control plane: TLS sessions, routing, the distributed config, node names.
  ["session", "routing", "dc", "names"],
  // The node config (loads the PKI and the initial DC).
  ["config"],
  // The read-only HTTP endpoint and status page (data through an interface; the node loads it
  // with a dynamic import only when http_listen is set).
  ["http"],
  // The wiring of everything above into a running node.
  ["node"],
  // The command line, and the library face (mod.ts) beside it.
  ["cli", "mod.ts"],
  // The program.
  ["main.ts"],
];

/** Imports the layers would allow but the layout forbids: the packet path stays apart. */
export const FORBIDDEN: Readonly<Record<string, readonly string[]>> = {
  dataplane: ["routing", "filter", "dc"],
};

/** Module graph: repository-relative importer path → what it imports. */
export type ModuleGraph = ReadonlyMap<string, readonly Import[]>;

/** One import: a repository-relative path (or an `npm:`/`node:`/URL specifier), and its line. */
export interface Import {
  readonly target: string;
  readonly line: number;
}

/** A broken rule. */
export interface Violation {
  readonly file: string;
  readonly line: number;
  readonly target: string;
  readonly why: string;
}

/** `file:line: imports X (why)`, or `file: why` for a misplaced file or a missing face. */
export function formatViolation(v: Violation): string {
  if (v.target === "") return `${v.file}: ${v.why}`;
  return `${v.file}:${v.line}: imports ${v.target} (${v.why})`;
}

const LAYER_OF = new Map<string, number>(
  LAYERS.flatMap((rooms, i) => rooms.map((r) => [r, i] as [string, number])),
);

/**
 * The room a repository-relative path belongs to: `ffi`, a folder under `src/`, `main.ts` or
 * `mod.ts`; `null` for a file in `src/` outside any folder; `undefined` for anything else
 * (tests, scripts, bench, deno.json).
 */
export function roomOf(path: string): string | null | undefined {
  if (path === "main.ts" || path === "mod.ts") return path;
  if (path.startsWith("ffi/")) return "ffi";
  if (path.startsWith("src/")) {
    const parts = path.split("/");
    return parts.length >= 3 ? parts[1] : null;
  }
  return undefined;
}

/** The face of a room: the one file other rooms import. */
export function faceOf(room: string): string {
  return room === "ffi" ? "ffi/mod.ts" : `src/${room}/mod.ts`;
}

/** Checks a module graph against {@link LAYERS}, {@link FORBIDDEN} and the face rule. */
export function checkGraph(graph: ModuleGraph): Violation[] {
  const out: Violation[] = [];
  for (const [file, imports] of graph) {
    const from = roomOf(file);
    if (from === undefined) continue;
    if (from === null) {
      out.push({
        file,
        line: 0,
        target: "",
        why: "lies outside every room (every file in src/ belongs in a room folder)",
      });
      continue;
    }
    const fromLayer = LAYER_OF.get(from);
    for (const { target, line } of imports) {
      const v = (why: string) => out.push({ file, line, target, why });
      if (/^(npm|node|jsr|https?|data):/.test(target)) continue;
      if (fromLayer === undefined) {
        v(`room ${from} is not in the layer table of scripts/check_layers.ts`);
        continue;
      }
      const to = roomOf(target);
      if (to === undefined) {
        if (target === "deno.json") continue;
        if (target.startsWith("tests/_harness/") && file.endsWith("_test.ts")) continue;
        v(`library code may not import ${target.split("/")[0]}/`);
        continue;
      }
      if (to === null) {
        v("every file in src/ belongs in a room folder");
        continue;
      }
      if (to === from) continue;
      const toLayer = LAYER_OF.get(to);
      if (toLayer === undefined) {
        v(`room ${to} is not in the layer table of scripts/check_layers.ts`);
        continue;
      }
      if (toLayer >= fromLayer || FORBIDDEN[from]?.includes(to)) {
        v(`layer ${from} may not import layer ${to}`);
        continue;
      }
      if (target !== faceOf(to)) v(`other rooms import ${to} through its face ${faceOf(to)}`);
    }
  }
  return out;
}

/**
 * Checks that every room has a face with a module doc.
 * @param faces each room's face text, `undefined` when the room has no `mod.ts`
 */
export function checkFaces(faces: ReadonlyMap<string, string | undefined>): Violation[] {
  const out: Violation[] = [];
  for (const [room, text] of faces) {
    const file = faceOf(room);
    if (text === undefined) {
      out.push({ file, line: 0, target: "", why: `room ${room} has no face` });
    } else if (!/^\s*\/\*\*[^]*?@module[^]*?\*\//.test(text)) {
      out.push({ file, line: 0, target: "", why: "a face opens with a module doc (@module)" });
    }
  }
  return out;
}

/** Every room's face text (`undefined` when missing), read from disk. */
async function readFaces(root: string): Promise<Map<string, string | undefined>> {
  const rooms = ["ffi"];
  for await (const e of Deno.readDir(`${root}/src`)) if (e.isDirectory) rooms.push(e.name);
  const faces = new Map<string, string | undefined>();
  for (const room of rooms.sort()) {
    try {
      faces.set(room, await Deno.readTextFile(`${root}/${faceOf(room)}`));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      faces.set(room, undefined);
    }
  }
  return faces;
}

/** The files the check covers: everything in `src/` and `ffi/`, `main.ts` and `mod.ts`. */
async function libraryFiles(root: string): Promise<string[]> {
  const files = ["main.ts", "mod.ts"];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(`${root}/${dir}`)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (e.isFile && /\.tsx?$/.test(e.name)) files.push(path);
    }
  };
  await walk("src");
  await walk("ffi");
  return files.sort();
}

interface InfoDependency {
  specifier: string;
  code?: { specifier: string; span: { start: { line: number } } };
  type?: { specifier: string; span: { start: { line: number } } };
}

/**
 * Builds the module graph of `files` (repository-relative) with `deno info --json` on a
 * generated module that imports them all.
 * @throws {Error} when `deno info` fails (a file that does not resolve, for example).
 */
export async function moduleGraph(root: string, files: readonly string[]): Promise<ModuleGraph> {
  const base = new URL(`file://${root}/`);
  const dir = await Deno.makeTempDir({ prefix: "vmesh-layers-" });
  try {
    const entry = `${dir}/all.ts`;
    await Deno.writeTextFile(
      entry,
      files.map((f) => `import ${JSON.stringify(new URL(f, base).href)};\n`).join(""),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", `${root}/deno.json`, entry],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`deno info failed: ${new TextDecoder().decode(out.stderr).trim()}`);
    }
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: { specifier: string; dependencies?: InfoDependency[] }[];
    };
    const rel = (specifier: string) =>
      specifier.startsWith(base.href) ? decodeURI(specifier.slice(base.href.length)) : specifier;
    const graph = new Map<string, Import[]>();
    for (const m of info.modules) {
      if (!m.specifier.startsWith(base.href)) continue;
      const imports = new Map<string, Import>();
      for (const d of m.dependencies ?? []) {
        for (const r of [d.code, d.type]) {
          if (r === undefined) continue;
          const i = { target: rel(r.specifier), line: r.span.start.line + 1 };
          imports.set(`${i.line} ${i.target}`, i);
        }
      }
      graph.set(rel(m.specifier), [...imports.values()]);
    }
    return graph;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const violations = [
    ...checkFaces(await readFaces(root)),
    ...checkGraph(await moduleGraph(root, await libraryFiles(root))),
  ];
  for (const v of violations) console.error(formatViolation(v));
  if (violations.length > 0) {
    console.error(
      `check_layers: ${violations.length} import(s) break the layering (table in scripts/check_layers.ts)`,
    );
    Deno.exit(1);
  }
  console.log("check_layers: every room has a face, every import follows the layer table");
}
