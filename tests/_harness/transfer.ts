/**
 * A checked TCP transfer between two namespaces (see tcp_check.ts): every byte is counted
 * and hashed on both sides.
 * @module
 */
import type { Netns } from "./netns.ts";
import { ManagedProcess } from "./process.ts";

const SCRIPT = new URL("./tcp_check.ts", import.meta.url).pathname;

/** The outcome of {@link checkedTransfer}. */
export interface TransferResult {
  ok: boolean;
  bytes: number;
  received: number;
  sha256: string;
  receivedSha256: string;
  ms: number;
  mbps: number;
}

/**
 * Sends `bytes` from namespace `from` to a sink listening on `addr` in namespace `to`.
 * @throws {Error} when the sink cannot start or the source fails to connect or send.
 */
export async function checkedTransfer(
  from: Netns,
  to: Netns,
  addr: string,
  bytes: number,
  logPath: string,
  { port = 5301, timeoutMs = 120_000 }: { port?: number; timeoutMs?: number } = {},
): Promise<TransferResult> {
  const deno = [Deno.execPath(), "run", "--allow-net", SCRIPT];
  const sink = await ManagedProcess.start(
    `tcp sink in ${to.name}`,
    to.command([...deno, "sink", addr, String(port)]),
    { logPath },
  );
  try {
    await sink.waitForLog("listening on", 30_000);
    const r = await from.exec([...deno, "source", addr, String(port), String(bytes)], {
      timeoutMs,
    });
    const line = r.stdout.trim().split("\n").pop() ?? "";
    try {
      return JSON.parse(line) as TransferResult;
    } catch (e) {
      throw new Error(`tcp source to ${addr} failed (${r.code}): ${r.stderr.trim()}`, {
        cause: e,
      });
    }
  } finally {
    await sink.stop({ graceMs: 1000 });
  }
}
