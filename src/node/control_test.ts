import { assertEquals, assertRejects } from "../../tests/_harness/assert.ts";
import { ControlError, controlRequest, ControlServer } from "./control.ts";

Deno.test("ControlServer answers commands over a 0600 Unix socket", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/sub/control.sock`;
  const server = await ControlServer.listen(path, (cmd) => {
    if (cmd === "status") return { name: "a" };
    throw new Error(`unknown command "${cmd}"`);
  });
  try {
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
    assertEquals(await controlRequest(path, "status"), { name: "a" });
    await assertRejects(() => controlRequest(path, "nope"), ControlError, 'unknown command "nope"');
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ControlServer refuses a socket path in use and replaces a stale one", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/control.sock`;
  const first = await ControlServer.listen(path, () => 1);
  await assertRejects(() => ControlServer.listen(path, () => 2), ControlError, "in use");
  await first.close();
  // A dead node leaves its socket file behind with nobody listening on it.
  const l = Deno.listen({ transport: "unix", path });
  l.close();
  const second = await ControlServer.listen(path, () => 3);
  assertEquals(await controlRequest(path, "x"), 3);
  await second.close();
  await Deno.writeTextFile(`${dir}/file`, "x");
  await assertRejects(
    () => ControlServer.listen(`${dir}/file`, () => 4),
    ControlError,
    "not a socket",
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("controlRequest() explains a missing node", async () => {
  await assertRejects(
    () => controlRequest("/nonexistent/vmesh.sock", "status"),
    ControlError,
    "is the node running",
  );
});

Deno.test("ControlServer survives a garbage request and an oversize one", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/c.sock`;
  const server = await ControlServer.listen(path, () => "fine");
  for (const junk of ["not json\n", "x".repeat(2 * 1024 * 1024 + 10)]) {
    const c = await Deno.connect({ transport: "unix", path });
    // The whole request, past the 2 MiB limit: the node stops reading and closes.
    const b = new TextEncoder().encode(junk);
    for (let off = 0; off < b.length;) {
      const n = await c.write(b.subarray(off)).catch(() => -1);
      if (n < 0) break;
      off += n;
    }
    const buf = new Uint8Array(1000);
    await c.read(buf).catch(() => null);
    c.close();
  }
  assertEquals(await controlRequest(path, "status"), "fine");
  await server.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("ControlServer creates its socket file closed to others from the start (umask 0077 at bind)", async () => {
  // The window between bind(2) and chmod(2) matters: connect(2) on a Unix socket needs write
  // permission on its file only at connect time, so a local user who connects while the file
  // is still 0755 keeps a working connection after the chmod and can read status, routes and
  // the DC. So observe the file as it is just after bind, before any chmod.
  const dir = await Deno.makeTempDir();
  const path = `${dir}/control.sock`;
  const realChmod = Deno.chmod;
  let modeAtBind: number | undefined;
  (Deno as { chmod: typeof Deno.chmod }).chmod = async (p, mode) => {
    if (p === path && modeAtBind === undefined) modeAtBind = (await Deno.lstat(path)).mode!;
    return await realChmod(p, mode);
  };
  const umaskBefore = Deno.umask();
  let server: ControlServer | undefined;
  try {
    server = await ControlServer.listen(path, () => ({}));
    if (modeAtBind === undefined) modeAtBind = (await Deno.lstat(path)).mode!;
    assertEquals((modeAtBind & 0o077).toString(8), "0", "no access for group and others at bind");
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
    assertEquals(Deno.umask(), umaskBefore, "the process umask is restored");
  } finally {
    (Deno as { chmod: typeof Deno.chmod }).chmod = realChmod;
    await server?.close();
    await Deno.remove(dir, { recursive: true });
  }
});
