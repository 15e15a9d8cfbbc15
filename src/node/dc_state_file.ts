/**
 * The persisted DC in `state_dir` (`dc.bin`): what is on disk, and whether vmesh can trust it
 * to be its own.
 *
 * Only vmesh writes that file (atomically, mode 0600, as the node's user). A file that is not
 * a regular file (a symlink, a directory), belongs to another user, or is larger than a DC can
 * be was put there by something else; so was one that does not verify or is older than the DC
 * the node runs. None of these ever lowers the node's filtering: at start the node refuses to
 * run (see {@link DcStateError}), while running it reports the file and writes its own DC back.
 * @module
 */
import { MAX_DC_BYTES } from "../dc/mod.ts";

/** The persisted DC cannot be used; the node will not start without the operator. */
export class DcStateError extends Error {
  /**
   * @param path the file
   * @param problem what is wrong with it
   */
  constructor(readonly path: string, readonly problem: string) {
    super(
      `${path}: ${problem}. The node does not start with less filtering than its last DC: ` +
        `restore a DC signed by the CA there (or give one with --initial-dc after removing the ` +
        `file), or remove the file to start without a DC`,
    );
    this.name = "DcStateError";
  }
}

/** What {@link readStateFile} found. */
export type StateFile =
  | { readonly kind: "missing" }
  | { readonly kind: "suspect"; readonly problem: string }
  | { readonly kind: "present"; readonly raw: Uint8Array };

/**
 * Reads the persisted DC without following a symlink.
 * @param path `<state_dir>/dc.bin`
 * @param owners the user IDs the file may belong to (the node's, root, and nobody when the
 *   node drops to it)
 */
export async function readStateFile(path: string, owners: ReadonlySet<number>): Promise<StateFile> {
  let st: Deno.FileInfo;
  try {
    st = await Deno.lstat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { kind: "missing" };
    return { kind: "suspect", problem: `cannot inspect it: ${(e as Error).message}` };
  }
  if (!st.isFile) {
    const what = st.isSymlink ? "a symbolic link" : st.isDirectory ? "a directory" : "special";
    return { kind: "suspect", problem: `it is ${what}, not a regular file vmesh wrote` };
  }
  if (st.uid !== null && !owners.has(st.uid)) {
    return {
      kind: "suspect",
      problem: `it belongs to uid ${st.uid}, not to vmesh (uid ${[...owners].join(" or ")})`,
    };
  }
  if (st.size > MAX_DC_BYTES) {
    return { kind: "suspect", problem: `it is ${st.size} bytes, larger than any DC (1 MiB)` };
  }
  let f: Deno.FsFile;
  try {
    // Not through a link planted between lstat and open.
    f = await Deno.open(path, { read: true });
  } catch (e) {
    return { kind: "suspect", problem: `cannot read it: ${(e as Error).message}` };
  }
  try {
    const st2 = await f.stat();
    if (st2.ino !== st.ino || st2.dev !== st.dev) {
      return { kind: "suspect", problem: "it was replaced while being read" };
    }
    const buf = new Uint8Array(MAX_DC_BYTES + 1);
    let n = 0;
    while (n < buf.length) {
      const r = await f.read(buf.subarray(n));
      if (r === null) break;
      n += r;
    }
    if (n > MAX_DC_BYTES) {
      return { kind: "suspect", problem: "it is larger than any DC (1 MiB)" };
    }
    return { kind: "present", raw: buf.slice(0, n) };
  } catch (e) {
    return { kind: "suspect", problem: `cannot read it: ${(e as Error).message}` };
  } finally {
    f.close();
  }
}

/** The owners a node's own `dc.bin` may have: its user and root. */
export function defaultOwners(): Set<number> {
  const uid = Deno.uid();
  return new Set(uid === null ? [0] : [uid, 0]);
}
