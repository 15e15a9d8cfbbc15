/**
 * Linux TUN devices and interface configuration by ioctl (addresses by rtnetlink, see
 * `netlink_addr.ts`), no `ip` subprocess.
 *
 * Layouts (x86-64 and arm64): `struct ifreq` 40 B (name[16], then flags i16 / mtu i32 /
 * ifindex i32 / qlen i32 at 16); `struct in6_ifreq` 24 B (addr[16], prefixlen u32 @16,
 * ifindex i32 @20); `struct in6_rtmsg` 80 B (dst @0, src @16, gw @32, type u32 @48,
 * dst_len u16 @52, src_len u16 @54, metric u32 @56, info u64 @64, flags u32 @72,
 * ifindex i32 @76).
 * @module
 */
import { check, Errno, type ErrnoHints, SyscallError } from "./errno.ts";
import { closeFd } from "./fd.ts";
import { addAddressNoDad } from "./netlink_addr.ts";
import { AF_INET6, libc, O_CLOEXEC, O_NONBLOCK, O_RDWR, SOCK_CLOEXEC, SOCK_DGRAM } from "./libc.ts";

/** An IPv6 prefix as the route ioctls take it (16 address bytes, host bits zero; 0..128). */
export interface RoutePrefix {
  readonly addr: Uint8Array;
  readonly len: number;
}

/** Where the TUN clone device lives. */
export const TUN_DEVICE_PATH = "/dev/net/tun";
/** Interface names are at most IFNAMSIZ - 1 = 15 bytes. */
export const IFNAMSIZ = 16;

/** ioctl request numbers. */
export const TUNSETIFF = 0x400454ca;
/** Sets the offloads the reader accepts; argument by value. */
export const TUNSETOFFLOAD = 0x400454d0;
/** Reads the driver's supported IFF_* flags. */
export const TUNGETFEATURES = 0x800454cf;
/** Sets the virtio_net_hdr size (int *). */
export const TUNSETVNETHDRSZ = 0x400454d8;
const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const SIOCGIFMTU = 0x8921;
const SIOCSIFMTU = 0x8922;
const SIOCGIFINDEX = 0x8933;
const SIOCADDRT = 0x890b;
const SIOCDELRT = 0x890c;
const SIOCSIFTXQLEN = 0x8943;

/** TUNSETIFF flags. */
export const IFF_TUN = 0x1;
/** No packet-information prefix in front of packets. */
export const IFF_NO_PI = 0x1000;
/** A virtio_net_hdr in front of every packet. */
export const IFF_VNET_HDR = 0x4000;
const IFF_UP = 0x1;
/** TUNSETOFFLOAD flags. */
export const TUN_F_CSUM = 0x1;
/** Accept TCPv4 segmentation offload. */
export const TUN_F_TSO4 = 0x2;
/** Accept TCPv6 segmentation offload. */
export const TUN_F_TSO6 = 0x4;
const RTF_UP = 0x1;

/** Options for {@link openTun}. */
export interface TunOpenOptions {
  /** Interface name or kernel template such as "vmesh%d" (default "vmesh%d"). ≤ 15 bytes. */
  name?: string;
  /**
   * Size of the virtio_net_hdr to put before every packet (IFF_VNET_HDR, TUNSETVNETHDRSZ;
   * the caller's one constant, 10 for `struct virtio_net_hdr`). 0 or absent: none.
   */
  vnetHdrLen?: number;
  /** With a vnet header: accept checksum and TCP segmentation offload (super-packets). Default true. */
  offload?: boolean;
  /** Open the fd with O_NONBLOCK. Default true. */
  nonblocking?: boolean;
  /** The clone device; default {@link TUN_DEVICE_PATH}. Tests point it elsewhere. */
  devicePath?: string;
}

