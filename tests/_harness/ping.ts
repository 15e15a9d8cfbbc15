/**
 * Ping through the mesh: one-shot reachability checks and a continuous 10 ms ping whose
 * timestamped replies (`ping -D -O`) give the longest outage during a failover.
 * @module
 */
import type { Netns } from "./netns.ts";
import { ManagedProcess } from "./process.ts";

/** One echo reply. */
export interface PingReply {
  seq: number;
  /** Unix time in seconds when the reply arrived (from `ping -D`). */
  at: number;
  rttMs: number;
}

/** Parsed `ping` output. */
export interface PingOutput {
  replies: PingReply[];
  transmitted: number | undefined;
  received: number | undefined;
}

const REPLY =
  /^\[(\d+\.\d+)\] \d+ bytes from \S+ icmp_seq=(\d+) ttl=\d+ time=([\d.]+) ms(?! \(DUP!\))/;
const REPLY_NO_TS = /^\d+ bytes from \S+ icmp_seq=(\d+) ttl=\d+ time=([\d.]+) ms(?! \(DUP!\))/;
const SUMMARY = /^(\d+) packets transmitted, (\d+) received/m;

/** Parses iputils `ping` output (with or without `-D`); duplicates are ignored. */
export function parsePing(text: string): PingOutput {
  const replies: PingReply[] = [];
  const seen = new Set<number>();
  for (const line of text.split("\n")) {
    let m = line.match(REPLY);
    let reply: PingReply | undefined;
    if (m) reply = { at: Number(m[1]), seq: Number(m[2]), rttMs: Number(m[3]) };
    else if ((m = line.match(REPLY_NO_TS))) {
      reply = { at: NaN, seq: Number(m[1]), rttMs: Number(m[2]) };
    }
    if (!reply || seen.has(reply.seq)) continue;
    seen.add(reply.seq);
    replies.push(reply);
  }
  const s = text.match(SUMMARY);
  return {
    replies,
    transmitted: s ? Number(s[1]) : undefined,
    received: s ? Number(s[2]) : undefined,
  };
}

/** The longest time without replies. */
export interface Gap {
  /** Seconds between the two replies around the gap. */
  seconds: number;
  /** Reply before and after the gap. */
  before: PingReply;
  after: PingReply;
}

/**
 * The longest gap between consecutive replies (in arrival order) over the replies that
 * arrived in `[from, to]` (Unix seconds), counting the edges: from `from` to the first reply
 * and from the last reply to `to`, when given. Returns `undefined` for fewer than 2 replies.
 */
export function longestGap(
  replies: readonly PingReply[],
  { from, to }: { from?: number; to?: number } = {},
): Gap | undefined {
  const sorted = replies.filter((r) => Number.isFinite(r.at)).sort((a, b) => a.at - b.at);
  const inRange = sorted.filter((r) =>
    (from === undefined || r.at >= from) && (to === undefined || r.at <= to)
  );
  const points = [...inRange];
  if (from !== undefined) points.unshift({ seq: -1, at: from, rttMs: 0 });
  if (to !== undefined) points.push({ seq: -1, at: to, rttMs: 0 });
  let best: Gap | undefined;
  for (let i = 1; i < points.length; i++) {
    const seconds = points[i].at - points[i - 1].at;
    if (!best || seconds > best.seconds) {
      best = { seconds, before: points[i - 1], after: points[i] };
    }
  }
  return best;
}

/** Percentile (0–100) of `values` by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/**
 * Pings `addr` from namespace `ns` `count` times and returns the parsed output: `received`
 * counts the replies to those `count` probes that arrived within `count × intervalS + waitS`
 * (rounded up to whole seconds). Never throws for unreachable targets: check `received`.
 *
 * `-c` alone is not used for that: once any reply has come, iputils ping waits only two
 * round-trip times after the last probe, so on a loaded machine a late third reply counted as
 * lost. With `-w` it waits until `count` replies or the deadline; while replies are missing it
 * keeps probing, and replies to probes past `count` are not counted.
 */
export async function ping(
  ns: Netns,
  addr: string,
  { count = 1, waitS = 1, intervalS = 0.2 }: {
    count?: number;
    waitS?: number;
    intervalS?: number;
  } = {},
): Promise<PingOutput & { output: string }> {
  const family = addr.includes(":") ? "-6" : "-4";
  const deadlineS = Math.max(1, Math.ceil(count * intervalS + waitS));
  const r = await ns.exec([
    "ping",
    family,
    "-n",
    "-D",
    "-c",
    String(count),
    "-i",
    String(intervalS),
    "-W",
    String(waitS),
    "-w",
    String(deadlineS),
    addr,
  ], { timeoutMs: deadlineS * 1000 + 10_000 });
  const output = r.stdout + r.stderr;
  const parsed = parsePing(output);
  const replies = parsed.replies.filter((p) => p.seq <= count);
  return {
    replies,
    transmitted: parsed.transmitted === undefined ? undefined : Math.min(count, parsed.transmitted),
    received: parsed.received === undefined ? undefined : replies.length,
    output,
  };
}

/** A `ping -D -O` running in the background until {@link ContinuousPing.stop}. */
export class ContinuousPing {
  private constructor(readonly proc: ManagedProcess) {}

  /**
   * Starts pinging `addr` from `ns` every `intervalS` seconds (10 ms by default), logging to
   * `logPath`.
   */
  static async start(
    ns: Netns,
    addr: string,
    logPath: string,
    { intervalS = 0.01, size }: { intervalS?: number; size?: number } = {},
  ): Promise<ContinuousPing> {
    const family = addr.includes(":") ? "-6" : "-4";
    const args = ["ping", family, "-n", "-D", "-O", "-i", String(intervalS), "-W", "1"];
    if (size !== undefined) args.push("-s", String(size));
    const proc = await ManagedProcess.start(`ping ${addr}`, ns.command([...args, addr]), {
      logPath,
    });
    return new ContinuousPing(proc);
  }

  /** Stops the ping (SIGINT, so it prints its summary) and returns what it saw. */
  async stop(): Promise<PingOutput> {
    await this.proc.stop({ signal: "SIGINT", graceMs: 3000 });
    return parsePing(await this.proc.log());
  }
}
