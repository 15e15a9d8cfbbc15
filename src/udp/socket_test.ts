import { assert, assertEquals } from "../../tests/_harness/assert.ts";
import { udpAddress, udpPort } from "./address.ts";
import { openDenoUdpSocket, type UdpSocket } from "./socket.ts";
import { MAX_BATCHES_PER_TURN, openFfiUdpSocket, UDP_SOCKET_BUFFER } from "./socket_ffi.ts";
import { UDP_BATCH } from "./socket.ts";

/** `p`, or a rejection naming `what` after `ms` (a lost wake-up must fail, not hang). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function exchange(a: UdpSocket, b: UdpSocket, host: string): Promise<void> {
  const to = udpAddress(host, b.port);
  for (let i = 0; i < 10; i++) assert(a.send(new Uint8Array([i, 1, 2, 3]), to));
  a.flush();
  const got: number[] = [];
  while (got.length < 10) {
    const n = await b.receive();
    assert(n > 0, "socket closed early");
    for (let i = 0; i < n; i++) {
      assertEquals(b.batch.sizes[i], 4);
      got.push(b.batch.bufs[i][0]);
      assertEquals(udpPort(b.batch.addrs[i]), a.port);
    }
  }
  assertEquals(got.sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
}

Deno.test("openFfiUdpSocket() binds a free port and moves batches both ways over IPv4 and IPv6", async () => {
  const a = openFfiUdpSocket({ hostname: "::", port: 0 });
  const b = openFfiUdpSocket({ hostname: "::", port: 0 });
  try {
    assert(a.port > 0 && b.port > 0 && a.port !== b.port);
    await exchange(a, b, "127.0.0.1");
    await exchange(b, a, "::1");
    assertEquals(a.stats.txDatagrams, 10);
    assertEquals(b.stats.rxDatagrams, 10);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("openFfiUdpSocket() drops oversize datagrams on receive and counts them", async () => {
  const a = openFfiUdpSocket({ hostname: "127.0.0.1", port: 0, maxDatagram: 4096 });
  const b = openFfiUdpSocket({ hostname: "127.0.0.1", port: 0, maxDatagram: 100 });
  try {
    const to = udpAddress("127.0.0.1", b.port);
    a.send(new Uint8Array(101), to);
    a.send(new Uint8Array(100), to);
    a.flush();
    const n = await b.receive();
    assertEquals(n, 1);
    assertEquals(b.batch.sizes[0], 100);
    assertEquals(b.stats.rxDropOversize, 1);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("openFfiUdpSocket() close() ends a pending receive with 0", async () => {
  const a = openFfiUdpSocket({ hostname: "127.0.0.1", port: 0 });
  const pending = a.receive();
  await new Promise((r) => setTimeout(r, 20));
  a.close();
  assertEquals(await pending, 0);
});

Deno.test("openDenoUdpSocket() interoperates with the FFI socket", async () => {
  const a = openDenoUdpSocket({ hostname: "127.0.0.1", port: 0 });
  const b = openFfiUdpSocket({ hostname: "127.0.0.1", port: 0 });
  try {
    await exchange(a, b, "127.0.0.1");
    await exchange(b, a, "127.0.0.1");
  } finally {
    a.close();
    b.close();
  }
});

Deno.test({
  name: "openFfiUdpSocket() asks for 4 MiB socket buffers (as root, past rmem_max)",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    const s = openFfiUdpSocket({ hostname: "::", port: 0 });
    try {
      const out = await new Deno.Command("ss", { args: ["-uamnH", `sport = :${s.port}`] })
        .output();
      const text = new TextDecoder().decode(out.stdout);
      const rb = Number(text.match(/rb(\d+)/)?.[1]);
      const tb = Number(text.match(/tb(\d+)/)?.[1]);
      assert(rb >= UDP_SOCKET_BUFFER, `receive buffer ${rb} in: ${text}`);
      assert(tb >= UDP_SOCKET_BUFFER, `send buffer ${tb} in: ${text}`);
    } finally {
      s.close();
    }
  },
});

Deno.test("openFfiUdpSocket() parked on SIGIO wakes for a datagram sent after it parked", async () => {
  const a = openFfiUdpSocket({ hostname: "127.0.0.1", port: 0 });
  const b = openFfiUdpSocket({ hostname: "127.0.0.1", port: 0 });
  try {
    assertEquals((b as unknown as { wakeup: string }).wakeup, "sigio");
    for (let round = 0; round < 3; round++) {
      const pending = b.receive();
      await new Promise((r) => setTimeout(r, 20)); // b parks: its socket is empty
      a.send(new Uint8Array([round]), udpAddress("127.0.0.1", b.port));
      a.flush();
      assertEquals(await within(pending, 10_000, `round ${round}`), 1);
      assertEquals(b.batch.bufs[0][0], round);
    }
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("openFfiUdpSocket() reads a queue longer than its batches per turn without new arrivals", async () => {
  const a = openFfiUdpSocket({ hostname: "127.0.0.1", port: 0 });
  const b = openFfiUdpSocket({ hostname: "127.0.0.1", port: 0 });
  try {
    const total = UDP_BATCH * (MAX_BATCHES_PER_TURN + 2) + 5;
    const to = udpAddress("127.0.0.1", b.port);
    for (let i = 0; i < total; i++) a.send(new Uint8Array([i & 0xff, i >> 8]), to);
    a.flush();
    assertEquals(a.stats.txDatagrams, total);
    // Let the arrivals' SIGIOs be handled first: from then on no signal is on its way, so
    // only the loop's own reading can bring the rest of the queue in.
    await new Promise((r) => setTimeout(r, 100));
    let got = 0;
    while (got < total) got += await within(b.receive(), 10_000, `after ${got} of ${total}`);
    assertEquals(got, total);
    assertEquals(b.stats.rxDatagrams, total);
  } finally {
    a.close();
    b.close();
  }
});

for (const gso of [true, false]) {
  Deno.test(`openFfiUdpSocket() with gso ${gso} delivers runs of equal datagrams, a shorter tail and mixed destinations intact and in order`, async () => {
    const a = openFfiUdpSocket({ hostname: "::", port: 0, gso });
    const b = openFfiUdpSocket({ hostname: "::", port: 0 });
    const c = openFfiUdpSocket({ hostname: "::", port: 0 });
    try {
      // [destination, length]: a run of 40 × 144 B ending in a 100 B datagram, one to c in
      // the middle of the next run, 1400 B datagrams, and single ones.
      const plan: ["b" | "c", number][] = [
        ...Array.from({ length: 40 }, () => ["b", 144] as ["b", number]),
        ["b", 100],
        ["b", 144],
        ["b", 144],
        ["c", 144],
        ["b", 144],
        ...Array.from({ length: 12 }, () => ["b", 1400] as ["b", number]),
        ["b", 1],
        ["c", 1400],
      ];
      const to = { b: udpAddress("::1", b.port), c: udpAddress("127.0.0.1", c.port) };
      const sent = { b: [] as Uint8Array[], c: [] as Uint8Array[] };
      for (const [i, [dst, len]] of plan.entries()) {
        const d = new Uint8Array(len).fill(i + 1);
        d[0] = i;
        sent[dst].push(d);
        assert(a.send(d, to[dst]));
      }
      a.flush();
      assertEquals(a.stats.txDatagrams, plan.length);
      assertEquals(a.stats.txErrors + a.stats.txDropFull, 0);
      assertEquals((a as unknown as { gso: boolean }).gso, gso);
      for (const [dst, sock] of [["b", b], ["c", c]] as const) {
        const got: Uint8Array[] = [];
        while (got.length < sent[dst].length) {
          const n = await within(sock.receive(), 10_000, `${dst} after ${got.length}`);
          for (let i = 0; i < n; i++) {
            got.push(sock.batch.bufs[i].slice(0, sock.batch.sizes[i]));
            assertEquals(udpPort(sock.batch.addrs[i]), a.port);
          }
        }
        assertEquals(got, sent[dst]);
      }
    } finally {
      a.close();
      b.close();
      c.close();
    }
  });
}