/** An open TUN device. Close it with {@link closeFd}; a non-persistent device then vanishes. */
export interface TunHandle {
  /** The file descriptor: read() returns one packet, write() sends one. */
  readonly fd: number;
  /** The kernel's name for the device (templates expanded). */
  readonly name: string;
  /** True when packets carry a virtio_net_hdr. */
  readonly vnetHdr: boolean;
  /** True when checksum/TSO offloads were enabled (reads may be super-packets). */
  readonly offload: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Checks an interface name or template the way the kernel will, with a readable error.
 * @throws {TypeError} for a non-string, {RangeError} for a bad length or character.
 */
export function validateIfName(name: string, allowTemplate = true): void {
  if (typeof name !== "string") throw new TypeError(`interface name must be a string`);
  const bytes = encoder.encode(name).length;
  if (bytes === 0) throw new RangeError(`interface name is empty`);
  if (bytes > IFNAMSIZ - 1) {
    throw new RangeError(
      `interface name "${name}" is ${bytes} bytes; Linux allows at most ${IFNAMSIZ - 1}`,
    );
  }
  if (name === "." || name === "..") throw new RangeError(`interface name "${name}" is reserved`);
  if (!/^[\x21-\x7e]+$/.test(name) || /[/:]/.test(name)) {
    throw new RangeError(
      `interface name "${name}" may hold only printable ASCII without spaces, "/" or ":"`,
    );
  }
  const pct = name.indexOf("%");
  if (pct >= 0) {
    if (!allowTemplate) throw new RangeError(`interface name "${name}" contains "%"`);
    if (name[pct + 1] !== "d" || name.indexOf("%", pct + 1) >= 0) {
      throw new RangeError(`interface name template "${name}" may contain "%d" once, no other %`);
    }
  }
}

function ifreq(name: string): Uint8Array {
  const buf = new Uint8Array(40);
  buf.set(encoder.encode(name).subarray(0, IFNAMSIZ - 1));
  return buf;
}

function ifreqName(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return decoder.decode(buf.subarray(0, end < 0 || end > IFNAMSIZ ? IFNAMSIZ : end));
}

const NEEDS_ADMIN =
  "vmesh needs CAP_NET_ADMIN (run as root or grant the capability, e.g. setcap cap_net_admin+ep)";

/**
 * Opens the clone device and attaches a TUN interface (IFF_TUN | IFF_NO_PI, plus
 * IFF_VNET_HDR and offloads when asked). The interface is created down, with no address.
 * @throws {RangeError} for a bad name, {SyscallError} when the kernel refuses.
 */
export function openTun(opts: TunOpenOptions = {}): TunHandle {
  const name = opts.name ?? "vmesh%d";
  validateIfName(name);
  const vnetHdrLen = opts.vnetHdrLen ?? 0;
  if (!Number.isInteger(vnetHdrLen) || vnetHdrLen < 0 || vnetHdrLen > 64) {
    throw new RangeError(`vnetHdrLen ${vnetHdrLen} is out of range 0..64`);
  }
  const vnetHdr = vnetHdrLen > 0;
  const offload = vnetHdr && (opts.offload ?? true);
  const path = opts.devicePath ?? TUN_DEVICE_PATH;
  const lib = libc();
  const flags = O_RDWR | O_CLOEXEC | ((opts.nonblocking ?? true) ? O_NONBLOCK : 0);
  const fd = check(lib.open(encoder.encode(path + "\0"), flags, 0), `opening ${path}`, {
    ENOENT: `${path} does not exist — the TUN driver is missing: run "modprobe tun" ` +
      `(in a container, pass the device: --device /dev/net/tun)`,
    ENODEV: `the TUN driver is not loaded: run "modprobe tun"`,
    ENXIO: `the TUN driver is not loaded: run "modprobe tun"`,
    EACCES: `permission denied — ${NEEDS_ADMIN}`,
    EPERM: NEEDS_ADMIN,
  });
  try {
    const req = ifreq(name);
    new DataView(req.buffer).setInt16(16, IFF_TUN | IFF_NO_PI | (vnetHdr ? IFF_VNET_HDR : 0), true);
    check(lib.ioctl(fd, BigInt(TUNSETIFF), req), `creating TUN "${name}" (ioctl TUNSETIFF)`, {
      EPERM: NEEDS_ADMIN,
      EBUSY: `interface name "${name}" is taken: a TUN of that name is open in another ` +
        `process — pick another tun_name or stop that process`,
      EINVAL: `interface name "${name}" is taken by an interface that is not a compatible TUN ` +
        `— pick another tun_name or delete it ("ip link del ${name}")`,
      ENFILE: `the kernel cannot allocate another interface from "${name}"`,
    });
    const real = ifreqName(req);
    if (vnetHdr) {
      const sz = new Uint8Array(4);
      new DataView(sz.buffer).setInt32(0, vnetHdrLen, true);
      check(lib.ioctl(fd, BigInt(TUNSETVNETHDRSZ), sz), `ioctl(TUNSETVNETHDRSZ) on ${real}`);
      if (offload) {
        check(
          lib.ioctl_u64(fd, BigInt(TUNSETOFFLOAD), BigInt(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)),
          `enabling checksum/TSO offload on ${real} (ioctl TUNSETOFFLOAD)`,
          {
            EINVAL: "this kernel's TUN driver does not support these offloads; set offload: false",
          },
        );
      }
    }
    return { fd, name: real, vnetHdr, offload };
  } catch (e) {
    closeFd(fd);
    throw e;
  }
}

/** Runs `fn` with a throw-away AF_INET6 datagram socket for interface ioctls. */
function withCtlSocket<T>(what: string, fn: (sock: number) => T): T {
  const sock = check(
    libc().socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0),
    `${what}: socket(AF_INET6)`,
    { EAFNOSUPPORT: "IPv6 is disabled in this kernel; vmesh needs IPv6" },
  );
  try {
    return fn(sock);
  } finally {
    closeFd(sock);
  }
}

