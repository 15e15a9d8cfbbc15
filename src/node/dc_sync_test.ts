import { assert, assertEquals, assertRejects } from "../../tests/_harness/assert.ts";
import { DcSync, type DcVersion } from "./dc_sync.ts";
import { DcStateError } from "./dc_state_file.ts";

/** A fake DC format for these tests: 8 bytes time + "ok" marker; real verification is tested in src/dc. */
function fakeDc(t: number, valid = true): Uint8Array {
  const b = new Uint8Array(10);
  new DataView(b.buffer).setBigUint64(0, BigInt(t));
  b[8] = valid ? 1 : 0;
  b[9] = t & 0xff;
  return b;
}
async function verify(raw: Uint8Array): Promise<DcVersion> {
  if (raw.length !== 10 || raw[8] !== 1) throw new Error("bad signature");
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", raw as Uint8Array<ArrayBuffer>))
    .toHex();
  const t = Number(new DataView(raw.buffer).getBigUint64(0));
  return {
    notBefore: new Date(t),
    notAfter: new Date(8.64e15), // never expires: expiry has its own tests
    contentHash: hash,
    raw,
  };
}

Deno.test("DcSync accepts only strictly newer DCs, persists them and reloads them", async () => {
  const dir = await Deno.makeTempDir();
  const accepted: string[] = [];
  const sync = new DcSync(verify, `${dir}/dc.bin`, (_dc, from) => accepted.push(from ?? "local"));
  assertEquals(sync.offer(), new Uint8Array(40), "no DC: the zero offer");
  assertEquals(await sync.applyInitial(fakeDc(1000)), true);
  assertEquals(await sync.receive(fakeDc(1000), "b"), "not_newer");
  assertEquals(await sync.receive(fakeDc(500), "b"), "not_newer");
  assertEquals(await sync.receive(fakeDc(2000, false), "b"), "invalid");
  assertEquals(await sync.receive(fakeDc(2000), "c"), "accepted");
  assertEquals(accepted, ["local", "c"]);
  assertEquals(sync.current!.notBefore.getTime(), 2000);
  assertEquals((await Deno.stat(`${dir}/dc.bin`)).mode! & 0o777, 0o600);

  const again = new DcSync(verify, `${dir}/dc.bin`, () => {});
  await again.loadPersisted();
  assertEquals(again.current!.notBefore.getTime(), 2000);
  const hash = again.current!.contentHash;
  assert(again.shouldSendTo({ notBefore: 1000, contentHash: hash }));
  assert(!again.shouldSendTo({ notBefore: 2000, contentHash: hash }));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("DcSync reports a bad initial DC and keeps the one it had", async () => {
  const dir = await Deno.makeTempDir();
  const sync = new DcSync(verify, `${dir}/dc.bin`, () => {});
  await sync.applyInitial(fakeDc(1000));
  await assertRejects(() => sync.applyInitial(fakeDc(3000, false)), Error, "bad signature");
  assertEquals(sync.current!.notBefore.getTime(), 1000);
  await Deno.writeFile(`${dir}/dc.bin`, new Uint8Array([1, 2, 3]));
  const fresh = new DcSync(verify, `${dir}/dc.bin`, () => {});
  await assertRejects(() => fresh.loadPersisted(), DcStateError, "does not hold a valid DC");
  assertEquals(fresh.current, undefined);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("DcSync applies a DC before writing it, and concurrent DCs end with the newest on disk", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/dc.bin`;
  const applied: number[] = [];
  const onDiskWhenApplied: boolean[] = [];
  const sync = new DcSync(verify, path, (dc) => {
    applied.push(dc.notBefore.getTime());
    onDiskWhenApplied.push((() => {
      try {
        Deno.statSync(path);
        return true;
      } catch {
        return false;
      }
    })());
  });
  const results = await Promise.all([
    sync.receive(fakeDc(2000), "b"),
    sync.receive(fakeDc(3000), "c"),
    sync.receive(fakeDc(2500), "d"),
  ]);
  // Verification finishes in any order: the newest is always accepted, the others only when
  // they came first; what is applied only ever gets newer.
  assertEquals(results[1], "accepted");
  assertEquals(applied.at(-1), 3000);
  assert(applied.every((t, i) => i === 0 || t > applied[i - 1]), `applied ${applied}`);
  assertEquals(onDiskWhenApplied[0], false, "the whitelist is applied before the write");
  assertEquals(await Deno.readFile(path), fakeDc(3000));
  assertEquals(sync.current!.notBefore.getTime(), 3000);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("DcSync verifies one DC per peer at a time and keeps only the latest one waiting", async () => {
  const dir = await Deno.makeTempDir();
  let running = 0;
  let most = 0;
  /** Verifications waiting to be let through, in arrival order, by the DC's time. */
  const gates: { time: number; open: () => void }[] = [];
  let gateAdded = () => {};
  const slowVerify = async (raw: Uint8Array) => {
    running++;
    most = Math.max(most, running);
    await new Promise<void>((open) => {
      gates.push({ time: Number(new DataView(raw.buffer).getBigUint64(0)), open });
      gateAdded();
    });
    running--;
    return await verify(raw);
  };
  const applied: number[] = [];
  let onApplied = () => {};
  const sync = new DcSync(slowVerify, `${dir}/dc.bin`, (dc) => {
    applied.push(dc.notBefore.getTime());
    onApplied();
  });
  // The next verification of a peer starts only after its previous DC was hashed and
  // persisted (real file I/O): wait for its gate, not for a timer tick.
  const nextGate = async () => {
    while (gates.length === 0) await new Promise<void>((r) => gateAdded = r);
    return gates.shift()!;
  };
  // A peer floods DC frames: the first is verified, the rest replace each other while waiting.
  const flood = Array.from({ length: 1000 }, (_, i) => sync.receive(fakeDc(1000 + i), "b"));
  const other = sync.receive(fakeDc(500), "c");
  assertEquals(running, 2, "one verification per peer");
  // B's first DC goes through and is applied; only then C's older one, which is not newer;
  // then B's latest. (Opening C's gate before B's DC was applied let C's be accepted.
  // flood[0] resolves only when B's queue is drained.)
  let gate = await nextGate();
  assertEquals(gate.time, 1000);
  gate.open();
  while (!applied.includes(1000)) await new Promise<void>((r) => onApplied = r);
  gate = await nextGate();
  assertEquals(gate.time, 500);
  gate.open();
  assertEquals(await other, "not_newer");
  gate = await nextGate();
  assertEquals(gate.time, 1999, "only the latest of the waiting DCs is verified");
  gate.open();
  const results = await Promise.all(flood);
  assertEquals(gates.length, 0);
  assertEquals(most, 2);
  assertEquals(results[0], "accepted");
  assertEquals(results.slice(1, 999).every((r) => r === "superseded"), true);
  assertEquals(results[999], "accepted");
  assertEquals(applied, [1000, 1999]);
  assertEquals(sync.stats, {
    accepted: 2,
    notNewer: 1,
    invalid: 0,
    superseded: 998,
    expiryWarnings: 0,
    stateFileProblems: 0,
  });
  assertEquals(sync.current!.notBefore.getTime(), 1999);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("DcSync.receive() resolves even when the accept handler throws, and still persists", async () => {
  const dir = await Deno.makeTempDir();
  const sync = new DcSync(verify, `${dir}/dc.bin`, () => {
    throw new Error("handler bug");
  });
  assertEquals(await sync.receive(fakeDc(2000), "b"), "accepted");
  assertEquals(await Deno.readFile(`${dir}/dc.bin`), fakeDc(2000));
  await Deno.remove(dir, { recursive: true });
});
