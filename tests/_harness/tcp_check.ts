/**
 * A TCP transfer whose every byte is checked: `sink` accepts one connection, reads to EOF and
 * answers with the byte count and SHA-256 of what it read; `source` sends a deterministic
 * pseudo-random stream, half-closes, and compares the sink's answer with its own.
 *
 *   deno run --allow-net tcp_check.ts sink <listen-addr> <port>
 *   deno run --allow-net tcp_check.ts source <addr> <port> <bytes>
 *
 * `source` prints one JSON line `{bytes, sha256, ms, mbps}` and exits 0 when the sink saw
 * exactly the bytes sent, 1 otherwise.
 * @module
 */
import { createHash } from "node:crypto";

const MAX_BYTES = 2 ** 32;

async function readLine(conn: Deno.Conn, max = 4096): Promise<string> {
  const buf = new Uint8Array(max);
  let n = 0;
  while (n < max) {
    const r = await conn.read(buf.subarray(n));
    if (r === null) break;
    n += r;
    if (buf.subarray(0, n).includes(10)) break;
  }
  return new TextDecoder().decode(buf.subarray(0, n)).split("\n")[0];
}

async function sink(host: string, port: number): Promise<number> {
  const listener = Deno.listen({ hostname: host, port, transport: "tcp" });
  console.log(`listening on [${host}]:${port}`);
  const conn = await listener.accept();
  listener.close();
  const hash = createHash("sha256");
  const buf = new Uint8Array(256 * 1024);
  let bytes = 0;
  while (true) {
    const n = await conn.read(buf);
    if (n === null) break;
    hash.update(buf.subarray(0, n));
    bytes += n;
  }
  const line = JSON.stringify({ bytes, sha256: hash.digest("hex") }) + "\n";
  await conn.write(new TextEncoder().encode(line));
  conn.close();
  console.log(line.trim());
  return 0;
}

/** xorshift32 keystream: deterministic, cheap, not compressible by accident. */
function fill(buf: Uint8Array, state: { x: number }): void {
  const words = new Uint32Array(buf.buffer, buf.byteOffset, buf.byteLength >>> 2);
  let x = state.x;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  state.x = x;
}

async function source(host: string, port: number, total: number): Promise<number> {
  const conn = await Deno.connect({ hostname: host, port, transport: "tcp" });
  const t0 = performance.now();
  const hash = createHash("sha256");
  const buf = new Uint8Array(64 * 1024);
  const state = { x: 0x9e3779b9 };
  let sent = 0;
  while (sent < total) {
    fill(buf, state);
    const chunk = buf.subarray(0, Math.min(buf.length, total - sent));
    hash.update(chunk);
    let off = 0;
    while (off < chunk.length) off += await conn.write(chunk.subarray(off));
    sent += chunk.length;
  }
  await conn.closeWrite();
  const answer = JSON.parse(await readLine(conn)) as { bytes: number; sha256: string };
  const ms = performance.now() - t0;
  conn.close();
  const mine = hash.digest("hex");
  const ok = answer.bytes === total && answer.sha256 === mine;
  console.log(JSON.stringify({
    ok,
    bytes: total,
    sha256: mine,
    received: answer.bytes,
    receivedSha256: answer.sha256,
    ms: Math.round(ms),
    mbps: Math.round(total * 8 / ms / 1000),
  }));
  return ok ? 0 : 1;
}

if (import.meta.main) {
  const [mode, host, portText, bytesText] = Deno.args;
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`bad port "${portText}"`);
    Deno.exit(2);
  }
  if (mode === "sink") Deno.exit(await sink(host, port));
  const total = Number(bytesText);
  if (mode !== "source" || !Number.isInteger(total) || total < 0 || total > MAX_BYTES) {
    console.error("usage: tcp_check.ts sink <addr> <port> | source <addr> <port> <bytes>");
    Deno.exit(2);
  }
  Deno.exit(await source(host, port, total));
}