function ifIoctl(name: string, req: number, what: string, fill?: (dv: DataView) => void): DataView {
  validateIfName(name, false);
  const buf = ifreq(name);
  const dv = new DataView(buf.buffer);
  fill?.(dv);
  withCtlSocket(what, (sock) => {
    check(libc().ioctl(sock, BigInt(req), buf), what, {
      ENODEV: `no interface named "${name}"`,
      EPERM: NEEDS_ADMIN,
    });
  });
  return dv;
}

/** Returns the interface's index. @throws {SyscallError} (ENODEV when it does not exist). */
export function interfaceIndex(name: string): number {
  return ifIoctl(name, SIOCGIFINDEX, `looking up interface "${name}" (SIOCGIFINDEX)`)
    .getInt32(16, true);
}

/** Returns the interface's MTU. @throws {SyscallError} */
export function interfaceMtu(name: string): number {
  return ifIoctl(name, SIOCGIFMTU, `reading MTU of "${name}" (SIOCGIFMTU)`).getInt32(16, true);
}

/**
 * Sets the interface's MTU (IPv6 needs ≥ 1280).
 * @throws {RangeError} for an MTU out of 1280..65535, {SyscallError} when refused.
 */
export function setInterfaceMtu(name: string, mtu: number): void {
  if (!Number.isInteger(mtu) || mtu < 1280 || mtu > 65535) {
    throw new RangeError(`MTU ${mtu} for "${name}" is out of range: IPv6 needs 1280..65535`);
  }
  ifIoctl(name, SIOCSIFMTU, `setting MTU ${mtu} on "${name}" (SIOCSIFMTU)`, (dv) => {
    dv.setInt32(16, mtu, true);
  });
}

