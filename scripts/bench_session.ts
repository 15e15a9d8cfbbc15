/**
 * Session bulk throughput: MB/s of 64 KiB IP frames from one process to another over a
 * loopback session (node:tls both ends). Usage:
 *   deno run -A scripts/bench_session.ts [--seconds 5] [--size 65536] [--algorithm ed25519]
 * The receiver runs as a child process (`--receiver <dir>`), reporting received bytes.
 * @module
 */
import { parseArgs } from "node:util";
import { loadIdentity, loadTrustStore } from "../src/pki/mod.ts";
import { SessionManager } from "../src/session/mod.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "5" },
    size: { type: "string", default: "65536" },
    algorithm: { type: "string", default: "ed25519" },
    receiver: { type: "string" },
  },
});

if (args.values.receiver !== undefined) {
  await receiver(args.values.receiver);
} else {
  await sender();
}

async function receiver(dir: string): Promise<void> {
  const trust = await loadTrustStore(`${dir}/ca.crt`, []);
  const identity = await loadIdentity(`${dir}/r.vnet.test.crt`, `${dir}/r.vnet.test.key`, trust);
  let bytes = 0;
  let packets = 0;
  let first = 0;
  const mgr = new SessionManager({
    identity,
    trust,
    listen: { host: "127.0.0.1", port: 0 },
    onPackets: (_s, batch) => {
      if (first === 0) first = performance.now();
      for (let i = 0; i < batch.count; i++) bytes += batch.sizes[i];
      packets += batch.count;
    },
    onSessionDown: () => {
      const secs = (performance.now() - first) / 1000;
      console.log(JSON.stringify({ bytes, packets, secs }));
      mgr.stop().then(() => Deno.exit(0));
    },
  });
  await mgr.start();
  console.log(JSON.stringify({ port: mgr.listenAddr()!.port }));
}

async function sender(): Promise<void> {
  const { makeTestPki } = await import("../tests/_harness/pki.ts");
  const algorithm = args.values.algorithm as "ed25519" | "ecdsa-p256";
  const pki = await makeTestPki({ algorithm });
  const s = await pki.issue("s");
  const r = await pki.issue("r");
  const files = await pki.writeFiles([r]);
  const child = new Deno.Command(Deno.execPath(), {
    // The V8 flags a node runs with (deno.json's compile task): the receive-buffer reclaimer.
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      new URL(import.meta.url).pathname,
      "--receiver",
      files.dir,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).values();
  const readLine = async (): Promise<Record<string, number>> => {
    let buf = "";
    while (!buf.includes("\n")) {
      const { value, done } = await lines.next();
      if (done) throw new Error("receiver exited early");
      buf += value;
    }
    return JSON.parse(buf.trim());
  };
  const { port } = await readLine();
  const seconds = Number(args.values.seconds);
  const size = Number(args.values.size);
  const payload = new Uint8Array(size).fill(0x60, 0, 1);
  let dropped = 0;
  const up = Promise.withResolvers<void>();
  const mgr = new SessionManager({
    identity: s.identity,
    trust: pki.trust,
    peers: [{ addr: { host: "127.0.0.1", port }, name: r.name }],
    onSessionUp: () => up.resolve(),
  });
  await mgr.start();
  await up.promise;
  const session = mgr.sessions()[0];
  const end = performance.now() + seconds * 1000;
  let sent = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 64; i++) {
      if (session.sendPacket(payload)) sent++;
      else {
        dropped++;
        break;
      }
    }
    session.flush(); // the end of the batch
    await new Promise((r) => setTimeout(r, 0));
  }
  // Let the backlog drain before closing.
  while (session.stats().backlogBytes > 0) await new Promise((r) => setTimeout(r, 5));
  await mgr.stop("bench done");
  const result = await readLine();
  await child.status;
  await Deno.remove(files.dir, { recursive: true });
  const mbps = result.bytes / result.secs / 1e6;
  console.log(
    `${algorithm}, ${size}-byte IP frames: sent ${sent}, received ${result.packets} ` +
      `(${dropped} refused while the backlog was full) in ${result.secs.toFixed(2)} s: ` +
      `${mbps.toFixed(0)} MB/s (${(mbps * 8 / 1000).toFixed(2)} Gbit/s)`,
  );
}
