/**
 * What `--drop-permissions` accepts in state_dir before handing it over, and that the hand-over
 * (lchown) never follows a symlink. Needs root (files owned by other users); skipped otherwise.
 * Everything happens in a temp dir: no system file is ever a target.
 */
import { assertEquals, assertRejects, assertStringIncludes } from "../../tests/_harness/assert.ts";
import { lchown } from "../../ffi/mod.ts";
import { checkStateDir, StateDirError } from "./drop_permissions.ts";

const ignore = Deno.uid() !== 0;
const NOBODY = 65534;

async function withDir(fn: (dir: string, state: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vmesh-drop-" });
  const state = `${dir}/state`;
  await Deno.mkdir(state, { mode: 0o700 });
  try {
    await fn(dir, state);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function test(name: string, fn: (dir: string, state: string) => Promise<void>) {
  Deno.test({ name, ignore, fn: () => withDir(fn) });
}

async function refused(state: string, ...includes: string[]): Promise<void> {
  const e = await assertRejects(() => checkStateDir(state, NOBODY), StateDirError);
  for (const text of includes) assertStringIncludes(e.message, text);
}

test(
  "checkStateDir accepts what vmesh makes: root's or nobody's regular files",
  async (_, state) => {
    await Deno.writeFile(`${state}/dc.bin`, new Uint8Array([1]), { mode: 0o600 });
    await Deno.writeFile(`${state}/dc.bin.tmp-1-abcd`, new Uint8Array([1]), { mode: 0o600 });
    await Deno.chown(`${state}/dc.bin.tmp-1-abcd`, NOBODY, NOBODY);
    assertEquals((await checkStateDir(state, NOBODY))?.isDirectory, true);
    await Deno.chown(state, NOBODY, NOBODY); // as an earlier run left it
    assertEquals((await checkStateDir(state, NOBODY))?.isDirectory, true);
    assertEquals(await checkStateDir(`${state}/missing`, NOBODY), undefined);
  },
);

test("checkStateDir refuses a symlink planted in state_dir", async (dir, state) => {
  await Deno.writeTextFile(`${dir}/secret`, "secret\n", { mode: 0o600 });
  await Deno.symlink(`${dir}/secret`, `${state}/dc.bin`);
  await refused(state, `${state}/dc.bin`, "symbolic link");
});

test("checkStateDir refuses a state_dir that is a symlink", async (dir, state) => {
  await Deno.symlink(state, `${dir}/link`);
  await refused(`${dir}/link`, "symbolic link", "not a directory");
});

test(
  "checkStateDir refuses a FIFO, a directory and a hard link in state_dir",
  async (dir, state) => {
    await Deno.mkdir(`${state}/sub`);
    await refused(state, `${state}/sub`, "a directory");
    await Deno.remove(`${state}/sub`);
    const mk = await new Deno.Command("mkfifo", { args: [`${state}/fifo`] }).output();
    assertEquals(mk.success, true);
    await refused(state, "a FIFO");
    await Deno.remove(`${state}/fifo`);
    await Deno.writeTextFile(`${dir}/secret`, "secret\n", { mode: 0o600 });
    await Deno.link(`${dir}/secret`, `${state}/dc.bin`);
    await refused(state, `${state}/dc.bin`, "2 hard links");
  },
);

test(
  "checkStateDir refuses files or a state_dir owned by another user, or a writable state_dir",
  async (_, state) => {
    await Deno.writeTextFile(`${state}/dc.bin`, "x");
    await Deno.chown(`${state}/dc.bin`, 1234, 1234);
    await refused(state, "belongs to uid 1234");
    await Deno.remove(`${state}/dc.bin`);
    await Deno.chown(state, 1234, 1234);
    await refused(state, "belongs to uid 1234");
    await Deno.chown(state, 0, 0);
    await Deno.chmod(state, 0o777);
    await refused(state, "writable by group or others", "777");
  },
);

test("lchown changes a symlink's own owner, never its target's", async (dir) => {
  await Deno.writeTextFile(`${dir}/target`, "x", { mode: 0o600 });
  await Deno.symlink(`${dir}/target`, `${dir}/link`);
  lchown(`${dir}/link`, NOBODY, NOBODY);
  assertEquals((await Deno.lstat(`${dir}/link`)).uid, NOBODY);
  assertEquals((await Deno.stat(`${dir}/target`)).uid, 0);
});
