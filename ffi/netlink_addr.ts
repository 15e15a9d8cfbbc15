/**
 * Adding an IPv6 address by rtnetlink (RTM_NEWADDR), so that it can carry IFA_F_NODAD.
 *
 * Why not SIOCSIFADDR: an address added by ioctl is "tentative" until the kernel's DAD work
 * item runs, asynchronously, even on a TUN (IFF_NOARP: DAD itself is skipped, but the flag is
 * cleared only when the work runs). Until then bind() to it fails with EADDRNOTAVAIL and
 * packets to it are dropped; measured: 6 of 30 adds were still tentative when the ioctl
 * returned on a loaded machine. With IFA_F_NODAD the address is usable when the call returns.
 *
 * Layouts: `struct nlmsghdr` 16 B (len u32, type u16, flags u16, seq u32, pid u32);
 * `struct ifaddrmsg` 8 B (family u8, prefixlen u8, flags u8, scope u8, index u32);
 * `struct rtattr` 4 B (len u16, type u16) + payload padded to 4; `struct sockaddr_nl` 12 B.
 * The answer is an NLMSG_ERROR message whose first field is 0 or a negative errno.
 * @module
 */
import { check, type Errno, type ErrnoHints, errnoName, SyscallError } from "./errno.ts";
import { closeFd } from "./fd.ts";
import { AF_INET6, libc, SOCK_CLOEXEC } from "./libc.ts";

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const NETLINK_ROUTE = 0;
const RTM_NEWADDR = 20;
const NLMSG_ERROR = 2;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const IFA_ADDRESS = 1;
const IFA_F_NODAD = 0x02;

let seq = 0;

/**
 * Adds `addr/prefixLen` to interface `ifindex` without duplicate address detection: the
 * address is not tentative, so it can be bound at once. The kernel adds the on-link prefix
 * route as for SIOCSIFADDR.
 * @throws {SyscallError} (EEXIST when the address is already there)
 */
export function addAddressNoDad(
  ifindex: number,
  addr: Uint8Array,
  prefixLen: number,
  what: string,
  hints: ErrnoHints = {},
): void {
  if (addr.length !== 16) throw new RangeError("IPv6 address must be 16 bytes");
  if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > 128) {
    throw new RangeError(`prefix length ${prefixLen} is out of range 0..128`);
  }
  const msg = new Uint8Array(16 + 8 + 4 + 16);
  const dv = new DataView(msg.buffer);
  const mySeq = ++seq;
  dv.setUint32(0, msg.length, true);
  dv.setUint16(4, RTM_NEWADDR, true);
  dv.setUint16(6, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, true);
  dv.setUint32(8, mySeq, true);
  msg[16] = AF_INET6;
  msg[17] = prefixLen;
  msg[18] = IFA_F_NODAD;
  dv.setUint32(20, ifindex, true);
  dv.setUint16(24, 4 + 16, true);
  dv.setUint16(26, IFA_ADDRESS, true);
  msg.set(addr, 28);
  const kernel = new Uint8Array(12);
  new DataView(kernel.buffer).setUint16(0, AF_NETLINK, true);
  const sock = check(
    libc().socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE),
    `${what}: socket(AF_NETLINK)`,
  );
  try {
    check(libc().sendto(sock, msg, msg.length, 0, kernel, kernel.length), what, hints);
    const ans = new Uint8Array(1024);
    const adv = new DataView(ans.buffer);
    // The ack of our request; the socket joined no groups, so nothing else arrives.
    for (;;) {
      const n = check(libc().recvfrom(sock, ans, ans.length, 0, null, null), what, hints);
      if (n < 20 || adv.getUint16(4, true) !== NLMSG_ERROR || adv.getUint32(8, true) !== mySeq) {
        continue;
      }
      const err = -adv.getInt32(16, true);
      if (err === 0) return;
      const name = errnoName(err) as keyof typeof Errno;
      throw new SyscallError(err, what, hints[name]);
    }
  } finally {
    closeFd(sock);
  }
}
