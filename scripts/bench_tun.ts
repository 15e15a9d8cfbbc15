/**
 * TUN benchmark (not a test): packets/s read and written, and TCP throughput of an iperf3 flow
 * looped through one device, inside a throw-away network namespace.
 *
 *   deno task bench:tun            (as root; needs ip, iperf3)
 *   deno run -A scripts/bench_tun.ts [--seconds 3]
 *
 * Read: a sender process blasts UDP with sendmmsg() at an address routed into the TUN; the
 * TunVif reads batches of 256. Write: batches of 256 prepared UDP packets written to the TUN.
 * TCP: `iperf3 -s` on fd00:30::1 (the TUN's address), `iperf3 -c fd00:30::a:b`; every packet
 * fd00:30::1 -> X read from the TUN is written back as swap(X) -> fd00:30::1 (swap exchanges
 * the last two 16-bit words, which keeps checksums valid), with and without the vnet header.
 * @module
 */
import { parseArgs } from "node:util";
import { connectUdp6, MmsgRing, openUdp6Socket, sendMmsg } from "../ffi/udp_socket.ts";
import { newPacketBatch, pushPacket, VNET_HDR_LEN } from "../src/net/packet_batch.ts";
import { parseIpv6 } from "../src/net/ipv6.ts";
import { fillL4Checksum } from "../src/vif/checksum.ts";
import { openTunVif, type TunVif } from "../src/vif/tun.ts";

const SELF = new URL(import.meta.url).pathname;
const REPO = new URL("..", import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    inside: { type: "boolean", default: false },
    sender: { type: "string" },
    seconds: { type: "string", default: "3" },
  },
});
const seconds = Number(values.seconds);
if (!(seconds > 0 && seconds <= 60)) throw new RangeError(`--seconds must be in (0, 60]`);

