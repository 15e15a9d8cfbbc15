import { assertEquals, assertNotEquals, assertThrows } from "../../tests/_harness/assert.ts";
import { deriveChannelKeys } from "./keys.ts";

const A = "a".repeat(64);
const B = "b".repeat(64);
const secret = new Uint8Array(32).fill(7);
const r1 = new Uint8Array(16).fill(1);
const r2 = new Uint8Array(16).fill(2);
const raw = (k: { export(): Uint8Array }) => new Uint8Array(k.export()).toHex();

Deno.test("deriveChannelKeys() gives each side the other's send key as its receive key", () => {
  const base = { channelSecret: secret, epoch: 1, dialerRandom: r1, listenerRandom: r2 };
  const a = deriveChannelKeys({ ...base, localId: A, remoteId: B });
  const b = deriveChannelKeys({ ...base, localId: B, remoteId: A });
  assertEquals(raw(a.send), raw(b.recv));
  assertEquals(raw(a.recv), raw(b.send));
  assertNotEquals(raw(a.send), raw(a.recv));
});

Deno.test("deriveChannelKeys() changes every key when secret, epoch or either random changes", () => {
  const base = {
    channelSecret: secret,
    epoch: 1,
    dialerRandom: r1,
    listenerRandom: r2,
    localId: A,
    remoteId: B,
  };
  const k0 = raw(deriveChannelKeys(base).send);
  const variants = [
    { ...base, channelSecret: new Uint8Array(32).fill(8) },
    { ...base, epoch: 2 },
    { ...base, dialerRandom: r2 },
    { ...base, listenerRandom: r1 },
    { ...base, remoteId: "c".repeat(64) },
  ];
  for (const v of variants) assertNotEquals(raw(deriveChannelKeys(v).send), k0);
});

Deno.test("deriveChannelKeys() refuses bad secrets, ids, epochs and randoms", () => {
  const base = {
    channelSecret: secret,
    epoch: 1,
    dialerRandom: r1,
    listenerRandom: r2,
    localId: A,
    remoteId: B,
  };
  assertThrows(
    () => deriveChannelKeys({ ...base, channelSecret: new Uint8Array(31) }),
    RangeError,
    "channelSecret",
  );
  assertThrows(() => deriveChannelKeys({ ...base, remoteId: A }), RangeError, "equal");
  assertThrows(() => deriveChannelKeys({ ...base, localId: "xyz" }), RangeError, "PeerIds");
  assertThrows(() => deriveChannelKeys({ ...base, epoch: 2 ** 32 }), RangeError, "epoch");
  assertThrows(
    () => deriveChannelKeys({ ...base, dialerRandom: new Uint8Array(15) }),
    RangeError,
    "dialerRandom",
  );
});
