/**
 * Scenarios for the TUN tests, run inside a network namespace by `tun_netns.ts`:
 * `deno run -A tests/tun_child.ts <scenario> [args]`. Each prints one JSON report on stdout.
 * @module
 */
import process from "node:process";
import { SyscallError } from "../ffi/errno.ts";
import { dropPrivileges } from "../ffi/privileges.ts";
import { openTun } from "../ffi/tun_linux.ts";
import { formatIpv6, parseIpv6 } from "../src/net/ipv6.ts";
import { newPacketBatch, packetBatchOf } from "../src/net/packet_batch.ts";
import { fillL4Checksum, verifyL4Checksum } from "../src/vif/checksum.ts";
import { segmentSuperPacket } from "../src/vif/gso.ts";
import { openTunVif, type TunVif } from "../src/vif/tun.ts";

const report = (o: Record<string, unknown>) => console.log(JSON.stringify(o));

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

async function run(cmd: string, ...args: string[]): Promise<string> {
  const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  return new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr);
}

function errReport(e: unknown): Record<string, unknown> {
  return e instanceof SyscallError
    ? { errorClass: "SyscallError", errnoName: e.errnoName, message: e.message }
    : { errorClass: (e as Error).constructor.name, message: String((e as Error).message ?? e) };
}

/** Closes the vif after `ms` so that no read can hang the test. */
function watchdog(vif: TunVif, ms: number): ReturnType<typeof setTimeout> {
  return setTimeout(() => {
    console.error(`watchdog: closing ${vif.name} after ${ms} ms`);
    vif.close();
  }, ms);
}

/** Reads until an ICMPv6 echo request to `dst` arrives; returns its buffer and size. */
async function readEchoRequest(vif: TunVif, dst: string): Promise<[Uint8Array, number]> {
  const want = parseIpv6(dst);
  const batch = newPacketBatch(8, vif.maxPacketSize());
  const { bufs, sizes } = batch;
  for (;;) {
    const n = await vif.read(batch);
    if (n === 0) throw new Error("vif closed before the echo request arrived");
    for (let i = 0; i < n; i++) {
      const p = bufs[i];
      if (p[6] === 58 && p[40] === 128 && want.every((b, j) => p[24 + j] === b)) {
        return [p, sizes[i]];
      }
    }
  }
}

/**
 * Listens on an address just added to an interface. The kernel marks a new IPv6 address
 * tentative until its duplicate-address work item runs (skipped at once for a TUN, but
 * asynchronously), so a bind right after the ioctl can fail with EADDRNOTAVAIL: retry for up
 * to 2 s (seen as a flake about one run in five).
 */
