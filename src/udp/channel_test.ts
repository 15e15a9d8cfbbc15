import { assert, assertEquals } from "../../tests/_harness/assert.ts";
import { type UdpAddress, udpAddress, udpAddressEquals } from "./address.ts";
import { UdpChannel, type UdpChannelOptions } from "./channel.ts";
import { checkHeader, HEADER_BYTES, OVERHEAD_BYTES } from "./datagram.ts";
import { deriveChannelKeys } from "./keys.ts";
import { REPLAY_WINDOW } from "./replay.ts";

const ID_A = "1".repeat(64);
const ID_B = "2".repeat(64);
const ADDR_A = udpAddress("192.0.2.1", 4000);
const ADDR_B = udpAddress("2001:db8::2", 5000);

/** Two channels joined by an in-memory "network" that the test drives by hand. */
class Pair {
  t = 1000;
  readonly now = () => this.t;
  readonly a: UdpChannel;
  readonly b: UdpChannel;
  /** Datagrams in flight: [to side, bytes, destination]. */
  wire: { to: "a" | "b"; d: Uint8Array; dst: UdpAddress }[] = [];
  got = { a: [] as Uint8Array[], b: [] as Uint8Array[] };
  gotVnet = { a: [] as boolean[], b: [] as boolean[] };
  states = { a: [] as boolean[], b: [] as boolean[] };
  /** Address the next datagram from each side appears to come from. */
  src = { a: ADDR_A, b: ADDR_B };

  constructor(secret = new Uint8Array(32).fill(9), extra: Partial<UdpChannelOptions> = {}) {
    const base = {
      channelSecret: secret,
      epoch: 1,
      dialerRandom: new Uint8Array(16),
      listenerRandom: new Uint8Array(16).fill(1),
    };
    const mk = (me: "a" | "b"): UdpChannel => {
      const other = me === "a" ? "b" : "a";
      return new UdpChannel({
        localIndex: me === "a" ? 11 : 22,
        remoteIndex: me === "a" ? 22 : 11,
        epoch: 1,
        keys: deriveChannelKeys({
          ...base,
          localId: me === "a" ? ID_A : ID_B,
          remoteId: me === "a" ? ID_B : ID_A,
        }),
        peerAddress: me === "a" ? ADDR_B : ADDR_A,
        peerName: other,
        transmit: (d, dst) => {
          this.wire.push({ to: other, d: d.slice(), dst: dst.slice() });
          return true;
        },
        onPackets: (b) => {
          for (let i = 0; i < b.count; i++) {
            this.got[me].push(b.bufs[i].slice(0, b.sizes[i]));
            this.gotVnet[me].push(b.vnet[i]);
          }
        },
        onState: (u) => this.states[me].push(u),
        now: this.now,
        ...extra,
      });
    };
    this.a = mk("a");
    this.b = mk("b");
  }

  /** Delivers everything on the wire (and what it provokes) unless `lose` says otherwise. */
  run(lose: (to: "a" | "b") => boolean = () => false): void {
    for (let guard = 0; this.wire.length > 0 && guard < 100; guard++) {
      const batch = this.wire;
      this.wire = [];
      for (const { to, d } of batch) if (!lose(to)) this.inject(to, d);
    }
  }

  inject(to: "a" | "b", d: Uint8Array, from?: UdpAddress): void {
    const ch = to === "a" ? this.a : this.b;
    ch.receive(d, checkHeader(d), from ?? this.src[to === "a" ? "b" : "a"]);
    ch.flush();
  }

  /** Brings both sides to usable: keepalives both ways. */
  up(): void {
    this.a.tick();
    this.b.tick();
    this.run();
  }

  /** Sends one packet from `from` and returns the datagram (without delivering it). */
  capture(from: "a" | "b", pkt: Uint8Array, vnet = false): Uint8Array {
    assert((from === "a" ? this.a : this.b).send(pkt, vnet), "send refused");
    const w = this.wire.pop();
    assert(w !== undefined);
    return w.d;
  }
}

