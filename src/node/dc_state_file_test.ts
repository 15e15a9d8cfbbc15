/**
 * DcSync and `state_dir/dc.bin`: expiry of the DC in force, and a file replaced by anything
 * other than vmesh.
 */
import { assert, assertEquals, assertRejects } from "../../tests/_harness/assert.ts";
import { assertBytes } from "../../tests/_harness/bytes.ts";
import { signDc, type VerifiedDc, verifyDc } from "../dc/mod.ts";
import { createCa, trustStoreFromPem } from "../pki/mod.ts";
import { DcSync, type DcVersion, EXPIRY_WARNING_MS } from "./dc_sync.ts";
import { DcStateError } from "./dc_state_file.ts";

const DAY = 86_400_000;
const enc = new TextEncoder();

/** A fake DC format: 8 bytes time + 8 bytes end time + "ok" marker. */
function fakeDc(t: number, end = 8e15, valid = true): Uint8Array {
  const b = new Uint8Array(17);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(t));
  v.setBigUint64(8, BigInt(end));
  b[16] = valid ? 1 : 0;
  return b;
}
async function verify(raw: Uint8Array): Promise<DcVersion> {
  if (raw.length !== 17 || raw[16] !== 1) throw new Error("bad signature");
  const v = new DataView(raw.buffer, raw.byteOffset);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", raw as Uint8Array<ArrayBuffer>))
    .toHex();
  return {
    notBefore: new Date(Number(v.getBigUint64(0))),
    notAfter: new Date(Number(v.getBigUint64(8))),
    contentHash: hash,
    raw,
  };
}

