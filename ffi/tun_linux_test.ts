import { assertEquals, assertThrows } from "../tests/_harness/assert.ts";
import { SyscallError } from "./errno.ts";
import { openTun, validateIfName } from "./tun_linux.ts";

Deno.test("validateIfName() accepts kernel-valid names and templates", () => {
  for (const n of ["vmesh0", "vmesh%d", "a", "x".repeat(15), "tun-1.v_2"]) validateIfName(n);
});

Deno.test("validateIfName() refuses what the kernel would refuse, before any ioctl", () => {
  assertThrows(
    () => validateIfName("x".repeat(16)),
    RangeError,
    "16 bytes; Linux allows at most 15",
  );
  assertThrows(() => validateIfName(""), RangeError, "empty");
  assertThrows(() => validateIfName("a b"), RangeError, "printable ASCII");
  assertThrows(() => validateIfName("a/b"), RangeError);
  assertThrows(() => validateIfName("a:b"), RangeError);
  assertThrows(() => validateIfName(".."), RangeError, "reserved");
  assertThrows(() => validateIfName("v%d%d"), RangeError, "%d");
  assertThrows(() => validateIfName("v%s"), RangeError, "%d");
  assertThrows(() => validateIfName("vm%d", false), RangeError);
});

Deno.test("openTun() explains a missing TUN device node", () => {
  const e = assertThrows(
    () => openTun({ name: "vmt%d", devicePath: "/nonexistent/net/tun" }),
    SyscallError,
  ) as SyscallError;
  assertEquals(e.errnoName, "ENOENT");
  assertEquals(e.syscall, "opening /nonexistent/net/tun");
  assertEquals(e.message.includes("modprobe tun"), true);
});

Deno.test("openTun() refuses a name over 15 bytes with a clear error", () => {
  assertThrows(() => openTun({ name: "vmt-much-too-long0" }), RangeError, "at most 15");
});