const pkt = (n: number, fill = 0x60) => new Uint8Array(n).fill(fill);

for (const aead of ["auto", "node"] as const) {
  Deno.test(`UdpChannel (aead ${aead}) turns usable after a keepalive exchange and carries packets both ways`, () => {
    const p = new Pair(undefined, { aead });
    assertEquals(p.a.usable, false);
    assertEquals(p.a.send(pkt(100), false), false);
    assertEquals(p.a.stats.refusedNotUsable, 1);
    p.up();
    assert(p.a.usable && p.b.usable);
    assertEquals(p.states.a, [true]);
    assert(p.a.send(pkt(100, 1), false));
    assert(p.b.send(pkt(1420, 2), false));
    p.run();
    assertEquals(p.got.b, [pkt(100, 1)]);
    assertEquals(p.got.a, [pkt(1420, 2)]);
    assertEquals(p.a.stats.txPackets, 1);
    assertEquals(p.a.stats.txBytes, 100);
    assertEquals(p.a.stats.rxPackets, 1);
    assertEquals(p.a.stats.rxBytes, 1420);
    assert(p.a.stats.keepalivesOut >= 1 && p.b.stats.keepalivesIn >= 1);
  });

  Deno.test(`UdpChannel (aead ${aead}) drops replayed, bit-flipped, truncated and wrong-key datagrams and counts each`, () => {
    const p = new Pair(undefined, { aead });
    p.up();
    const d = p.capture("a", pkt(200, 3));
    p.inject("b", d);
    p.inject("b", d);
    assertEquals(p.b.stats.dropReplay, 1);
    for (const at of [4, 15, HEADER_BYTES + 5, d.length - 1]) {
      // 4: receiver index; 15: counter (made fresh, so the window lets it through to the AEAD)
      const e = p.capture("a", pkt(200, 4));
      e[at] ^= 0x10;
      p.inject("b", e);
    }
    assertEquals(p.b.stats.dropAuth, 4);
    const t = p.capture("a", pkt(200, 5));
    p.inject("b", t.subarray(0, t.length - 7));
    assertEquals(p.b.stats.dropAuth, 5);
    const other = new Pair(new Uint8Array(32).fill(1), { aead }); // same ids and indices, another secret
    other.up();
    for (let i = 0; i < 50; i++) other.capture("a", pkt(1)); // a counter p.b has not seen yet
    p.inject("b", other.capture("a", pkt(200, 6)));
    assertEquals(p.b.stats.dropAuth, 6);
    assertEquals(p.got.b, [pkt(200, 3)]);
    assertEquals(p.b.stats.rxPackets, 1);
  });
}

Deno.test("UdpChannel accepts reordering within the window and refuses datagrams beyond it", () => {
  const p = new Pair();
  p.up();
  const first = p.capture("a", pkt(64, 1));
  const held: Uint8Array[] = [];
  for (let i = 0; i < REPLAY_WINDOW + 10; i++) held.push(p.capture("a", pkt(64, 2)));
  p.inject("b", held[held.length - 1]); // huge jump
  p.inject("b", held[held.length - 2]); // just behind: fine
  p.inject("b", held[20]); // within the window
  p.inject("b", first); // beyond it
  assertEquals(p.b.stats.dropTooOld, 1);
  assertEquals(p.b.stats.rxPackets, 3);
});

Deno.test("UdpChannel never moves to an address for a forged or replayed datagram", () => {
  const p = new Pair();
  p.up();
  const evil = udpAddress("203.0.113.66", 666);
  // Forged: random bytes with a valid header shape, from an attacker's address.
  const forged = p.capture("a", pkt(100));
  forged.fill(0x42, HEADER_BYTES);
  p.inject("b", forged, evil);
  // Replayed from the attacker's address: authentic bytes, old counter.
  const real = p.capture("a", pkt(100));
  p.inject("b", real);
  p.inject("b", real, evil);
  assertEquals(p.b.peerAddressText, "192.0.2.1:4000");
  assertEquals(p.b.stats.addressChanges, 0);
  assertEquals(p.b.stats.addressChallenges, 0);
  assertEquals(p.wire.filter((w) => udpAddressEquals(w.dst, evil)).length, 0);
});

