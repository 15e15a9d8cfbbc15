/**
 * Measures the UDP channel's building blocks; figures go into docs/figures.md ("UDP data channel").
 *
 *   deno run -A scripts/bench_udp.ts            # all: aead, sockets, channel
 *   deno run -A scripts/bench_udp.ts aead       # seal+open pps, ChaCha20-Poly1305 vs AES-256-GCM
 *   deno run -A scripts/bench_udp.ts sockets    # loopback receive pps: FFI recvmmsg, Deno, node:dgram
 *   deno run -A scripts/bench_udp.ts channel    # encrypted channel pps between two processes
 *
 * Socket and channel runs start a second process as the sender, so sender and receiver each
 * get a core. On a busy 2-core VM the figures move by ±30 %; compare orderings, not digits.
 * @module
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import dgram from "node:dgram";
import { parseArgs } from "node:util";
import type { PacketBatch } from "../src/net/packet_batch.ts";
import { udpAddress } from "../src/udp/address.ts";
import { AeadKey } from "../src/udp/aead.ts";
import { HEADER_BYTES, OVERHEAD_BYTES, writeHeader } from "../src/udp/datagram.ts";
import { UdpEndpoint } from "../src/udp/endpoint.ts";
import { deriveChannelKeys } from "../src/udp/keys.ts";
import { openDenoUdpSocket, type UdpSocket } from "../src/udp/socket.ts";
import { openFfiUdpSocket } from "../src/udp/socket_ffi.ts";

const SECONDS = 3;
const ID_A = "a".repeat(64);
const ID_B = "b".repeat(64);
const fmt = (n: number) => `${Math.round(n / 1000)} k`;

function benchAead(): void {
  console.log("## AEAD, one thread, packets/s (seal / open)");
  const key = createSecretKeyFor();
  for (const size of [64, 1400]) {
    const pt = randomBytes(size);
    const out = new Uint8Array(size + OVERHEAD_BYTES);
    writeHeader(out, 1, 1, 0);
    const n = size === 64 ? 200_000 : 100_000;
    let t0 = 0;
    for (const backend of ["sodium", "node"] as const) {
      let k: AeadKey;
      try {
        k = new AeadKey(key, backend);
      } catch (e) {
        console.log(`chacha20-poly1305 (${backend}): not available: ${e}`);
        continue;
      }
      t0 = performance.now();
      for (let i = 0; i < n; i++) k.sealInto(i, out, HEADER_BYTES, pt);
      const seal = n / ((performance.now() - t0) / 1000);
      const len = k.sealInto(5, out, HEADER_BYTES, pt);
      const sealed = out.slice(0, len);
      const work = new Uint8Array(len);
      t0 = performance.now();
      // Each open decrypts in place: start every one from the sealed bytes (a 64–1432 B copy).
      for (let i = 0; i < n; i++) {
        work.set(sealed);
        if (k.openInPlace(5, work, HEADER_BYTES) !== size) throw new Error("open failed");
      }
      const open = n / ((performance.now() - t0) / 1000);
      console.log(
        `chacha20-poly1305 (channel code, ${backend}) ${size} B: ${fmt(seal)} / ${fmt(open)}`,
      );
    }
    const raw = randomBytes(32);
    const nonce = Buffer.alloc(12);
    const aad = out.subarray(0, HEADER_BYTES);
    t0 = performance.now();
    let ct: Buffer = Buffer.alloc(0), tag: Buffer = Buffer.alloc(0);
    for (let i = 0; i < n; i++) {
      const c = createCipheriv("aes-256-gcm", raw, nonce);
      c.setAAD(aad);
      ct = c.update(pt);
      c.final();
      tag = c.getAuthTag();
    }
    const aseal = n / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const d = createDecipheriv("aes-256-gcm", raw, nonce);
      d.setAAD(aad);
      d.setAuthTag(tag);
      d.update(ct);
      d.final();
    }
    const aopen = n / ((performance.now() - t0) / 1000);
    console.log(`aes-256-gcm (node:crypto)        ${size} B: ${fmt(aseal)} / ${fmt(aopen)}`);
  }
}

function createSecretKeyFor() {
  return deriveChannelKeys({
    channelSecret: randomBytes(32),
    localId: ID_A,
    remoteId: ID_B,
    epoch: 1,
    dialerRandom: new Uint8Array(16),
    listenerRandom: new Uint8Array(16),
  }).send;
}

/** Child: blast `size`-byte datagrams at 127.0.0.1:port for `seconds` with sendmmsg. */
async function blast(port: number, size: number, seconds: number): Promise<void> {
  const s = openFfiUdpSocket({ hostname: "127.0.0.1", port: 0 });
  const to = udpAddress("127.0.0.1", port);
  const d = new Uint8Array(size);
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 64; i++) s.send(d, to);
    s.flush();
    if (s.stats.txDropFull > 0) await new Promise((r) => setTimeout(r, 0));
  }
  console.log(JSON.stringify(s.stats));
  s.close();
}

