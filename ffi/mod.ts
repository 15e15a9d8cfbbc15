/**
 * The only room that lays out C structs or calls libc (`Deno.dlopen`): the typed libc symbol
 * table, errno handling ({@link SyscallError}), Linux TUN devices and interface ioctls, and
 * dropping root. Imports nothing from `src/`.
 * @module
 */
export {
  check,
  Errno,
  type ErrnoHints,
  type ErrnoName,
  errnoName,
  lastErrno,
  SyscallError,
  syscallError,
} from "./errno.ts";
export {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  type Libc,
  libc,
  MSG_DONTWAIT,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDWR,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  POLLOUT,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
} from "./libc.ts";
export { dropPrivileges, NOBODY } from "./privileges.ts";
export {
  addDeviceRoute,
  addInterfaceAddress,
  closeFd,
  deleteDeviceRoute,
  interfaceIndex,
  interfaceMtu,
  isErrno,
  openTun,
  setInterfaceMtu,
  setInterfaceTxQueueLen,
  setInterfaceUp,
  TUN_DEVICE_PATH,
  type TunHandle,
  type TunOpenOptions,
  validateIfName,
} from "./tun_linux.ts";
