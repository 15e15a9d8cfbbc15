/**
 * Network namespaces joined by veth pairs, for end-to-end tests, the demo and the mesh bench.
 *
 * Every namespace this harness makes is named `vme-<pid>-<tag>-<node>`, where `<pid>` is the
 * process that made it. {@link cleanupStale} removes namespaces (and kills the processes in
 * them) whose owner process is gone, so a crashed run does not leave anything behind for the
 * next one. Links use an IPv4 underlay: link number `i` is `10.<i>.0.0/30`, with `.1` on the
 * first namespace and `.2` on the second. The veth ends are created directly inside their
 * namespaces, so nothing ever appears among the host's interfaces.
 * @module
 */
import { delay, run, runOk } from "./command.ts";

/** The prefix of every namespace, temp directory and tag made by this harness. */
export const HARNESS_PREFIX = "vme-";

/** A unique tag for one mesh: `vme-<pid>-<label>`; random when no label is given. */
export function uniqueTag(label?: string): string {
  const rnd = crypto.getRandomValues(new Uint8Array(3)).toHex();
  return `${HARNESS_PREFIX}${Deno.pid}-${label ? `${label}-` : ""}${rnd}`;
}

/** Interface byte/packet counters. */
export interface LinkCounters {
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
}

/** One network namespace. */
export class Netns {
  private constructor(readonly name: string) {}

  /**
   * Creates the namespace `name` with its loopback up.
   * @throws {Error} when `ip netns add` fails (for example the name exists, or not root).
   */
  static async create(name: string): Promise<Netns> {
    if (!/^[\w.-]{1,200}$/.test(name)) throw new TypeError(`bad namespace name "${name}"`);
    await runOk(["ip", "netns", "add", name]);
    const ns = new Netns(name);
    try {
      await ns.ip(["link", "set", "lo", "up"]);
    } catch (e) {
      await ns.destroy();
      throw e;
    }
    return ns;
  }

  /** The argv that runs `cmd` inside this namespace (`ip netns exec` keeps the pid). */
  command(cmd: readonly string[]): string[] {
    return ["ip", "netns", "exec", this.name, ...cmd];
  }

  /** Runs `ip -n <ns> <args>` and returns stdout; throws with stderr on failure. */
  ip(args: readonly string[]): Promise<string> {
    return runOk(["ip", "-n", this.name, ...args]);
  }

  /** Runs `cmd` inside the namespace; returns the result whatever the exit code. */
  exec(cmd: readonly string[], opts: { timeoutMs?: number; stdin?: string } = {}) {
    return run(this.command(cmd), opts);
  }

  /** Runs `cmd` inside the namespace; throws when it does not exit 0. */
  execOk(cmd: readonly string[], opts: { timeoutMs?: number } = {}): Promise<string> {
    return runOk(this.command(cmd), opts);
  }

  /** The pids of the processes living in this namespace. */
  async pids(): Promise<number[]> {
    return await namespacePids(this.name);
  }

  /** Reads an interface's counters (from the kernel's stats64). */
  async counters(ifname: string): Promise<LinkCounters> {
    const out = await this.ip(["-j", "-s", "link", "show", "dev", ifname]);
    const [link] = JSON.parse(out) as { stats64: { rx: Stats; tx: Stats } }[];
    if (!link?.stats64) throw new Error(`no counters for ${ifname} in ${this.name}`);
    return {
      rxBytes: link.stats64.rx.bytes,
      txBytes: link.stats64.tx.bytes,
      rxPackets: link.stats64.rx.packets,
      txPackets: link.stats64.tx.packets,
    };
  }

  /** Names of the interfaces in this namespace. */
  async interfaces(): Promise<string[]> {
    const out = await this.ip(["-j", "link", "show"]);
    return (JSON.parse(out) as { ifname: string }[]).map((l) => l.ifname);
  }

  /** Kills every process in the namespace (SIGKILL, by pid) and deletes it. Idempotent. */
  async destroy(): Promise<void> {
    await destroyNamespace(this.name);
  }
}

interface Stats {
  bytes: number;
  packets: number;
}

/** A veth pair between two namespaces with an IPv4 /30 on it. */
export interface VethLink {
  index: number;
  a: Netns;
  b: Netns;
  /** Interface name inside `a` (and inside `b`). */
  aIf: string;
  bIf: string;
  /** IPv4 addresses without prefix length. */
  aAddr: string;
  bAddr: string;
}

/**
 * Joins `a` and `b` with a veth pair numbered `index` (1–254): `10.<index>.0.1/30` on `a`'s
 * end, `10.<index>.0.2/30` on `b`'s, both up.
 * @param aIf interface name in `a` (at most 15 characters), by default `to-<b's last part>`.
 */
