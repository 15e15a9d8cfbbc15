/**
 * What a program loads at start: `deno info --json` of an entry point, walked along static
 * imports only. Type-only imports are erased (no `code` dependency) and dynamic imports are
 * collected separately, so a test can check that a module is loaded lazily, not at start.
 * @module
 */
import { assert } from "./assert.ts";

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
}

/** The statically loaded module graph of one entry point, and the dynamic imports it has. */
export interface ModuleGraph {
  /** Specifiers loaded at start (reachable through static imports). */
  loaded: Set<string>;
  /** Specifiers imported dynamically from a statically loaded module. */
  dynamic: Set<string>;
}

/** The module graph of `entry` (relative to the repository root), with deno.json's imports. */
export async function staticallyLoaded(entry = "main.ts"): Promise<ModuleGraph> {
  const root = new URL("../../", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", new URL("deno.json", root).pathname, entry],
    cwd: root.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: InfoModule[];
  };
  const bySpec = new Map(info.modules.map((m) => [m.specifier, m]));
  const loaded = new Set<string>();
  const dynamic = new Set<string>();
  const todo = [...info.roots];
  while (todo.length > 0) {
    const spec = todo.pop()!;
    if (loaded.has(spec)) continue;
    loaded.add(spec);
    for (const d of bySpec.get(spec)?.dependencies ?? []) {
      if (d.code === undefined) continue;
      if (d.isDynamic) dynamic.add(d.code.specifier);
      else todo.push(d.code.specifier);
    }
  }
  return { loaded, dynamic };
}

/**
 * What `vmesh run` loads at start: main.ts's static graph and that of the run command, which
 * main.ts imports once it knows the command (src/cli/mod.ts `COMMANDS`).
 */
export async function runCommandGraph(): Promise<ModuleGraph> {
  const [main, run] = await Promise.all([
    staticallyLoaded("main.ts"),
    staticallyLoaded("src/cli/run.ts"),
  ]);
  return {
    loaded: new Set([...main.loaded, ...run.loaded]),
    dynamic: new Set([...main.dynamic, ...run.dynamic]),
  };
}