function spawnSelf(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

async function receiveFor(sock: UdpSocket, seconds: number): Promise<number> {
  let count = 0;
  let start = 0;
  const stopAt = { t: Infinity };
  const loop = (async () => {
    for (;;) {
      const n = await sock.receive();
      if (n === 0) return;
      if (start === 0) {
        start = performance.now();
        stopAt.t = start + seconds * 1000;
        continue;
      }
      if (performance.now() < stopAt.t) count += n;
    }
  })();
  await new Promise((r) => setTimeout(r, (seconds + 1.5) * 1000));
  sock.close();
  await loop;
  return count / seconds;
}

async function benchSockets(): Promise<void> {
  console.log("## Loopback receive, 1400-byte datagrams, sender = FFI sendmmsg in another process");
  for (const kind of ["ffi", "deno", "node:dgram"] as const) {
    let pps: number;
    if (kind === "node:dgram") {
      const sock = dgram.createSocket("udp4");
      await new Promise<void>((r) => sock.bind(0, "127.0.0.1", r));
      let count = 0, start = 0;
      sock.on("message", () => {
        if (start === 0) start = performance.now();
        else if (performance.now() < start + SECONDS * 1000) count++;
      });
      const child = spawnSelf([
        "blast",
        "--port",
        String(sock.address().port),
        "--seconds",
        String(SECONDS + 1),
      ]);
      await child.output();
      sock.close();
      pps = count / SECONDS;
    } else {
      const sock = kind === "ffi"
        ? openFfiUdpSocket({ hostname: "127.0.0.1", port: 0 })
        : openDenoUdpSocket({ hostname: "127.0.0.1", port: 0 });
      const child = spawnSelf([
        "blast",
        "--port",
        String(sock.port),
        "--seconds",
        String(SECONDS + 1),
      ]);
      pps = await receiveFor(sock, SECONDS);
      await child.output();
    }
    console.log(`${kind.padEnd(11)} receive: ${fmt(pps)} datagrams/s`);
  }
}

/** A channel endpoint with fixed keys (both processes derive the same). */
function channelEndpoint(
  me: string,
  peer: string,
  port: number,
  backend: "ffi" | "deno",
  secret: Uint8Array,
  onPackets: (batch: PacketBatch) => void,
) {
  const ep = UdpEndpoint.open({ hostname: "127.0.0.1", port, backend });
  const idx = ep.reserveIndex();
  return {
    ep,
    idx,
    make: (remoteIndex: number, peerPort: number) =>
      ep.createChannel({
        localIndex: idx,
        remoteIndex,
        epoch: 1,
        keys: deriveChannelKeys({
          channelSecret: secret,
          localId: me,
          remoteId: peer,
          epoch: 1,
          dialerRandom: new Uint8Array(16),
          listenerRandom: new Uint8Array(16).fill(1),
        }),
        peerAddress: udpAddress("127.0.0.1", peerPort),
        peerName: peer.slice(0, 6),
        onPackets,
      }),
  };
}

async function benchChannel(): Promise<void> {
  console.log("## Encrypted channel, sender and receiver in two processes, packets/s delivered");
  for (const backend of ["ffi", "deno"] as const) {
    for (const size of [64, 1400]) {
      const secret = randomBytes(32);
      let count = 0, start = 0;
      const rx = channelEndpoint(ID_B, ID_A, 0, backend, secret, (p) => {
        if (start === 0) start = performance.now();
        else if (performance.now() < start + SECONDS * 1000) count += p.count;
      });
      const child = spawnSelf([
        "chsend",
        "--port",
        String(rx.ep.port),
        "--index",
        String(rx.idx),
        "--size",
        String(size),
        "--seconds",
        String(SECONDS + 1),
        "--secret",
        secret.toString("hex"),
        "--backend",
        backend,
      ]);
      // The sender prints "port index" first; then both channels exist and handshake.
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      while (!text.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error("sender exited early");
        text += value;
      }
      const [peerPort, peerIndex] = text.split("\n")[0].split(" ").map(Number);
      const ch = rx.make(peerIndex, peerPort);
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
      await child.status;
      const rxStats = ch.stats;
      await rx.ep.close();
      const sender = text.split("\n")[1];
      console.log(
        `${backend.padEnd(4)} ${String(size).padStart(4)} B: ${fmt(count / SECONDS)} pps received` +
          ` (sender: ${sender}; receiver drops auth/replay ${rxStats.dropAuth}/${rxStats.dropReplay})`,
      );
    }
  }
}

/** Child: seal and send channel packets to the receiver as fast as possible. */
async function channelSend(
  port: number,
  index: number,
  size: number,
  seconds: number,
  secretHex: string,
  backend: "ffi" | "deno",
): Promise<void> {
  const tx = channelEndpoint(ID_A, ID_B, 0, backend, Uint8Array.fromHex(secretHex), () => {});
  const ch = tx.make(index, port);
  console.log(`${tx.ep.port} ${tx.idx}`);
  const t0 = performance.now();
  while (!ch.usable) {
    if (performance.now() - t0 > 5000) throw new Error("channel did not come up");
    await new Promise((r) => setTimeout(r, 5));
  }
  const pkt = new Uint8Array(size).fill(0x60);
  const end = performance.now() + seconds * 1000;
  let sent = 0;
  while (performance.now() < end) {
    // 1024 per task (the socket flushes every 64), then one macrotask yield.
    for (let i = 0; i < 1024; i++) if (ch.send(pkt, false)) sent++;
    tx.ep.flush();
    await new Promise((r) => setTimeout(r, 0));
  }
  console.log(`${fmt(sent / seconds)} pps sealed+sent`);
  await tx.ep.close();
}

const { positionals, values } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    port: { type: "string" },
    seconds: { type: "string" },
    size: { type: "string", default: "1400" },
    index: { type: "string" },
    secret: { type: "string" },
    backend: { type: "string", default: "ffi" },
  },
});
const mode = positionals[0] ?? "all";
if (mode === "blast") await blast(Number(values.port), Number(values.size), Number(values.seconds));
else if (mode === "chsend") {
  await channelSend(
    Number(values.port),
    Number(values.index),
    Number(values.size),
    Number(values.seconds),
    values.secret!,
    values.backend as "ffi" | "deno",
  );
} else {
  if (mode === "all" || mode === "aead") benchAead();
  if (mode === "all" || mode === "sockets") await benchSockets();
  if (mode === "all" || mode === "channel") await benchChannel();
}