async function sh(cmd: string, ...args: string[]): Promise<string> {
  const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!o.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(o.stderr)}`);
  }
  return new TextDecoder().decode(o.stdout);
}

/** Sender process: UDP datagrams of `size` IPv6 bytes to fd00:41::2 port 9 with sendmmsg. */
function runSender(size: number): void {
  const fd = openUdp6Socket(new Uint8Array(18), "binding the sender's UDP socket");
  const VLEN = 64;
  const ring = new MmsgRing(VLEN, size - 48);
  const to = new Uint8Array(18);
  to.set(parseIpv6("fd00:41::2"));
  to[17] = 9; // port 9, big-endian
  connectUdp6(fd, to); // a connected socket keeps its route: no lookup per datagram
  for (let i = 0; i < VLEN; i++) ring.setOutgoingConnected(i, size - 48);
  const end = Date.now() + (seconds + 1.5) * 1000;
  let sent = 0;
  while (Date.now() < end) {
    for (let k = 0; k < 100; k++) {
      const r = sendMmsg(fd, ring, 0, VLEN);
      if (r > 0) sent += r;
    }
  }
  // The ring stays referenced until here (C holds its buffers' addresses).
  console.log(JSON.stringify({ sent, keep: ring.count }));
}

async function measureRead(size: number): Promise<number> {
  const vif = openTunVif({
    name: "vmtb0",
    addresses: ["fd00:40::1/64"],
    routes: ["fd00:41::/48"],
    txQueueLen: 10000,
  });
  const sender = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SELF, "--sender", String(size), "--seconds", String(seconds)],
    cwd: REPO,
    stdout: "null",
  }).spawn();
  const batch = newPacketBatch(256, vif.maxPacketSize());
  const warm = Date.now() + 500;
  while (Date.now() < warm) await vif.read(batch);
  let count = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) count += await vif.read(batch);
  const pps = count / ((performance.now() - t0) / 1000);
  await sender.status;
  vif.close();
  await vif.closed;
  return pps;
}

async function measureWrite(size: number): Promise<number> {
  const vif = openTunVif({ name: "vmtb0", addresses: ["fd00:40::1/64"] });
  const p = new Uint8Array(size);
  p[0] = 0x60;
  p[4] = (size - 40) >> 8;
  p[5] = (size - 40) & 0xff;
  p[6] = 17;
  p[7] = 64;
  p.set(parseIpv6("fd00:41::2"), 8);
  p.set(parseIpv6("fd00:40::1"), 24);
  p[41] = 9;
  p[43] = 9;
  p[44] = (size - 40) >> 8;
  p[45] = (size - 40) & 0xff;
  fillL4Checksum(p, 0, 40, size, 17, 6);
  const batch = newPacketBatch(256);
  for (let i = 0; i < 256; i++) pushPacket(batch, p, false);
  let count = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    for (let k = 0; k < 16; k++) count += vif.write(batch);
    await new Promise((r) => setTimeout(r, 0)); // let the event loop run now and then
  }
  const pps = count / ((performance.now() - t0) / 1000);
  vif.close();
  await vif.closed;
  return pps;
}

/** Reads, swaps and writes back until closed (see module doc). */
async function swapRelay(vif: TunVif): Promise<number> {
  const local = parseIpv6("fd00:30::1");
  const hdr = vif.vnetHdr ? VNET_HDR_LEN : 0;
  const batch = newPacketBatch(vif.batchSize, vif.maxPacketSize());
  const out = newPacketBatch(vif.batchSize);
  const { bufs, sizes } = batch;
  const x = new Uint8Array(16);
  let packets = 0;
  for (;;) {
    const n = await vif.read(batch);
    if (n === 0) return packets;
    out.count = 0;
    for (let i = 0; i < n; i++) {
      const p = bufs[i];
      const s = hdr + 8, d = hdr + 24;
      let ours = true;
      for (let j = 0; j < 16; j++) if (p[s + j] !== local[j]) ours = false;
      if (!ours) continue;
      x.set(p.subarray(d, d + 16));
      p.set(local, d);
      p.set(x, s);
      p[s + 12] = x[14];
      p[s + 13] = x[15];
      p[s + 14] = x[12];
      p[s + 15] = x[13];
      const m = out.count++;
      out.bufs[m] = p;
      out.sizes[m] = sizes[i];
      out.vnet[m] = vif.vnetHdr;
    }
    packets += n;
    vif.write(out);
  }
}

async function measureTcp(offload: boolean): Promise<{ gbit: number; readsPerS: number }> {
  const vif = openTunVif({ name: "vmtb0", mtu: 1420, addresses: ["fd00:30::1/64"], offload });
  const relay = swapRelay(vif);
  const server = new Deno.Command("iperf3", {
    args: ["-s", "-1", "-B", "fd00:30::1", "-p", "5299"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await new Promise((r) => setTimeout(r, 300));
  const t0 = performance.now();
  const out = await sh(
    "iperf3",
    ..."-c fd00:30::a:b -p 5299 -J -t".split(" "),
    String(seconds),
  );
  const elapsed = (performance.now() - t0) / 1000;
  await server.status;
  vif.close();
  const packets = await relay;
  const j = JSON.parse(out);
  return { gbit: j.end.sum_received.bits_per_second / 1e9, readsPerS: packets / elapsed };
}

if (values.sender) {
  runSender(Number(values.sender));
} else if (values.inside) {
  const r: Record<string, number> = {};
  r.readPps1400 = await measureRead(1400);
  r.readPps64 = await measureRead(64);
  r.writePps1400 = await measureWrite(1400);
  r.writePps64 = await measureWrite(64);
  const vnet = await measureTcp(true);
  r.tcpGbitVnet = vnet.gbit;
  r.tcpReadsPerSVnet = vnet.readsPerS;
  const plain = await measureTcp(false);
  r.tcpGbitPlain = plain.gbit;
  r.tcpReadsPerSPlain = plain.readsPerS;
  console.log(JSON.stringify(r));
} else {
  if (Deno.uid() !== 0) {
    console.error("bench_tun needs root (it creates a network namespace and TUN devices)");
    Deno.exit(1);
  }
  const ns = `vmt-bench-${Deno.pid}`;
  await sh("ip", "netns", "add", ns);
  try {
    await sh("ip", "-n", ns, "link", "set", "lo", "up");
    const out = await sh(
      "ip",
      ..."netns exec".split(" "),
      ns,
      Deno.execPath(),
      "run",
      "-A",
      SELF,
      "--inside",
      "--seconds",
      String(seconds),
    );
    const r = JSON.parse(out.trim().split("\n").at(-1)!);
    const k = (v: number) => `${(v / 1000).toFixed(0)} k`;
    console.log(`TUN read, 1400 B:   ${k(r.readPps1400)} packets/s`);
    console.log(`TUN read, 64 B:     ${k(r.readPps64)} packets/s`);
    console.log(`TUN write, 1400 B:  ${k(r.writePps1400)} packets/s`);
    console.log(`TUN write, 64 B:    ${k(r.writePps64)} packets/s`);
    console.log(
      `TCP through TUN, vnet header + TSO: ${r.tcpGbitVnet.toFixed(2)} Gbit/s ` +
        `(${k(r.tcpReadsPerSVnet)} reads/s)`,
    );
    console.log(
      `TCP through TUN, plain (MTU 1420):  ${r.tcpGbitPlain.toFixed(2)} Gbit/s ` +
        `(${k(r.tcpReadsPerSPlain)} reads/s)`,
    );
  } finally {
    await sh("ip", "netns", "del", ns).catch(() => {});
  }
}
