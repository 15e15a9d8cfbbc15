/**
 * Plain file-descriptor calls for the packet path: one `read`/`write` per packet on a TUN fd,
 * and `close`. Each returns libc's result unchanged (-1 on failure: read {@link lastErrno}
 * right after the call), so the caller decides per errno whether to drop, retry or fail; none
 * allocates.
 * @module
 */
import { libc } from "./libc.ts";

/**
 * read(2) of at most `len` bytes into `buf` (len ≤ buf.length). Returns the byte count, or -1
 * (errno tells why; EAGAIN when a non-blocking fd has nothing).
 */
export function readFd(fd: number, buf: Uint8Array, len: number): number {
  return libc().read(fd, buf, len);
}

/** write(2) of `buf[0..len)`. Returns the byte count, or -1 (errno tells why). */
export function writeFd(fd: number, buf: Uint8Array, len: number): number {
  return libc().write(fd, buf, len);
}

/** Closes a file descriptor; errors are ignored (the fd is gone either way on Linux). */
export function closeFd(fd: number): void {
  if (fd >= 0) libc().close(fd);
}
