/**
 * The UDP channel between real endpoints on loopback: setup over an in-memory "TLS" control
 * path, traffic both ways, hostile datagrams at the socket, roaming across sockets.
 */
import { assert, assertEquals } from "./_harness/assert.ts";
import { copyPackets } from "../src/net/packet_batch.ts";
import { udpAddress } from "../src/udp/address.ts";
import { UdpChannel } from "../src/udp/channel.ts";
import { checkHeader } from "../src/udp/datagram.ts";
import { deriveChannelKeys } from "../src/udp/keys.ts";
import { UdpEndpoint } from "../src/udp/endpoint.ts";
import { refuseChannelRequest, UdpChannelSetup } from "../src/udp/setup.ts";
import { SetupStatus } from "../src/udp/setup_codec.ts";
import { openFfiUdpSocket } from "../src/udp/socket_ffi.ts";
import type { UdpSocket } from "../src/udp/socket.ts";

const ID_A = "a1".repeat(32);
const ID_B = "b2".repeat(32);

async function until(cond: () => boolean, what: string, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Side {
  ep: UdpEndpoint;
  setup: UdpChannelSetup;
  got: Uint8Array[];
  states: boolean[];
}

function side(backend: "ffi" | "deno", me: string, peer: string, secret: Uint8Array): Side {
  const ep = UdpEndpoint.open({ hostname: "127.0.0.1", port: 0, backend });
  const got: Uint8Array[] = [];
  const states: boolean[] = [];
  const setup = new UdpChannelSetup({
    endpoint: ep,
    localId: me,
    remoteId: peer,
    channelSecret: secret,
    peerHost: "127.0.0.1",
    onPackets: (b) => got.push(...copyPackets(b)),
    onState: (u) => states.push(u),
  });
  return { ep, setup, got, states };
}

function pair(backend: "ffi" | "deno"): [Side, Side] {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  return [side(backend, ID_A, ID_B, secret), side(backend, ID_B, ID_A, secret)];
}

async function closeAll(...sides: Side[]): Promise<void> {
  for (const s of sides) s.setup.close();
  await Promise.all(sides.map((s) => s.ep.close()));
}

for (const backend of ["ffi", "deno"] as const) {
  Deno.test(`UDP channel (${backend} socket) comes up on loopback and carries traffic both ways`, async () => {
    const [a, b] = pair(backend);
    try {
      assertEquals(a.ep.backend, backend);
      const response = b.setup.handleRequest(a.setup.request());
      const ch = a.setup.handleResponse(response);
      assert(ch !== undefined, "the response established a channel");
      assertEquals(a.setup.state, "established");
      assertEquals(b.setup.state, "established");
      await until(() => a.setup.usable && b.setup.usable, "both sides usable");
      // Bursts of 40: loopback does not lose datagrams unless the receive buffer overflows.
      for (let i = 0; i < 200; i++) {
        assert(a.setup.send(new Uint8Array(1400).fill(i), false), `a send ${i}`);
        assert(b.setup.send(new Uint8Array(64).fill(i), false), `b send ${i}`);
        a.ep.flush(); // the end of the sender's batch
        b.ep.flush();
        if (i % 40 === 39) {
          await until(() => a.got.length === i + 1 && b.got.length === i + 1, `${i + 1} packets`);
        }
      }
      assertEquals(b.got[7], new Uint8Array(1400).fill(7));
      assertEquals(a.got[199], new Uint8Array(64).fill(199));
      const sa = a.setup.channel!.stats, sb = b.setup.channel!.stats;
      assertEquals([sa.txPackets, sa.rxPackets, sb.txPackets, sb.rxPackets], [200, 200, 200, 200]);
      assertEquals([sa.txBytes, sb.rxBytes], [280_000, 280_000]);
      assertEquals(sb.dropAuth + sb.dropReplay + sb.dropTooOld, 0);
      assertEquals(a.states, [true]);
    } finally {
      await closeAll(a, b);
    }
  });
}

Deno.test("UdpEndpoint runs its keepalive timer only while it has channels", async () => {
  const [a, b] = pair("deno");
  try {
    assert(!a.ep.timerRunning && !b.ep.timerRunning, "no channel, no timer (no idle wakeups)");
    a.setup.handleResponse(b.setup.handleRequest(a.setup.request()));
    assert(a.ep.timerRunning && b.ep.timerRunning);
    await until(() => a.setup.usable && b.setup.usable, "both sides usable");
    a.setup.close();
    b.setup.close();
    assert(!a.ep.timerRunning && !b.ep.timerRunning, "the last channel's end stops the timer");
  } finally {
    await closeAll(a, b);
  }
});

Deno.test("UdpEndpoint drops malformed, unknown-index and forged datagrams from the network", async () => {
  const [a, b] = pair("ffi");
  const raw = openFfiUdpSocket({ hostname: "127.0.0.1", port: 0 });
  try {
    a.setup.handleResponse(b.setup.handleRequest(a.setup.request()));
    await until(() => a.setup.usable && b.setup.usable, "both sides usable");
    const to = udpAddress("127.0.0.1", b.ep.port);
    const idx = b.setup.channel!.localIndex;
    const header = (type: number, index: number, extra = 32) => {
      const d = new Uint8Array(16 + extra);
      d[0] = type;
      new DataView(d.buffer).setUint32(4, index);
      d[15] = 200; // a counter not yet seen
      return d;
    };
    raw.send(new Uint8Array(5), to); // too short
    raw.send(header(9, idx), to); // unknown type
    raw.send(header(1, idx ^ 1), to); // unknown index
    raw.send(header(1, idx), to); // right index, forged body
    raw.flush();
    await until(() => b.ep.stats.dropMalformed === 2, "2 malformed drops");
    await until(() => b.ep.stats.dropUnknownIndex === 1, "1 unknown-index drop");
    await until(() => b.setup.channel!.stats.dropAuth === 1, "1 forged drop");
    assertEquals(b.got.length, 0);
    assertEquals(b.setup.channel!.peerAddressText, `127.0.0.1:${a.ep.port}`);
  } finally {
    raw.close();
    await closeAll(a, b);
  }
});

Deno.test("UDP channel follows a peer that moves to another socket once it answers a challenge from there", async () => {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const ep = UdpEndpoint.open({ hostname: "127.0.0.1", port: 0 });
  const s1 = openFfiUdpSocket({ hostname: "127.0.0.1", port: 0 });
  const s2 = openFfiUdpSocket({ hostname: "127.0.0.1", port: 0 });
  const gotB: Uint8Array[] = [];
  const gotA: Uint8Array[] = [];
  const rand = [new Uint8Array(16).fill(1), new Uint8Array(16).fill(2)];
  const keys = (me: string, peer: string) =>
    deriveChannelKeys({
      channelSecret: secret,
      localId: me,
      remoteId: peer,
      epoch: 1,
      dialerRandom: rand[0],
      listenerRandom: rand[1],
    });
  const idxB = ep.reserveIndex();
  const chB = ep.createChannel({
    localIndex: idxB,
    remoteIndex: 77,
    epoch: 1,
    keys: keys(ID_B, ID_A),
    peerAddress: udpAddress("127.0.0.1", s1.port),
    peerName: "a",
    onPackets: (b) => gotB.push(...copyPackets(b)),
  });
  // Side A by hand: a channel whose socket the test swaps.
  let current: UdpSocket = s1;
  const chA = new UdpChannel({
    localIndex: 77,
    remoteIndex: idxB,
    epoch: 1,
    keys: keys(ID_A, ID_B),
    peerAddress: udpAddress("127.0.0.1", ep.port),
    peerName: "b",
    transmit: (d, to) => {
      const ok = current.send(d, to);
      current.flush();
      return ok;
    },
    onPackets: (b) => gotA.push(...copyPackets(b)),
  });
  const pump = async (s: UdpSocket) => {
    for (;;) {
      const n = await s.receive();
      if (n === 0) return;
      for (let i = 0; i < n; i++) {
        const d = s.batch.bufs[i].subarray(0, s.batch.sizes[i]);
        chA.receive(d, checkHeader(d), s.batch.addrs[i]);
      }
      chA.flush();
    }
  };
  const pumps = [pump(s1), pump(s2)];
  try {
    chA.tick();
    await until(() => chA.usable && chB.usable, "both sides usable");
    assertEquals(chB.peerAddressText, `127.0.0.1:${s1.port}`);
    // A forged datagram from s2 does not move the address.
    const forged = new Uint8Array(100);
    forged[0] = 1;
    new DataView(forged.buffer).setUint32(4, idxB);
    forged[15] = 250;
    s2.send(forged, udpAddress("127.0.0.1", ep.port));
    s2.flush();
    await until(() => chB.stats.dropAuth === 1, "forged datagram dropped");
    assertEquals(chB.peerAddressText, `127.0.0.1:${s1.port}`);
    // An authenticated one from s2 makes B challenge s2; A answers from s2, B moves there
    // and its traffic then reaches s2.
    current = s2;
    assert(chA.send(new Uint8Array(80).fill(5), false));
    await until(() => chB.stats.addressChanges === 1, "address change");
    assertEquals(chB.stats.addressChallenges, 1);
    assertEquals(chB.peerAddressText, `127.0.0.1:${s2.port}`);
    const before = s2.stats.rxDatagrams;
    assert(chB.send(new Uint8Array(90).fill(6), false));
    ep.flush();
    await until(() => gotA.length === 1, "reply at the new address");
    assert(s2.stats.rxDatagrams > before);
    assertEquals(gotB, [new Uint8Array(80).fill(5)]);
  } finally {
    chA.close();
    s1.close();
    s2.close();
    await Promise.all(pumps);
    await ep.close();
  }
});

Deno.test("UdpChannelSetup resolves simultaneous requests to one channel per side", async () => {
  const [a, b] = pair("ffi");
  try {
    const reqA = a.setup.request();
    const reqB = b.setup.request();
    const resB = b.setup.handleRequest(reqA); // b (higher id) answers Collision
    const resA = a.setup.handleRequest(reqB); // a (lower id) drops its own, accepts b's
    assertEquals(a.setup.handleResponse(resB), undefined);
    assert(b.setup.handleResponse(resA) !== undefined);
    assertEquals(a.ep.channelCount, 1);
    assertEquals(b.ep.channelCount, 1);
    assertEquals(a.setup.channel!.remoteIndex, b.setup.channel!.localIndex);
    assertEquals(b.setup.channel!.remoteIndex, a.setup.channel!.localIndex);
    await until(() => a.setup.usable && b.setup.usable, "both sides usable");
  } finally {
    await closeAll(a, b);
  }
});

Deno.test("UdpChannelSetup stays on TLS when the peer refuses, and a rekey replaces the channel", async () => {
  const [a, b] = pair("ffi");
  try {
    assertEquals(a.setup.handleResponse(refuseChannelRequest(a.setup.request())), undefined);
    assertEquals(a.setup.state, "refused");
    assertEquals(a.setup.refusal, SetupStatus.NoUdp);
    assertEquals(a.setup.send(new Uint8Array(10), false), false);
    assertEquals(a.ep.channelCount, 0);
    a.setup.handleResponse(b.setup.handleRequest(a.setup.request()));
    await until(() => a.setup.usable && b.setup.usable, "first channel usable");
    const first = a.setup.channel!;
    a.setup.handleResponse(b.setup.handleRequest(a.setup.request()));
    assert(first.closed && a.setup.channel !== first);
    assertEquals(a.ep.channelCount, 1);
    assertEquals(b.ep.channelCount, 1);
    assertEquals(a.setup.channel!.epoch, 3); // 1 was refused, 2 the first channel
    await until(() => a.setup.usable && b.setup.usable, "second channel usable");
  } finally {
    await closeAll(a, b);
  }
});

Deno.test("UdpChannelSetup's traffic() keeps counting across a rekey and after close", async () => {
  const [a, b] = pair("ffi");
  const send = async (n: number, total: number) => {
    for (let i = 0; i < n; i++) assert(a.setup.send(new Uint8Array(100), false), `send ${i}`);
    a.ep.flush();
    await until(() => b.got.length === total, `${total} packets at b`);
  };
  try {
    assertEquals(a.setup.traffic(), { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0 });
    a.setup.handleResponse(b.setup.handleRequest(a.setup.request()));
    await until(() => a.setup.usable && b.setup.usable, "first channel usable");
    await send(3, 3);
    a.setup.handleResponse(b.setup.handleRequest(a.setup.request())); // rekey
    await until(() => a.setup.usable && b.setup.usable, "second channel usable");
    assertEquals(a.setup.channel!.stats.txPackets, 0, "the new channel starts from zero");
    await send(2, 5);
    assertEquals(a.setup.traffic(), { rxPackets: 0, rxBytes: 0, txPackets: 5, txBytes: 500 });
    assertEquals(b.setup.traffic(), { rxPackets: 5, rxBytes: 500, txPackets: 0, txBytes: 0 });
    b.setup.close();
    assertEquals(b.setup.traffic().rxPackets, 5, "still there after close");
  } finally {
    await closeAll(a, b);
  }
});
