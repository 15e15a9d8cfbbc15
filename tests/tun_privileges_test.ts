/**
 * dropPrivileges() in a subprocess: it ends as nobody on every thread, cannot regain root,
 * and a TUN opened before keeps working. Needs root; skipped with a message otherwise.
 */
import { assertEquals, assertStringIncludes } from "./_harness/assert.ts";
import { ignoreUnlessRoot, runChildOk, withNetns } from "./tun_netns.ts";

Deno.test({
  name: "dropPrivileges() leaves uid/gid 65534 everywhere and the TUN opened before still works",
  ignore: ignoreUnlessRoot(),
  fn: () =>
    withNetns(async (ns) => {
      const r = await runChildOk(ns, "privileges");
      assertEquals([r.uid, r.gid], [65534, 65534]);
      assertEquals(r.uidLine, "65534\t65534\t65534\t65534", "real, effective, saved, fs uid");
      assertEquals(r.gidLine, "65534\t65534\t65534\t65534");
      assertEquals(r.groupsLine, "", "no supplementary groups");
      for (const t of r.threadUids) assertEquals(t, "65534\t65534\t65534\t65534");
      assertEquals(r.pingOk, true, "echo request read and reply written after the drop");
      assertEquals(r.afterDrop.errorClass, "SyscallError");
      assertStringIncludes(r.afterDrop.message, "CAP_NET_ADMIN");
      assertEquals(r.again.errnoName, "EPERM");
      assertEquals(r.existsAfterClose, false, "closing the fd as nobody still removes the device");
    }),
});
