/**
 * The libc functions vmesh calls, in one typed table, and the lazily opened library.
 *
 * This folder is the only place that calls `Deno.dlopen`. Every symbol carries its C prototype.
 * Functions that return `ssize_t` for a packet-sized count (read, write, recv, send…) are
 * declared with an `i32` result: the count always fits in 31 bits, the low 32 bits of -1 are
 * -1 on x86-64 and arm64, and a 64-bit result would cost a BigInt allocation per packet.
 * Likewise their `size_t` length arguments are declared `u32` (the FFI zero-extends them into
 * the 64-bit register), so a plain number can be passed without a BigInt.
 * @module
 */

/** The symbol table passed to `Deno.dlopen("libc.so.6", …)`. */
export const LIBC_SYMBOLS = {
  /** int open(const char *path, int flags, mode_t mode); */
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  /** int close(int fd); */
  close: { parameters: ["i32"], result: "i32" },
  /** ssize_t read(int fd, void *buf, size_t count); — result narrowed, see module doc */
  read: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  /** ssize_t write(int fd, const void *buf, size_t count); — result narrowed */
  write: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  /** int ioctl(int fd, unsigned long request, void *arg); */
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  /** int ioctl(int fd, unsigned long request, unsigned long arg); — argument by value */
  ioctl_u64: { name: "ioctl", parameters: ["i32", "u64", "u64"], result: "i32" },
  /** int poll(struct pollfd *fds, nfds_t nfds, int timeout); — on a worker thread, awaited */
  poll_async: {
    name: "poll",
    parameters: ["buffer", "u64", "i32"],
    result: "i32",
    nonblocking: true,
  },
  /** int fcntl(int fd, int cmd, long arg); — non-negative integer argument (F_GETFL, F_SETFL), passed zero-extended */
  fcntl: { parameters: ["i32", "i32", "u32"], result: "i32" },
  /** int fcntl(int fd, int cmd, void *arg); — pointer argument (F_SETOWN_EX) */
  fcntl_ptr: { name: "fcntl", parameters: ["i32", "i32", "buffer"], result: "i32" },
  /** pid_t gettid(void); */
  gettid: { parameters: [], result: "i32" },
  /** int eventfd(unsigned int initval, int flags); */
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  /** int socket(int domain, int type, int protocol); */
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  /** int bind(int fd, const struct sockaddr *addr, socklen_t addrlen); */
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  /** int connect(int fd, const struct sockaddr *addr, socklen_t addrlen); */
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  /** int getsockname(int fd, struct sockaddr *addr, socklen_t *addrlen); */
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  /** int setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen); */
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  /** ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *dest, socklen_t addrlen); — result narrowed */
  sendto: {
    parameters: ["i32", "buffer", "u32", "i32", "buffer", "u32"],
    result: "i32",
  },
  /** ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *src, socklen_t *addrlen); — result narrowed */
  recvfrom: {
    parameters: ["i32", "buffer", "u32", "i32", "buffer", "buffer"],
    result: "i32",
  },
  /** int sendmmsg(int fd, struct mmsghdr *msgvec, unsigned int vlen, int flags); */
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  /** int recvmmsg(int fd, struct mmsghdr *msgvec, unsigned int vlen, int flags, struct timespec *timeout); */
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "buffer"], result: "i32" },
  /** int unlink(const char *path); */
  unlink: { parameters: ["buffer"], result: "i32" },
  /** int setgroups(size_t size, const gid_t *list); */
  setgroups: { parameters: ["usize", "pointer"], result: "i32" },
  /** int setgid(gid_t gid); */
  setgid: { parameters: ["u32"], result: "i32" },
  /** int setuid(uid_t uid); */
  setuid: { parameters: ["u32"], result: "i32" },
  /** uid_t getuid(void); */
  getuid: { parameters: [], result: "u32" },
  /** uid_t geteuid(void); */
  geteuid: { parameters: [], result: "u32" },
  /** gid_t getgid(void); */
  getgid: { parameters: [], result: "u32" },
  /** gid_t getegid(void); */
  getegid: { parameters: [], result: "u32" },
  /** int getgroups(int size, gid_t list[]); */
  getgroups: { parameters: ["i32", "buffer"], result: "i32" },
  /** int lchown(const char *path, uid_t owner, gid_t group); — never follows a symlink */
  lchown: { parameters: ["buffer", "u32", "u32"], result: "i32" },
  /** int *__errno_location(void); */
  __errno_location: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The opened libc's symbols. */
export type Libc = Deno.DynamicLibrary<typeof LIBC_SYMBOLS>["symbols"];

let lib: Deno.DynamicLibrary<typeof LIBC_SYMBOLS> | undefined;

/**
 * Returns libc's symbols, opening `libc.so.6` on first use (needs `--allow-ffi`).
 * @throws {Error} when libc cannot be loaded (not glibc Linux, or FFI not permitted).
 */
export function libc(): Libc {
  if (lib === undefined) {
    try {
      lib = Deno.dlopen("libc.so.6", LIBC_SYMBOLS);
    } catch (e) {
      throw new Error(
        `cannot load libc.so.6 through FFI (vmesh needs glibc Linux and --allow-ffi): ${
          e instanceof Error ? e.message : String(e)
        }`,
        { cause: e },
      );
    }
  }
  return lib.symbols;
}

/** open(2) flags and other constants used across `ffi/`. */
export const O_RDWR = 2;
/** Non-blocking I/O on the file descriptor. */
export const O_NONBLOCK = 0x800;
/** Close the descriptor on exec. */
export const O_CLOEXEC = 0x80000;
/** poll(2): data to read. */
export const POLLIN = 0x1;
/** poll(2): error condition. */
export const POLLERR = 0x8;
/** poll(2): hang up. */
export const POLLHUP = 0x10;
/** poll(2): invalid descriptor. */
export const POLLNVAL = 0x20;
/** eventfd(2) flags. */
export const EFD_NONBLOCK = 0x800;
/** eventfd(2) close-on-exec flag. */
export const EFD_CLOEXEC = 0x80000;
/** Address families and socket types. */
export const AF_UNIX = 1;
/** IPv6 address family. */
export const AF_INET6 = 10;
/** Datagram socket type. */
export const SOCK_DGRAM = 2;
/** socket(2) type flag: non-blocking. */
export const SOCK_NONBLOCK = 0x800;
/** socket(2) type flag: close-on-exec. */
export const SOCK_CLOEXEC = 0x80000;
/** send/recv flag: do not block this call. */
export const MSG_DONTWAIT = 0x40;
