/**
 * Memory per route of the FIB and of the whole Router, each size in a fresh process:
 * `deno run -A bench/fib_memory.ts`
 * Figures are V8 heap + external (ArrayBuffer) bytes after building, minus before, divided by
 * the number of routes. The FIB's pools grow by 1.5×, so up to a third of a pool can be
 * reserved but not yet used. The FIB figure includes its fixed 256 KiB direct table.
 */
import { Fib } from "../src/fib/mod.ts";
import { Router } from "../src/routing/router.ts";
import { randomPrefixes } from "./routing_prefixes.ts";

function used(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) gc?.();
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
}

/** Keeps inputs reachable until after the measurement (else their collection skews it). */
function keepAlive(x: unknown): void {
  if ((globalThis as { __never?: unknown }).__never === x) console.log("");
}

function measureFib(size: number): string {
  const hop = { kind: "peer", id: "b".repeat(64) } as const;
  const prefixes = randomPrefixes(size, size);
  const before = used();
  const fib = new Fib<typeof hop>();
  for (const p of prefixes) fib.set(p, hop);
  const after = used();
  keepAlive(prefixes);
  return `FIB, ${fib.size} prefixes: ${((after - before) / fib.size).toFixed(0)} bytes/route ` +
    `(pool capacity ${(fib.byteLength / fib.size).toFixed(0)} bytes/route)`;
}

function measureRouter(n: number): string {
  // n routes learned from each of two neighbours, both Adj-RIB-Outs filled.
  const prefixes = randomPrefixes(n, 99);
  const B = "b".repeat(64), C = "c".repeat(64), D = "d".repeat(64);
  const routes = (from: string, lat: number) =>
    prefixes.map((prefix) => ({
      prefix,
      path: [{ id: from, latencyMs: lat }, { id: D, latencyMs: 3 }],
    }));
  const rb = routes(B, 5), rc = routes(C, 8);
  const before = used();
  const r = new Router({
    localId: "a".repeat(64),
    localName: "a",
    clock: { now: () => 0 },
    maxRoutesPerPeer: n,
  });
  r.peerUp({ id: B, name: "b", external: false }, 5);
  r.peerUp({ id: C, name: "c", external: false }, 8);
  r.receiveAnnounce(B, rb);
  r.receiveAnnounce(C, rc);
  r.flush();
  const after = used();
  keepAlive([prefixes, rb, rc]);
  return `Router, ${r.fib.size} prefixes × 2 candidates, 2 neighbours: ` +
    `${((after - before) / r.fib.size).toFixed(0)} bytes/prefix (RIB + Adj-RIB-Out + FIB)`;
}

if (Deno.args.length === 2) {
  const n = Number(Deno.args[1]);
  console.log(Deno.args[0] === "fib" ? measureFib(n) : measureRouter(n));
} else {
  const jobs: [string, number][] = [
    ["fib", 1_000],
    ["fib", 100_000],
    ["fib", 200_000],
    ["fib", 1_000_000],
    ["router", 100_000],
  ];
  for (const [what, n] of jobs) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--v8-flags=--expose-gc", import.meta.filename!, what, String(n)],
      stderr: "inherit",
    }).output();
    Deno.stdout.writeSync(out.stdout);
  }
}