Deno.test("from 30 days before the DC certificate's end date the node warns, at most once a day, and keeps enforcing it after", async () => {
  const dir = await Deno.makeTempDir();
  const end = Date.UTC(2027, 0, 1);
  let now = end - 40 * DAY;
  const accepted: number[] = [];
  const sync = new DcSync(verify, `${dir}/dc.bin`, (dc) => accepted.push(dc.notBefore.getTime()), {
    wallNow: () => now,
  });
  assert(await sync.applyInitial(fakeDc(end - 365 * DAY, end)));
  const tickFor = async (ms: number, step: number) => {
    for (const stop = now + ms; now < stop; now += step) await sync.tick();
  };
  await tickFor(10 * DAY - 600_000, 600_000); // up to 10 minutes before the 30-day mark
  assertEquals(sync.stats.expiryWarnings, 0);
  assertEquals(sync.expiry()!.warning, false);
  now = end - EXPIRY_WARNING_MS;
  await tickFor(DAY, 300_000); // a day of ticks every 5 minutes: one warning, not 288
  assertEquals(sync.stats.expiryWarnings, 1);
  await tickFor(29 * DAY, 3_600_000);
  assertEquals(sync.stats.expiryWarnings, 30, "one a day");
  assertEquals(sync.expiry(), { expiresAt: new Date(end), expired: false, warning: true });
  await tickFor(10 * DAY, 3_600_000);
  assertEquals(sync.stats.expiryWarnings, 40, "still once a day after the end date");
  assertEquals(sync.expiry()!.expired, true);
  // Expired, the DC is still the one in force; an older one does not replace it…
  assertEquals(sync.current!.notAfter.getTime(), end);
  assertEquals(await sync.receive(fakeDc(end - 400 * DAY, end + 10 * DAY), "b"), "not_newer");
  // …only a newer one does.
  assertEquals(await sync.receive(fakeDc(end - DAY, end + 365 * DAY), "b"), "accepted");
  assertEquals(sync.expiry()!.expired, false);
  assertEquals(accepted.length, 2);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("an expired DC in state_dir is loaded after a restart and enforced until a newer valid DC arrives", async () => {
  const dir = await Deno.makeTempDir();
  const ca = await createCa({ name: "vnet.test", now: new Date("2024-01-01T00:00:00Z") });
  const trust = await trustStoreFromPem(ca.certPem);
  const sign = async (wl: unknown, now: Date) =>
    (await signDc({
      caCertPem: ca.certPem,
      caKeyPem: ca.keyPem,
      content: enc.encode(JSON.stringify({ prefix_whitelist: wl })),
      now,
    })).bytes;
  // Signed in 2024: expired since 2025.
  const old = await sign({ "a.vnet.test": ["fd00:1::/48"] }, new Date("2024-02-01T00:00:00Z"));
  await Deno.writeFile(`${dir}/dc.bin`, old, { mode: 0o600 });
  const whitelists: number[] = [];
  const restarted = () =>
    new DcSync<VerifiedDc>(
      (raw) => verifyDc(raw, trust, new Date(), { allowExpired: true }),
      `${dir}/dc.bin`,
      (dc) => whitelists.push(dc.content.prefixWhitelist.size),
    );
  const sync = restarted();
  await sync.loadPersisted();
  assertBytes(sync.current?.raw, old, "loaded although expired");
  assertEquals(whitelists, [1], "its whitelist is applied");
  assertEquals(sync.expiry()?.expired, true);
  await sync.tick();
  assertEquals(sync.stats.expiryWarnings, 1);
  // A second restart: still there.
  const again = restarted();
  await again.loadPersisted();
  assertBytes(again.current?.raw, old);
  // Today's DC replaces it.
  const fresh = await sign({}, new Date(Date.now() - 60_000));
  assertEquals(await again.receive(fresh, "b"), "accepted");
  assertBytes(await Deno.readFile(`${dir}/dc.bin`), fresh);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a node refuses to start on a dc.bin that vmesh did not write: garbage, invalid, symlink, directory, other owner, oversize", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/dc.bin`;
  const good = `${dir}/good.bin`;
  await Deno.writeFile(good, fakeDc(1000));
  const cases: [string, () => Promise<void>, string][] = [
    ["garbage", () => Deno.writeFile(path, new Uint8Array([1, 2, 3])), "not hold a valid DC"],
    ["invalid", () => Deno.writeFile(path, fakeDc(5000, 8e15, false)), "bad signature"],
    ["symlink", () => Deno.symlink(good, path), "symbolic link"],
    ["directory", () => Deno.mkdir(path), "a directory"],
    ["other owner", async () => {
      await Deno.writeFile(path, fakeDc(5000));
      await Deno.chown(path, 4242, 4242);
    }, "belongs to uid 4242"],
    ["oversize", () => Deno.writeFile(path, new Uint8Array(1024 * 1024 + 1)), "larger than any DC"],
  ];
  for (const [what, plant, why] of cases) {
    await Deno.remove(path, { recursive: true }).catch(() => {});
    await plant();
    const sync = new DcSync(verify, path, () => {});
    const e = await assertRejects(() => sync.loadPersisted(), DcStateError, why);
    assert(e.message.includes("less filtering"), `${what}: ${e.message}`);
    assert(sync.current === undefined, what);
  }
  // The owner the node drops to is allowed when the node says so.
  await Deno.remove(path, { recursive: true });
  await Deno.writeFile(path, fakeDc(5000));
  await Deno.chown(path, 65534, 65534);
  const sync = new DcSync(verify, path, () => {});
  await assertRejects(() => sync.loadPersisted(), DcStateError, "uid 65534");
  sync.allowOwner(65534);
  await sync.loadPersisted();
  assertEquals(sync.current?.notBefore.getTime(), 5000);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a running node reports a dc.bin replaced under it and writes its DC back; a newer valid DC there is taken", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/dc.bin`;
  const applied: number[] = [];
  const sync = new DcSync(verify, path, (dc) => applied.push(dc.notBefore.getTime()));
  assert(await sync.applyInitial(fakeDc(5000)));
  await sync.checkStateFile();
  assertEquals(sync.stats.stateFileProblems, 0, "its own file is fine");
  const replacements: [string, () => Promise<void>][] = [
    ["older DC", () => Deno.writeFile(path, fakeDc(1000))],
    ["garbage", () => Deno.writeFile(path, new Uint8Array([9, 9]))],
    ["removed", () => Deno.remove(path)],
    ["other owner", () => Deno.chown(path, 4242, 4242)],
    ["symlink", async () => {
      await Deno.remove(path);
      await Deno.writeFile(`${dir}/old.bin`, fakeDc(1000));
      await Deno.symlink(`${dir}/old.bin`, path);
    }],
    ["directory", async () => {
      await Deno.remove(path);
      await Deno.mkdir(path);
    }],
  ];
  for (const [i, [what, replace]] of replacements.entries()) {
    await replace();
    await sync.checkStateFile();
    assertEquals(sync.stats.stateFileProblems, i + 1, what);
    assertEquals(sync.current!.notBefore.getTime(), 5000, `${what}: the DC in force is kept`);
    const st = await Deno.lstat(path);
    assert(st.isFile && st.uid === Deno.uid(), `${what}: rewritten by the node`);
    assertBytes(await Deno.readFile(path), fakeDc(5000), `${what}: restored`);
  }
  assertEquals(applied, [5000], "nothing else was ever applied");
  // An operator copying a newer DC there: taken.
  await Deno.writeFile(path, fakeDc(9000));
  await sync.checkStateFile();
  assertEquals(sync.current!.notBefore.getTime(), 9000);
  assertEquals(sync.stats.stateFileProblems, 6);
  await Deno.remove(dir, { recursive: true });
});
