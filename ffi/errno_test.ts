import { assert, assertEquals, assertThrows } from "../tests/_harness/assert.ts";
import { check, Errno, errnoName, SyscallError } from "./errno.ts";
import { libc, O_RDWR } from "./libc.ts";

Deno.test("check() passes non-negative results through", () => {
  assertEquals(check(0, "x"), 0);
  assertEquals(check(7n, "x"), 7n);
});

Deno.test("check() turns -1 into a SyscallError carrying errno read right after the call", () => {
  const path = new TextEncoder().encode("/nonexistent/vmesh-test\0");
  const e = assertThrows(
    () =>
      check(libc().open(path, O_RDWR, 0), "opening /nonexistent/vmesh-test", {
        ENOENT: "it is not there",
      }),
    SyscallError,
  ) as SyscallError;
  assertEquals(e.errno, Errno.ENOENT);
  assertEquals(e.errnoName, "ENOENT");
  assertEquals(e.message, "opening /nonexistent/vmesh-test: ENOENT — it is not there");
});

Deno.test("SyscallError explains EPERM in operator terms", () => {
  const e = new SyscallError(Errno.EPERM, "ioctl(TUNSETIFF)");
  assert(e.message.startsWith("ioctl(TUNSETIFF): EPERM — "));
  assert(e.message.includes("CAP_NET_ADMIN"));
  assertEquals(errnoName(4242), "errno 4242");
});
