/**
 * Dropping root after the TUN device is open: setgroups(0), setgid, setuid, then verify; and
 * handing a path to the unprivileged user without following symlinks (lchown).
 * @module
 */
import { check } from "./errno.ts";
import { libc } from "./libc.ts";

/** The conventional "nobody" user and group. */
export const NOBODY = 65534;

/**
 * Drops every privilege of the process for good: clears supplementary groups, sets real,
 * effective and saved gid then uid (glibc applies them to every thread). Open file
 * descriptors (the TUN device) keep working. Afterwards it verifies the ids and that root
 * cannot be regained, and throws if anything is off — the caller must then exit rather than
 * run with unknown privileges (fail closed).
 * @param uid user to become (default 65534, nobody); must not be 0.
 * @param gid group to become (default 65534, nogroup); must not be 0.
 * @throws {RangeError} for a bad id, {SyscallError} when a call fails (EPERM when not root),
 *   {Error} when verification finds a privilege left.
 */
export function dropPrivileges(uid = NOBODY, gid = NOBODY): void {
  for (const [what, id] of [["uid", uid], ["gid", gid]] as const) {
    if (!Number.isInteger(id) || id <= 0 || id >= 0xffffffff) {
      throw new RangeError(`dropPrivileges: ${what} ${id} must be an integer in 1..4294967294`);
    }
  }
  const lib = libc();
  const hint = { EPERM: "only root can drop to another user; run vmesh as root" };
  check(lib.setgroups(0n, null), "dropping supplementary groups (setgroups)", hint);
  check(lib.setgid(gid), `switching to group ${gid} (setgid)`, hint);
  check(lib.setuid(uid), `switching to user ${uid} (setuid)`, hint);
  const ids = { uid: lib.getuid(), euid: lib.geteuid(), gid: lib.getgid(), egid: lib.getegid() };
  const groups = new Uint8Array(4 * 64);
  const ngroups = lib.getgroups(64, groups);
  const bad = ids.uid !== uid || ids.euid !== uid || ids.gid !== gid || ids.egid !== gid ||
    ngroups < 0 || (ngroups > 0 && !onlyGroup(groups, ngroups, gid));
  if (bad) {
    throw new Error(
      `dropping privileges did not take effect (now ${JSON.stringify(ids)}, ` +
        `${ngroups} supplementary groups): refusing to continue`,
    );
  }
  if (lib.setuid(0) === 0) {
    throw new Error("dropping privileges failed: setuid(0) still succeeds; refusing to continue");
  }
}

/**
 * Changes the owner of `path` itself, never of what a symlink there points to (lchown(2)):
 * handing a directory to the unprivileged user must not hand over a file someone planted a
 * link to.
 * @param path the file or directory
 * @param uid new owner
 * @param gid new group
 * @throws {SyscallError} when the call fails, {RangeError} for a path with a NUL byte
 */
export function lchown(path: string, uid: number, gid: number): void {
  if (path.includes("\0")) throw new RangeError(`lchown: path contains a NUL byte`);
  const cpath = new TextEncoder().encode(path + "\0");
  check(libc().lchown(cpath, uid, gid), `changing the owner of ${path} (lchown)`);
}

function onlyGroup(buf: Uint8Array, n: number, gid: number): boolean {
  const dv = new DataView(buf.buffer);
  for (let i = 0; i < n; i++) if (dv.getUint32(i * 4, true) !== gid) return false;
  return true;
}