/** Sets the transmit queue length (packets the kernel queues towards the reader). */
export function setInterfaceTxQueueLen(name: string, qlen: number): void {
  if (!Number.isInteger(qlen) || qlen < 1 || qlen > 1_000_000) {
    throw new RangeError(`txqueuelen ${qlen} for "${name}" is out of range 1..1000000`);
  }
  ifIoctl(name, SIOCSIFTXQLEN, `setting txqueuelen of "${name}" (SIOCSIFTXQLEN)`, (dv) => {
    dv.setInt32(16, qlen, true);
  });
}

/** Brings the interface up (or down) by setting IFF_UP, keeping its other flags. */
export function setInterfaceUp(name: string, up = true): void {
  const flags = ifIoctl(name, SIOCGIFFLAGS, `reading flags of "${name}" (SIOCGIFFLAGS)`)
    .getUint16(16, true);
  const want = up ? flags | IFF_UP : flags & ~IFF_UP;
  ifIoctl(name, SIOCSIFFLAGS, `bringing "${name}" ${up ? "up" : "down"} (SIOCSIFFLAGS)`, (dv) => {
    dv.setUint16(16, want, true);
  });
}

/**
 * Adds an IPv6 address, usable when this returns: by rtnetlink with IFA_F_NODAD (see
 * `netlink_addr.ts`; by SIOCSIFADDR it would stay tentative, unbindable, for a while). The
 * kernel also adds the on-link route for the prefix once the interface is up.
 * @throws {SyscallError} (EEXIST when the address is already there).
 */
export function addInterfaceAddress(name: string, addr: Uint8Array, prefixLen: number): void {
  addAddressNoDad(interfaceIndex(name), addr, prefixLen, `adding address to "${name}"`, {
    EEXIST: "the address is already assigned",
    EPERM: NEEDS_ADMIN,
  });
}

function in6Rtmsg(prefix: RoutePrefix, metric: number, ifindex: number): Uint8Array {
  if (!Number.isInteger(metric) || metric < 0 || metric > 0xffffffff) {
    throw new RangeError(`route metric ${metric} is out of range`);
  }
  const buf = new Uint8Array(80);
  buf.set(prefix.addr, 0);
  const dv = new DataView(buf.buffer);
  dv.setUint16(52, prefix.len, true);
  dv.setUint32(56, metric, true);
  dv.setUint32(72, RTF_UP, true);
  dv.setInt32(76, ifindex, true);
  return buf;
}

function routeIoctl(req: number, name: string, prefix: RoutePrefix, metric: number, what: string) {
  const msg = in6Rtmsg(prefix, metric, interfaceIndex(name));
  const hints: ErrnoHints = {
    EEXIST: "the route already exists",
    ESRCH: "no such route",
    ENETDOWN: `"${name}" is down`,
    EPERM: NEEDS_ADMIN,
  };
  withCtlSocket(what, (sock) => void check(libc().ioctl(sock, BigInt(req), msg), what, hints));
}

/**
 * Adds a kernel route for `prefix` into interface `name` (SIOCADDRT with in6_rtmsg).
 * `text` is the prefix as the operator wrote it (for messages). `metric` 0 lets the kernel
 * pick its default (1024).
 * @throws {SyscallError} (EEXIST when that route exists, ENETDOWN when the device is down).
 */
export function addDeviceRoute(name: string, prefix: RoutePrefix, text: string, metric = 0): void {
  routeIoctl(SIOCADDRT, name, prefix, metric, `adding route ${text} dev ${name}`);
}

/**
 * Removes the route for `prefix` via interface `name` (SIOCDELRT). `metric` 0 matches any.
 * @throws {SyscallError} (ESRCH when there is no such route).
 */
export function deleteDeviceRoute(
  name: string,
  prefix: RoutePrefix,
  text: string,
  metric = 0,
): void {
  routeIoctl(SIOCDELRT, name, prefix, metric, `removing route ${text} dev ${name}`);
}

/** True when a {@link SyscallError} carries the given errno name. */
export function isErrno(e: unknown, name: keyof typeof Errno): boolean {
  return e instanceof SyscallError && e.errno === Errno[name];
}