Deno.test("UdpChannel moves to a new address only after the peer answers a challenge from there", () => {
  const p = new Pair();
  p.up();
  const moved = udpAddress("198.51.100.7", 6000);
  p.src.a = moved; // a's NAT mapping changed: its datagrams now come from `moved`
  p.inject("b", p.capture("a", pkt(100)), moved);
  // The authenticated datagram was delivered, but b still sends to the old address...
  assertEquals(p.b.stats.rxPackets, 1);
  assertEquals(p.b.peerAddressText, "192.0.2.1:4000");
  assertEquals(p.b.stats.addressChanges, 0);
  p.b.send(pkt(10), false);
  assertEquals(p.wire.pop()?.dst, ADDR_A);
  // ...and has sent one challenge to the new one.
  assertEquals(p.wire.length, 1);
  assertEquals(p.wire[0].dst, moved);
  assertEquals(p.b.stats.addressChallenges, 1);
  // a is there, reads the challenge and answers from its socket (source `moved`).
  p.run();
  assertEquals(p.b.peerAddressText, "198.51.100.7:6000");
  assertEquals(p.b.stats.addressChanges, 1);
  p.b.send(pkt(10), false);
  assertEquals(p.wire.pop()?.dst, moved);
});

Deno.test("UdpChannel never sends traffic to a third party an authenticated datagram names as its source", () => {
  const p = new Pair();
  p.up();
  const victim = udpAddress("203.0.113.66", 666);
  const toVictim: Uint8Array[] = [];
  /** Delivers the wire, except that what goes to the victim lands with the victim. */
  const run = () => {
    for (let guard = 0; p.wire.length > 0 && guard < 100; guard++) {
      const batch = p.wire;
      p.wire = [];
      for (const w of batch) {
        if (udpAddressEquals(w.dst, victim)) toVictim.push(w.d);
        else p.inject(w.to, w.d);
      }
    }
  };
  // The peer (or anyone re-sending its fresh datagrams first) claims the victim's address,
  // over and over, while its real traffic keeps arriving from its real address.
  for (let round = 0; round < 20; round++) {
    p.inject("b", p.capture("a", pkt(100)), victim);
    run();
    assert(p.b.send(pkt(1000), false), "the channel stays usable at the real address");
    const out = p.wire.pop();
    assertEquals(out?.dst, ADDR_A);
    p.inject("a", out!.d);
    p.t += 300;
    p.a.tick();
    p.b.tick();
    run();
  }
  assertEquals(p.b.peerAddressText, "192.0.2.1:4000");
  assertEquals(p.b.stats.addressChanges, 0);
  // The victim saw only the challenges, rate-limited to one per keepalive interval, each a
  // bare keepalive (no data): 20 rounds * 300 ms = 6 s → at most 7.
  assert(toVictim.length >= 1 && toVictim.length <= 7, `${toVictim.length} challenges`);
  for (const d of toVictim) assertEquals(d.length, OVERHEAD_BYTES + 9);
});

Deno.test("UdpChannel ignores a challenge answer that comes from another address than the one challenged", () => {
  const p = new Pair();
  p.up();
  const moved = udpAddress("198.51.100.7", 6000);
  const other = udpAddress("198.51.100.8", 7000);
  p.inject("b", p.capture("a", pkt(100)), moved);
  const challenge = p.wire.shift()!;
  assertEquals(challenge.dst, moved);
  p.inject("a", challenge.d);
  const answer = p.wire.shift()!;
  p.inject("b", answer.d, other);
  assertEquals(p.b.peerAddressText, "192.0.2.1:4000");
  assertEquals(p.b.stats.addressChanges, 0);
});

