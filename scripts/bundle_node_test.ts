import { assert, assertEquals } from "../tests/_harness/assert.ts";
import { freshNodeBundle, ROOT, sourceHash } from "./bundle_node.ts";

const dec = new TextDecoder();

async function runVersion(entry: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--config", `${ROOT}/deno.json`, entry, "version"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.success, dec.decode(out.stderr));
  return dec.decode(out.stdout);
}

Deno.test("the harness's bundle is made from the current sources and runs like main.ts", async () => {
  const entry = freshNodeBundle();
  assertEquals(entry, `${ROOT}/.tmp/bundle/${sourceHash()}/main.js`);
  assertEquals(await runVersion(entry), await runVersion(`${ROOT}/main.ts`));
});

Deno.test("the bundle keeps certificate issuance and the HTTP server out of what run loads", () => {
  const dir = freshNodeBundle().replace(/\/main\.js$/, "");
  // What `vmesh run` loads: main.js and the run command's chunk (main.js imports it once it
  // knows the command), with what they import statically, transitively.
  const runChunk = Deno.readTextFileSync(`${dir}/main.js`).match(/import\("\.\/(run-[^"]+)"\)/);
  assert(runChunk, "main.js does not import the run command lazily");
  const loaded = new Set<string>();
  const todo = ["main.js", runChunk[1]];
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (loaded.has(f)) continue;
    loaded.add(f);
    const text = Deno.readTextFileSync(`${dir}/${f}`);
    for (
      const m of text.matchAll(
        /^(?:import|export)\b[^;]*?from\s+"\.\/([^"]+)"|^import\s+"\.\/([^"]+)"/gm,
      )
    ) {
      todo.push(m[1] ?? m[2]);
    }
  }
  const text = [...loaded].map((f) => Deno.readTextFileSync(`${dir}/${f}`)).join("\n");
  assert(text.includes("// src/node/run.ts"), `no run.ts in ${[...loaded]}`);
  // esbuild heads every bundled module with a comment naming its path.
  for (
    const lazy of [
      /^\/\/ src\/pki\/issue_x509\.ts$/m,
      /^\/\/ src\/http\//m,
      /^\/\/ .*\/@peculiar\//m,
    ]
  ) {
    assert(!lazy.test(text), `${lazy} is loaded at start (from ${[...loaded].join(", ")})`);
  }
  assert(/^\/\/ .*\/@peculiar\/x509\//m.test(Deno.readTextFileSync(`${dir}/${lazyChunk(dir)}`)));
});

/** The chunk that holds certificate issuance (imported dynamically). */
function lazyChunk(dir: string): string {
  const f = [...Deno.readDirSync(dir)].find((e) => e.name.startsWith("issue_x509-"));
  assert(f, `no issue_x509 chunk in ${dir}`);
  return f.name;
}

Deno.test("sourceHash follows the sources and ignores tests", () => {
  const root = Deno.makeTempDirSync({ prefix: "vmesh-bundle-hash-" });
  try {
    Deno.mkdirSync(`${root}/src/a`, { recursive: true });
    Deno.writeTextFileSync(`${root}/main.ts`, "import './src/a/x.ts';\n");
    Deno.writeTextFileSync(`${root}/src/a/x.ts`, "export const x = 1;\n");
    const h0 = sourceHash(root);
    Deno.writeTextFileSync(`${root}/src/a/x_test.ts`, "Deno.test('t', () => {});\n");
    assertEquals(sourceHash(root), h0);
    Deno.writeTextFileSync(`${root}/src/a/x.ts`, "export const x = 2;\n");
    assert(sourceHash(root) !== h0, "a changed source must change the hash");
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