export async function connectNamespaces(
  a: Netns,
  b: Netns,
  index: number,
  names: { aIf: string; bIf: string },
): Promise<VethLink> {
  if (!Number.isInteger(index) || index < 1 || index > 254) {
    throw new RangeError(`link index ${index} out of range 1..254`);
  }
  for (const n of [names.aIf, names.bIf]) {
    if (!/^[\w-]{1,15}$/.test(n)) throw new TypeError(`bad interface name "${n}"`);
  }
  const link: VethLink = {
    index,
    a,
    b,
    aIf: names.aIf,
    bIf: names.bIf,
    aAddr: `10.${index}.0.1`,
    bAddr: `10.${index}.0.2`,
  };
  await runOk([
    "ip",
    "link",
    "add",
    "name",
    link.aIf,
    "netns",
    a.name,
    "type",
    "veth",
    "peer",
    "name",
    link.bIf,
    "netns",
    b.name,
  ]);
  await a.ip(["addr", "add", `${link.aAddr}/30`, "dev", link.aIf]);
  await b.ip(["addr", "add", `${link.bAddr}/30`, "dev", link.bIf]);
  await a.ip(["link", "set", link.aIf, "up"]);
  await b.ip(["link", "set", link.bIf, "up"]);
  return link;
}

/** Brings both ends of a link down or up (to cut or restore it without deleting it). */
export async function setLinkState(link: VethLink, up: boolean): Promise<void> {
  const state = up ? "up" : "down";
  await link.a.ip(["link", "set", link.aIf, state]);
  await link.b.ip(["link", "set", link.bIf, state]);
}

async function namespacePids(name: string): Promise<number[]> {
  const r = await run(["ip", "netns", "pids", name]);
  if (r.code !== 0) return [];
  return r.stdout.split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number);
}

function killPid(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(pid, signal);
  } catch (e) {
    // ESRCH: it exited on its own meanwhile, which is what we want.
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

async function destroyNamespace(name: string): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const pids = await namespacePids(name);
    if (pids.length === 0) break;
    for (const pid of pids) {
      killPid(pid, "SIGCONT");
      killPid(pid, "SIGKILL");
    }
    await delay(20);
  }
  const r = await run(["ip", "netns", "del", name]);
  if (r.code !== 0 && !/No such file|not found/i.test(r.stderr)) {
    throw new Error(`ip netns del ${name} failed: ${r.stderr.trim()}`);
  }
}

/** Whether process `pid` exists and is a Deno (or `ip`/shell-started) harness process. */
function ownerAlive(pid: number): boolean {
  try {
    const comm = Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
    return comm.startsWith("deno");
  } catch {
    return false;
  }
}

/** Names of this harness's namespaces currently present. */
export async function harnessNamespaces(): Promise<string[]> {
  const out = await runOk(["ip", "netns", "list"]);
  return out.split("\n").map((l) => l.split(" ")[0]).filter((n) => n.startsWith(HARNESS_PREFIX));
}

/**
 * Removes what a crashed earlier run left behind: namespaces named `vme-<pid>-…` and temp
 * directories `/tmp/vme-<pid>-…` whose `<pid>` is no longer a running Deno process (the
 * processes inside such namespaces are killed by pid first). Never touches this process's
 * own resources or those of another live run.
 * @returns the names of the namespaces and directories it removed.
 */
export async function cleanupStale(): Promise<string[]> {
  const removed: string[] = [];
  const stale = (name: string) => {
    const m = name.match(/^vme-(\d+)-/);
    return m !== null && Number(m[1]) !== Deno.pid && !ownerAlive(Number(m[1]));
  };
  for (const ns of await harnessNamespaces()) {
    if (!stale(ns)) continue;
    await destroyNamespace(ns);
    removed.push(ns);
  }
  const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
  try {
    for await (const e of Deno.readDir(tmp)) {
      if (!e.isDirectory || !stale(e.name)) continue;
      await Deno.remove(`${tmp}/${e.name}`, { recursive: true }).catch(() => undefined);
      removed.push(`${tmp}/${e.name}`);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return removed;
}

/** Why the namespace harness cannot run here, or `undefined` when it can. */
export async function namespaceSupport(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "network namespaces need Linux";
  if (Deno.uid() !== 0) return "needs root (network namespaces, TUN devices)";
  const r = await run(["ip", "netns", "list"]).catch(() => undefined);
  if (!r) return "the `ip` command (iproute2) is not installed";
  if (r.code !== 0) return `\`ip netns\` does not work here: ${r.stderr.trim()}`;
  try {
    const st = await Deno.stat("/dev/net/tun");
    if (!st.isCharDevice) return "/dev/net/tun is not a character device";
  } catch {
    return "/dev/net/tun is missing (load the tun module: modprobe tun)";
  }
  return undefined;
}