Deno.test("UdpChannel goes unusable when the peer falls silent and comes back when traffic resumes", () => {
  const p = new Pair();
  p.up();
  const lossy = { on: false };
  for (let s = 0; s < 10; s++) {
    p.t += 1000;
    p.a.tick();
    p.b.tick();
    p.run(() => lossy.on);
    if (s === 2) lossy.on = true;
  }
  assertEquals(p.a.usable, false);
  assertEquals(p.b.usable, false);
  assertEquals(p.a.stats.fallbacks, 1);
  assertEquals(p.a.send(pkt(10), false), false);
  assertEquals(p.states.a, [true, false]);
  lossy.on = false;
  p.t += 1000;
  p.a.tick(); // keepalives keep probing: one tick heals both sides
  p.b.tick();
  p.run();
  assert(p.a.usable && p.b.usable);
  assertEquals(p.states.a, [true, false, true]);
});

Deno.test("UdpChannel treats a one-way path as unusable on both sides", () => {
  const p = new Pair();
  p.up();
  for (let s = 0; s < 8; s++) {
    p.t += 1000;
    p.a.tick();
    p.b.tick();
    p.run((to) => to === "a"); // b's datagrams never reach a; a's reach b
  }
  assertEquals(p.a.usable, false);
  assertEquals(p.b.usable, false, "b hears a, but a says it does not hear b");
});

Deno.test("UdpChannel stops sending as soon as the peer says it no longer hears us", () => {
  const p = new Pair();
  p.up();
  // From now on a's datagrams are lost; b's still arrive.
  let seconds = 0;
  while (p.a.usable && seconds < 10) {
    p.t += 1000;
    seconds++;
    p.a.tick();
    p.b.tick();
    p.run((to) => to === "b");
  }
  assertEquals(p.a.usable, false);
  // b notices after its timeout (3 s); its next keepalive tells a at once, not 3 s later.
  assert(seconds <= 4, `a noticed after ${seconds} s`);
});

Deno.test("UdpChannel.send() refuses packets larger than the path MTU", () => {
  const p = new Pair();
  p.up();
  assertEquals(p.a.maxPacket, 1452 - OVERHEAD_BYTES);
  assertEquals(p.a.maxPacket, 1420);
  assert(p.a.send(pkt(1420), false));
  assertEquals(p.a.send(pkt(1421), false), false);
  assertEquals(p.a.stats.refusedTooLarge, 1);
  assertEquals(p.wire.at(-1)?.d.length, 1452);
});

Deno.test("UdpChannel carries vnet headers, eliding all-zero ones", () => {
  const p = new Pair();
  p.up();
  const zero = new Uint8Array(1430);
  zero.fill(0x60, 10); // 10 zero header bytes + 1420-byte packet still fits
  const gso = new Uint8Array(110).fill(0x60);
  gso.fill(0, 0, 10);
  gso[0] = 1; // needs checksum
  assert(p.a.send(zero, true));
  assert(p.a.send(gso, true));
  p.run();
  assertEquals(p.got.b, [zero.subarray(10), gso]);
  assertEquals(p.gotVnet.b, [false, true]);
});

Deno.test("UdpChannel stops at its counter limit and asks for new keys", () => {
  const p = new Pair(undefined, { counterLimit: 6 });
  p.up(); // one keepalive each way, plus replies
  let sent = 0;
  while (p.a.send(pkt(10), false)) sent++;
  assert(p.a.needsRekey);
  assertEquals(p.a.usable, false);
  assert(sent < 6);
});

Deno.test("UdpChannel from a new session (new secret) refuses the old session's datagrams", () => {
  const old = new Pair(new Uint8Array(32).fill(3));
  old.up();
  const stale = old.capture("a", pkt(50));
  const fresh = new Pair(new Uint8Array(32).fill(4));
  fresh.up();
  fresh.inject("b", stale);
  assertEquals(fresh.b.stats.dropAuth, 1);
  assertEquals(fresh.got.b.length, 0);
});
