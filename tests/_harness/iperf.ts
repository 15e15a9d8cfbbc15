/**
 * iperf3 between namespaces: a one-shot server and a client that returns iperf3's JSON.
 * @module
 */
import { waitFor } from "./command.ts";
import type { Netns } from "./netns.ts";
import { ManagedProcess } from "./process.ts";

/** The parts of iperf3's `-J` report the harness reads. */
export interface IperfReport {
  end: {
    sum_sent?: IperfSum;
    /** The receiver's view (UDP: `packets` sent and `lost_packets` of them). */
    sum_received?: IperfSum;
    /** UDP: the client's view, including the receiver's loss count. */
    sum?: {
      bytes: number;
      seconds: number;
      packets: number;
      lost_packets: number;
      bits_per_second: number;
    };
  };
  error?: string;
}

/** Totals of one direction of an iperf3 test. */
export interface IperfSum {
  bytes: number;
  seconds: number;
  bits_per_second: number;
  /** UDP only. */
  packets?: number;
  lost_packets?: number;
}

/** An `iperf3 -s` running in a namespace until stopped. */
export class IperfServer {
  private constructor(readonly proc: ManagedProcess, readonly port: number) {}

  /** Starts `iperf3 -s` on `port` in `ns` and waits until it listens. */
  static async start(ns: Netns, logPath: string, port = 5201): Promise<IperfServer> {
    const proc = await ManagedProcess.start(
      `iperf3 -s in ${ns.name}`,
      ns.command(["iperf3", "-s", "-p", String(port)]),
      { logPath },
    );
    try {
      await waitFor(`iperf3 -s listening on ${port} in ${ns.name}`, async () => {
        if (proc.status) throw new Error(`iperf3 -s exited:\n${await proc.log()}`);
        const r = await ns.exec(["ss", "-Hltn", `sport = :${port}`]);
        return r.stdout.trim().length > 0;
      }, { timeoutMs: 10_000 });
    } catch (e) {
      await proc.stop();
      throw e;
    }
    return new IperfServer(proc, port);
  }

  /** Stops the server. */
  async stop(): Promise<void> {
    await this.proc.stop({ graceMs: 2000 });
  }
}

/**
 * Runs `iperf3 -c addr -J <args>` in `ns` and returns the parsed report.
 * @throws {Error} when iperf3 fails or reports an error.
 */
export async function iperfClient(
  ns: Netns,
  addr: string,
  args: readonly string[],
  { port = 5201, timeoutMs = 120_000 }: { port?: number; timeoutMs?: number } = {},
): Promise<IperfReport> {
  const cmd = ["iperf3", "-c", addr, "-p", String(port), "-J", ...args];
  const r = await ns.exec(cmd, { timeoutMs });
  let report: IperfReport;
  try {
    report = JSON.parse(r.stdout);
  } catch (e) {
    throw new Error(`iperf3 ${args.join(" ")} to ${addr} failed (${r.code}): ${r.stderr}`, {
      cause: e,
    });
  }
  if (report.error || r.code !== 0) {
    throw new Error(`iperf3 ${args.join(" ")} to ${addr} failed: ${report.error ?? r.stderr}`);
  }
  return report;
}
