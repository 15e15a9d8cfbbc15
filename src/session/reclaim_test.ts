import { assert, assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import { makeTestPki } from "../../tests/_harness/pki.ts";
import { ReceiveReclaimer } from "./reclaim.ts";

Deno.test("ReceiveReclaimer collects the young generation once per threshold of received bytes", () => {
  const calls: string[] = [];
  const r = new ReceiveReclaimer((o) => calls.push(o.type), 1000);
  for (let i = 0; i < 25; i++) r.received(100); // 2500 bytes
  assertEquals(calls, ["minor", "minor"]);
  assertEquals(r.collections, 2);
  r.received(5000); // one big chunk: one collection, not five
  assertEquals(calls.length, 3);
});

Deno.test("ReceiveReclaimer does nothing without V8's gc() and refuses a bad threshold", () => {
  const r = new ReceiveReclaimer(undefined, 10);
  assertEquals(r.active, false);
  r.received(1 << 30);
  assertEquals(r.collections, 0);
  assertThrows(() => new ReceiveReclaimer(() => {}, 0), RangeError);
});

/** Runs a TLS transfer of 48 MiB in a child process; the receiving TlsLink's peak external memory. */
async function receivePeakMiB(reclaim: boolean): Promise<number> {
  const pki = await makeTestPki();
  const node = await pki.issue("r");
  const code = `
    import net from "node:net";
    import tls from "node:tls";
    const { acceptTls, dialTls, serverContext } = await import(${
    JSON.stringify(new URL("./tls_link.ts", import.meta.url).href)
  });
    const identity = { certPem: Deno.env.get("CERT"), keyPem: Deno.env.get("KEY") };
    const TOTAL = 48 << 20;
    let got = 0, peak = 0;
    const done = Promise.withResolvers();
    const srv = net.createServer((raw) => {
      const link = acceptTls(raw, serverContext(identity));
      link.attach({
        onSecure() {},
        onData(c) {
          got += c.length;
          peak = Math.max(peak, Deno.memoryUsage().external);
          if (got >= TOTAL) done.resolve();
        },
        onClose() {},
        onError(m) { done.reject(new Error(m)); },
      });
    });
    await new Promise((r) => srv.listen(0, "127.0.0.1", r));
    const client = dialTls("127.0.0.1", srv.address().port, identity);
    const up = Promise.withResolvers();
    client.attach({ onSecure: () => up.resolve(), onData() {}, onClose() {}, onError() {} });
    await up.promise;
    const buf = new Uint8Array(64 * 1024);
    for (let sent = 0; sent < TOTAL; sent += buf.length) {
      await new Promise((r) => client.write(buf, r));
    }
    await done.promise;
    console.log(JSON.stringify({ peakMiB: peak / 1048576 }));
    Deno.exit(0);
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", ...(reclaim ? ["--v8-flags=--expose-gc"] : []), code],
    env: { CERT: node.identity.certPem, KEY: node.identity.keyPem },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout)).peakMiB;
}

Deno.test("received TLS chunks are freed as they go when V8's gc() is exposed", async () => {
  const withGc = await receivePeakMiB(true);
  // Without --expose-gc V8 let 50-90 MiB of dead chunks pile up in this transfer.
  assert(withGc < 24, `external memory peaked at ${withGc.toFixed(1)} MiB while receiving`);
});
