/**
 * The only room that lays out C structs or calls libc (`Deno.dlopen`): the typed libc symbol
 * table, errno handling ({@link SyscallError}), plain fd calls, the fd poller and SIGIO wake-ups, UDP sockets
 * with recvmmsg/sendmmsg, libsodium's ChaCha20-Poly1305, unixgram sockets, Linux TUN devices and interface ioctls, and dropping
 * root. Imports nothing from `src/`.
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
export { closeFd, readFd, writeFd } from "./fd.ts";
export { FdPoller, POLL_ERROR_BITS } from "./fd_poller.ts";
export {
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
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
} from "./libc.ts";
export { dropPrivileges, lchown, NOBODY } from "./privileges.ts";
export {
  addDeviceRoute,
  addInterfaceAddress,
  deleteDeviceRoute,
  interfaceIndex,
  interfaceMtu,
  isErrno,
  openTun,
  type RoutePrefix,
  setInterfaceMtu,
  setInterfaceTxQueueLen,
  setInterfaceUp,
  TUN_DEVICE_PATH,
  type TunHandle,
  type TunOpenOptions,
  validateIfName,
} from "./tun_linux.ts";
export {
  connectUdp6,
  MmsgRing,
  openUdp6Socket,
  recvMmsg,
  sendMmsg,
  setSocketBuffers,
  SOCKADDR_IN6_LEN,
  socketPort,
  UDP_GSO_MAX_BYTES,
  UDP_GSO_MAX_SEGMENTS,
} from "./udp_socket.ts";
export { sigioCount, SigioWaiter } from "./sigio.ts";
export {
  SODIUM_KEY_BYTES,
  SODIUM_NONCE_BYTES,
  SODIUM_TAG_BYTES,
  type SodiumAead,
  sodiumAead,
  sodiumLoadError,
} from "./sodium.ts";
export { sockaddrUn, SUN_PATH_MAX, UnixDatagramSocket } from "./unix_dgram.ts";