async function listenWhenAddressReady(hostname: string, port: number): Promise<Deno.TcpListener> {
  const deadline = performance.now() + 2000;
  for (;;) {
    try {
      return Deno.listen({ hostname, port });
    } catch (e) {
      if (!(e instanceof Deno.errors.AddrNotAvailable) || performance.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Turns an echo request into the matching echo reply in place. */
function makeEchoReply(p: Uint8Array, size: number): void {
  const src = p.slice(8, 24);
  p.copyWithin(8, 24, 40);
  p.set(src, 24);
  p[40] = 129;
  fillL4Checksum(p, 0, 40, size, 58, 2);
}

async function pingExchange(vif: TunVif, target: string, pingAlready?: Deno.ChildProcess) {
  const ping = pingAlready ?? spawnPing(target);
  const [p, size] = await readEchoRequest(vif, target);
  const request = {
    src: formatIpv6(p, 8),
    dst: formatIpv6(p, 24),
    type: p[40],
    checksumOk: verifyL4Checksum(p, 0, 40, size, 58),
  };
  makeEchoReply(p, size);
  const written = vif.write(packetBatchOf([p.subarray(0, size)]));
  const status = await ping.status;
  return { request, written, pingOk: status.success };
}

function spawnPing(target: string): Deno.ChildProcess {
  return new Deno.Command("ping", {
    args: ["-6", "-n", "-c", "1", "-W", "15", target],
    stdout: "null",
    stderr: "null",
  }).spawn();
}

const scenarios: Record<string, (args: string[]) => Promise<void>> = {
  async configure() {
    const vif = openTunVif({
      name: "vmt0",
      mtu: 1400,
      addresses: ["fd00:10::1/64"],
      routes: ["fd00:20::/48"],
      txQueueLen: 2000,
    });
    const sys = (f: string) => Deno.readTextFileSync(`/sys/class/net/${vif.name}/${f}`).trim();
    const facts: Record<string, unknown> = {
      name: vif.name,
      mtu: vif.mtu,
      sysMtu: sys("mtu"),
      sysFlags: sys("flags"),
      txQueueLen: sys("tx_queue_len"),
      tunFlags: sys("tun_flags"),
      addr: await run("ip", "-6", "addr", "show", "dev", vif.name),
      route: await run("ip", "-6", "route", "show", "dev", vif.name),
    };
    vif.close();
    await vif.closed;
    facts.existsAfterClose = exists(`/sys/class/net/${vif.name}`);
    facts.routesAfterClose = await run("ip", "-6", "route", "show");
    const t = openTunVif({ name: "vmt%d" });
    facts.templateName = t.name;
    facts.templateExists = exists(`/sys/class/net/${t.name}`);
    t.close();
    await t.closed;
    report(facts);
  },

  /**
   * Opens a TUN with an address 30 times and binds to the address at once each time: the
   * address must never be tentative (bind would fail with EADDRNOTAVAIL; seen as a flaky
   * vnet test). Reports the flags from /proc/net/if_inet6 and the bind failures.
   */
  async bindAtOnce() {
    const facts = { tentative: 0, bindFailures: [] as string[], onLinkRoute: 0 };
    for (let i = 0; i < 30; i++) {
      const vif = openTunVif({ name: "vmt0", addresses: ["fd00:31::1/64"] });
      const line = Deno.readTextFileSync("/proc/net/if_inet6").split("\n")
        .find((l) => l.startsWith("fd000031000000000000000000000001"));
      if (line === undefined || (parseInt(line.split(/\s+/)[4], 16) & 0x40) !== 0) {
        facts.tentative++;
      }
      try {
        Deno.listen({ hostname: "fd00:31::1", port: 5202 }).close();
      } catch (e) {
        facts.bindFailures.push(String(e));
      }
      if ((await run("ip", "-6", "route", "show", "dev", "vmt0")).includes("fd00:31::/64")) {
        facts.onLinkRoute++;
      }
      vif.close();
      await vif.closed;
    }
    report(facts);
  },

  /** A reader kept busy by a flood must still let timers run (it polls every few batches). */
  async flood() {
    const vif = openTunVif({
      name: "vmt0",
      addresses: ["fd00:10::1/64"],
      routes: ["fd00:20::/48"],
      txQueueLen: 10000,
    });
    const sender = new Deno.Command("python3", {
      args: [
        "-c",
        // A fixed number of packets, not a fixed time: a starved sender still floods.
        "import socket\n" +
        "s=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM)\n" +
        "for _ in range(100000):\n" +
        "  try: s.sendto(b'x'*64,('fd00:20::5',9))\n" +
        "  except OSError: pass\n",
      ],
    }).spawn();
    // Starvation is measured in CPU time this process spent between two runs of a 10 ms
    // timer: that is what the reader controls. Wall-clock lag also grows when the machine does
    // not schedule this process at all (a loaded CI box), which says nothing about the reader.
    const cpuMs = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    let last = performance.now();
    let lastCpu = cpuMs();
    let maxLag = 0;
    let maxCpuLag = 0;
    let batchesSinceTimer = 0;
    let maxBatchesBetweenTimers = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      const cpu = cpuMs();
      maxLag = Math.max(maxLag, now - last - 10);
      maxCpuLag = Math.max(maxCpuLag, cpu - lastCpu - 10);
      maxBatchesBetweenTimers = Math.max(maxBatchesBetweenTimers, batchesSinceTimer);
      batchesSinceTimer = 0;
      last = now;
      lastCpu = cpu;
    }, 10);
    const batch = newPacketBatch(vif.batchSize, vif.maxPacketSize());
    let packets = 0;
    const done = sender.status.then(() => vif.close());
    for (;;) {
      const n = await vif.read(batch);
      if (n === 0) break;
      packets += n;
      batchesSinceTimer++;
      // A slow consumer (1 ms per batch) keeps the device queue full, as a busy node would.
      const until = performance.now() + 1;
      while (performance.now() < until) { /* busy */ }
    }
    await done;
    clearInterval(timer);
    report({
      packets,
      maxLagMs: Math.round(maxLag),
      maxCpuLagMs: Math.round(maxCpuLag),
      maxBatchesBetweenTimers,
    });
  },

  async ping() {
    const vif = openTunVif({
      name: "vmt0",
      addresses: ["fd00:10::1/64"],
      routes: ["fd00:20::/48"],
    });
    const dog = watchdog(vif, 20_000);
    const r = await pingExchange(vif, "fd00:20::5");
    clearTimeout(dog);
    // A pending read ends promptly on close.
    const pending = vif.read(newPacketBatch(1, vif.maxPacketSize()));
    const t0 = performance.now();
    vif.close();
    const after = await pending;
    await vif.closed;
    report({ ...r, stats: vif.stats, readAfterClose: after, closeMs: performance.now() - t0 });
  },

  async taken() {
    const a = openTunVif({ name: "vmt0" });
    const out: Record<string, unknown> = {};
    try {
      openTun({ name: "vmt0" });
    } catch (e) {
      out.sameName = errReport(e);
    }
    try {
      openTun({ name: "lo" }); // taken by an interface that is not a TUN
    } catch (e) {
      out.otherKind = errReport(e);
    }
    a.close();
    await a.closed;
    report(out);
  },

  // deno-lint-ignore require-await
  async noperm() {
    try {
      const v = openTunVif({ name: "vmt0" });
      v.close();
      report({ opened: true });
    } catch (e) {
      report(errReport(e));
    }
  },

  async privileges() {
    const vif = openTunVif({
      name: "vmt0",
      addresses: ["fd00:10::1/64"],
      routes: ["fd00:20::/48"],
    });
    const dog = watchdog(vif, 20_000);
    const ping = spawnPing("fd00:20::5"); // spawned as root: ping needs a raw socket
    dropPrivileges();
    const status = Deno.readTextFileSync("/proc/self/status");
    const threadUids = [...Deno.readDirSync("/proc/self/task")].map((t) =>
      Deno.readTextFileSync(`/proc/self/task/${t.name}/status`).match(/^Uid:\s+(.*)$/m)?.[1]
    );
    const r = await pingExchange(vif, "fd00:20::5", ping);
    clearTimeout(dog);
    let afterDrop: Record<string, unknown> = { opened: true };
    try {
      openTun({ name: "vmt9" });
    } catch (e) {
      afterDrop = errReport(e);
    }
    let again: Record<string, unknown> = {};
    try {
      dropPrivileges();
    } catch (e) {
      again = errReport(e);
    }
    vif.close();
    await vif.closed;
    report({
      uid: Deno.uid(),
      gid: Deno.gid(),
      uidLine: status.match(/^Uid:\s+(.*)$/m)?.[1],
      gidLine: status.match(/^Gid:\s+(.*)$/m)?.[1],
      groupsLine: status.match(/^Groups:[ \t]*(.*)$/m)?.[1],
      threadUids,
      ...r,
      afterDrop,
      again,
      existsAfterClose: exists("/sys/class/net/vmt0"),
    });
  },

  async vnet([mode = "whole", megabytes = "8"]) {
    const local = parseIpv6("fd00:30::1");
    const vif = openTunVif({ name: "vmt0", addresses: ["fd00:30::1/64"], offload: true });
    const dog = watchdog(vif, 60_000);
    const port = 5201;
    const listener = await listenWhenAddressReady("fd00:30::1", port);
    const data = new Uint8Array(Number(megabytes) * 1024 * 1024);
    for (let i = 0; i < data.length; i += 65536) {
      crypto.getRandomValues(data.subarray(i, i + 65536));
    }
    const facts = {
      mode,
      superPackets: 0,
      maxRead: 0,
      gsoSizes: new Set<number>(),
      segments: 0,
      badSegments: 0,
      oversizeSegments: 0,
      segmentFailures: 0,
      payloadMismatches: 0,
    };
    const relay = (async () => {
      const batch = newPacketBatch(64, vif.maxPacketSize());
      const { bufs, sizes } = batch;
      const out = newPacketBatch(64, 2048);
      const outs = out.bufs;
      const outSizes = out.sizes;
      out.vnet.fill(true);
      for (;;) {
        const n = await vif.read(batch);
        if (n === 0) return;
        for (let i = 0; i < n; i++) {
          const p = bufs[i];
          if (!local.every((b, j) => p[18 + j] === b)) continue; // not ours (RS, MLD…)
          // swap: fd00:30::1 -> X becomes swap(X) -> fd00:30::1 (checksum-neutral)
          const x = p.slice(34, 50);
          p.set(local, 34);
          p.set(x, 18);
          p[30] = x[14];
          p[31] = x[15];
          p[32] = x[12];
          p[33] = x[13];
          facts.maxRead = Math.max(facts.maxRead, sizes[i]);
          const gso = p[1];
          if (gso === 4) {
            facts.superPackets++;
            facts.gsoSizes.add(p[4] | (p[5] << 8));
          }
          if (mode === "whole" || (gso === 0 && (p[0] & 1) === 0)) {
            vif.write(packetBatchOf([p.subarray(0, sizes[i])], true));
            continue;
          }
          const m = segmentSuperPacket(p, 0, sizes[i], outs, outSizes, 0, { outVnetHdr: true });
          if (m < 1) {
            facts.segmentFailures++;
            continue;
          }
          checkSegments(p, sizes[i], outs, outSizes, m, facts, vif.mtu);
          facts.segments += m;
          out.count = m;
          vif.write(out);
        }
      }
    })();
    const server = (async () => {
      const conn = await listener.accept();
      const parts: Uint8Array[] = [];
      for await (const c of conn.readable) parts.push(c);
      const all = new Uint8Array(parts.reduce((s, c) => s + c.length, 0));
      let o = 0;
      for (const c of parts) all.set(c, (o += c.length) - c.length);
      return { peer: (conn.remoteAddr as Deno.NetAddr).hostname, bytes: all };
    })();
    const t0 = performance.now();
    const client = await Deno.connect({ hostname: "fd00:30::a:b", port });
    const w = client.writable.getWriter();
    await w.write(data);
    await w.close();
    const got = await server;
    const seconds = (performance.now() - t0) / 1000;
    clearTimeout(dog);
    listener.close();
    vif.close();
    await relay;
    report({
      ...facts,
      gsoSizes: [...facts.gsoSizes],
      peer: got.peer,
      sent: data.length,
      received: got.bytes.length,
      identical: got.bytes.length === data.length && got.bytes.every((b, i) => b === data[i]),
      mbitPerS: data.length * 8 / seconds / 1e6,
    });
  },
};

/** Checks segments against the super-packet they came from. */
function checkSegments(
  p: Uint8Array,
  size: number,
  outs: Uint8Array[],
  outSizes: number[],
  m: number,
  facts: { badSegments: number; oversizeSegments: number; payloadMismatches: number },
  mtu: number,
): void {
  const thl = (p[50 + 12] >> 4) * 4;
  let off = 50 + thl;
  const seq0 = new DataView(p.buffer, p.byteOffset).getUint32(54);
  for (let k = 0; k < m; k++) {
    const s = outs[k];
    const len = outSizes[k];
    if (!verifyL4Checksum(s, 10, 50, len, 6)) facts.badSegments++;
    if (len - 10 > mtu) facts.oversizeSegments++;
    const seg = s.subarray(50 + thl, len);
    const seq = new DataView(s.buffer, s.byteOffset).getUint32(54);
    if (seq !== ((seq0 + (off - 50 - thl)) >>> 0)) facts.payloadMismatches++;
    for (let j = 0; j < seg.length; j++) {
      if (seg[j] !== p[off + j]) {
        facts.payloadMismatches++;
        break;
      }
    }
    off += seg.length;
  }
  if (off !== size) facts.payloadMismatches++;
}

const [name, ...args] = Deno.args;
const fn = scenarios[name];
if (!fn) {
  console.error(`unknown scenario "${name}"; one of ${Object.keys(scenarios).join(", ")}`);
  Deno.exit(2);
}
await fn(args);
