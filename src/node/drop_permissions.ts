/**
 * `--drop-permissions`: hand `state_dir` to the unprivileged user, then drop to it.
 *
 * What is touched: the `state_dir` directory itself, and nothing else. It gets owner
 * nobody:nogroup with lchown(2), which never follows a symlink, so the node running as
 * nobody can replace its DC file there (write a temporary file, rename it over the old one).
 * The files inside are never chowned: nobody does not need to own them for that, and a file
 * or link planted in the directory (anything running as nobody can write there once an earlier
 * run handed it over) would otherwise make the next start, as root, give its target away
 * (e.g. `/etc/shadow`).
 *
 * Before anything reads `state_dir` as root, and again just before the lchown, the directory
 * must be what vmesh made: a real directory (not a symlink), owned by root or nobody, not
 * writable by group or others; and every entry a regular file with one link, owned by root or
 * nobody. Anything else stops the node with an error naming the path, rather than guessing.
 * @module
 */
import { dropPrivileges, lchown } from "../../ffi/mod.ts";

/** More entries than vmesh ever makes (dc.bin and a few temporary files): refuse. */
const MAX_ENTRIES = 1000;

/** `state_dir` or an entry in it is not what vmesh made. */
export class StateDirError extends Error {
  /**
   * @param message what is wrong and what to do
   * @param options standard error options (`cause`)
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StateDirError";
  }
}

function describe(info: Deno.FileInfo): string {
  if (info.isSymlink) return "a symbolic link";
  if (info.isDirectory) return "a directory";
  if (info.isFile) return "a regular file";
  if (info.isFifo) return "a FIFO";
  if (info.isSocket) return "a socket";
  if (info.isCharDevice || info.isBlockDevice) return "a device";
  return "not a regular file";
}

/**
 * Checks that `stateDir` is fit to be handed to `uid` (see the module doc). A missing
 * directory is fine: vmesh creates it.
 * @param stateDir the configured state_dir
 * @param uid the unprivileged user the node will run as
 * @returns the directory's lstat info, or undefined when it does not exist
 * @throws {StateDirError} naming the first thing that is wrong
 */
export async function checkStateDir(
  stateDir: string,
  uid: number,
): Promise<Deno.FileInfo | undefined> {
  const fix = "remove it (vmesh re-creates state_dir and its files) and start again";
  let dir: Deno.FileInfo;
  try {
    dir = await Deno.lstat(stateDir);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new StateDirError(`state_dir ${stateDir}: ${(e as Error).message}`, { cause: e });
  }
  if (!dir.isDirectory || dir.isSymlink) {
    throw new StateDirError(
      `state_dir ${stateDir} is ${describe(dir)}, not a directory: with --drop-permissions ` +
        "it must be a real directory (configure the path it points to, or remove it)",
    );
  }
  if (dir.uid !== 0 && dir.uid !== uid) {
    throw new StateDirError(
      `state_dir ${stateDir} belongs to uid ${dir.uid}, neither root nor ${uid}: ${fix}`,
    );
  }
  if ((dir.mode ?? 0) & 0o022) {
    throw new StateDirError(
      `state_dir ${stateDir} is writable by group or others (mode ${
        ((dir.mode ?? 0) & 0o7777).toString(8)
      }): chmod 700 it`,
    );
  }
  const entries: Deno.DirEntry[] = [];
  try {
    for await (const e of Deno.readDir(stateDir)) {
      if (entries.push(e) > MAX_ENTRIES) {
        throw new StateDirError(
          `state_dir ${stateDir} holds over ${MAX_ENTRIES} entries; vmesh makes a few: ${fix}`,
        );
      }
    }
  } catch (e) {
    if (e instanceof StateDirError) throw e;
    throw new StateDirError(
      `cannot list state_dir ${stateDir} (${(e as Error).message}): a root without ` +
        "CAP_DAC_OVERRIDE cannot read a state_dir an earlier run gave to nobody; give it back " +
        `first (chown -R root: ${stateDir}) or start with full root`,
      { cause: e },
    );
  }
  for (const e of entries) {
    const path = `${stateDir}/${e.name}`;
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue; // gone meanwhile
      throw new StateDirError(`state_dir entry ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (!info.isFile || info.isSymlink) {
      throw new StateDirError(
        `state_dir entry ${path} is ${describe(info)}; vmesh makes regular files only: ${fix}`,
      );
    }
    if ((info.nlink ?? 1) !== 1) {
      throw new StateDirError(
        `state_dir entry ${path} has ${info.nlink} hard links; vmesh's files have one: ${fix}`,
      );
    }
    if (info.uid !== 0 && info.uid !== uid) {
      throw new StateDirError(
        `state_dir entry ${path} belongs to uid ${info.uid}, neither root nor ${uid}: ${fix}`,
      );
    }
  }
  return dir;
}

/**
 * Hands `stateDir` (the directory only, never following a link) to uid/gid, then drops the
 * process to them for good. Fails closed: any error leaves the caller to stop the node.
 * @param stateDir the configured state_dir (vmesh has created it by now)
 * @param uid the unprivileged user
 * @param gid its group
 * @throws {StateDirError} when state_dir is not what vmesh made, {SyscallError} or
 *   {Error} from lchown and dropPrivileges
 */
export async function dropToUnprivileged(
  stateDir: string,
  uid: number,
  gid: number,
): Promise<void> {
  const before = await checkStateDir(stateDir, uid);
  if (!before) throw new StateDirError(`state_dir ${stateDir} does not exist`);
  lchown(stateDir, uid, gid);
  // Did the lchown land on the directory we checked? (A swap in between would have changed
  // the owner of a link at worst, never of its target; refuse to run on it either way.)
  const after = await Deno.lstat(stateDir);
  if (!after.isDirectory || after.ino !== before.ino || after.dev !== before.dev) {
    throw new StateDirError(`state_dir ${stateDir} changed while vmesh was handing it over`);
  }
  dropPrivileges(uid, gid);
}
