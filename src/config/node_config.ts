/**
 * The node config file: JSON, a superset of the Go vmesh's NodeConfig. Every Go key keeps its
 * name and meaning; the additions have defaults, so a Go config file loads unchanged.
 * @module
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { parseIpv6 } from "../net/ipv6.ts";
import { type Ipv6Prefix, parsePrefix } from "../net/prefix.ts";
import { isValidNodeName } from "../pki/names.ts";
import { formatHostPort, type HostPort, parseHostPort } from "./addr.ts";
import { ConfigError } from "./errors.ts";

/** The largest config file read: 1 MiB. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Defaults of the keys that the Go vmesh does not have. */
export const CONFIG_DEFAULTS = {
  stateDir: "/var/lib/vmesh",
  controlSocket: "/run/vmesh/control.sock",
  externalPeersDefault: "reject",
  hysteresisMs: 10,
  pingIntervalMs: 1000,
  maxRoutesPerPeer: 65536,
} as const;

/** A prefix this node originates, and the vif that receives its packets. */
export interface LocalAnnouncement {
  /** The prefix announced. */
  readonly prefix: Ipv6Prefix;
  /** Key into {@link NodeConfig.vifs}; undefined when the file gave none (Go: packets dropped). */
  readonly vif: string | undefined;
}

/** A peer to dial. */
export interface PeerConfig {
  /** Where to dial: host (name, IPv4 or IPv6) and port. */
  readonly addr: HostPort;
  /** The peer's expected certificate name. */
  readonly name: string;
  /** Ask for the UDP data channel (Go vmesh `udp`). */
  readonly udp: boolean;
}

/** An address on a TUN device: "fd00:1::1/64". */
export interface InterfaceAddress {
  /** 16 bytes. */
  readonly addr: Uint8Array;
  /** Prefix length 0..128. */
  readonly len: number;
}

/** A TUN device. */
export interface TunVifConfig {
  /** Discriminator. */
  readonly type: "tun";
  /** Interface name or template ("vmesh%d"); undefined lets the kernel pick. */
  readonly tunName: string | undefined;
  /** Addresses to put on the device. */
  readonly addresses: readonly InterfaceAddress[];
  /** Routes to point at the device. */
  readonly routes: readonly Ipv6Prefix[];
  /** MTU (1280..65535); undefined for the vif's default. */
  readonly mtu: number | undefined;
  /** Use IFF_VNET_HDR offloads; undefined: on where the kernel allows (the node's default). */
  readonly offload: boolean | undefined;
}

/** A unixgram service socket. */
export interface ServiceVifConfig {
  /** Discriminator. */
  readonly type: "service";
  /** Name of the service (Go vmesh `service_name`). */
  readonly serviceName: string;
  /** Socket type: only unixgram. */
  readonly serviceNetwork: "unixgram";
  /** Socket path (resolved against the config's directory). */
  readonly serviceAddress: string;
}

/** A vif that drops everything. */
export interface DummyVifConfig {
  /** Discriminator. */
  readonly type: "dummy";
}

/** One vif. */
export type VifConfig = TunVifConfig | ServiceVifConfig | DummyVifConfig;

/** A validated node config. Paths are absolute. */
export interface NodeConfig {
  /** The config file's absolute path ("" when parsed from text without one). */
  readonly path: string;
  /** `listen_addr`: where to accept peers (host "" = all addresses). */
  readonly listenAddr: HostPort;
  /** `ca`: our CA certificate file. */
  readonly ca: string;
  /** `external_peer_certs`: pinned certificate files of external peers. */
  readonly externalPeerCerts: readonly string[];
  /** `cert`: this node's certificate file. */
  readonly cert: string;
  /** `private_key`: this node's private key file. */
  readonly privateKey: string;
  /** Must equal the certificate's CN when given. */
  readonly serverName: string | undefined;
  /** `local_announcements`: prefixes this node originates. */
  readonly localAnnouncements: readonly LocalAnnouncement[];
  /** `peers`: peers to dial. */
  readonly peers: readonly PeerConfig[];
  /** `vifs`: virtual interfaces by key. */
  readonly vifs: ReadonlyMap<string, VifConfig>;
  /** `state_dir`: where the node keeps state (the current DC). */
  readonly stateDir: string;
  /** `control_socket`: the unix socket of `vmesh status|routes|dc current`. */
  readonly controlSocket: string;
  /** What to do with routes from external peers that no whitelist entry names. */
  readonly externalPeersDefault: "reject" | "accept";
  /** `hysteresis_ms`: how much lower a new path's latency must be to replace the current one. */
  readonly hysteresisMs: number;
  /** `ping_interval_ms`: latency probe interval per session. */
  readonly pingIntervalMs: number;
  /** `max_routes_per_peer`: routes accepted from one peer before it is refused more. */
  readonly maxRoutesPerPeer: number;
}

/** A parse result: the config and non-fatal warnings (unknown keys, ...). */
export interface LoadedConfig {
  /** The validated config. */
  readonly config: NodeConfig;
  /** Unknown keys and other non-fatal findings, each "json.path: what". */
  readonly warnings: readonly string[];
}

type Json = unknown;

/** Collects problems and warnings while walking the JSON. */
class Checker {
  problems: string[] = [];
  warnings: string[] = [];
  constructor(readonly baseDir: string) {}

  problem(path: string, msg: string): undefined {
    this.problems.push(`${path || "(top level)"}: ${msg}`);
    return undefined;
  }

  object(v: Json, path: string, known: readonly string[]): Record<string, Json> | undefined {
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      return this.problem(path, `expected an object, got ${kind(v)}`);
    }
    for (const k of Object.keys(v)) {
      if (!known.includes(k)) {
        this.warnings.push(`${join(path, k)}: unknown key (ignored)`);
      }
    }
    return v as Record<string, Json>;
  }

  string(v: Json, path: string, required: boolean): string | undefined {
    if (v === undefined || v === null) {
      return required ? this.problem(path, "required, missing") : undefined;
    }
    if (typeof v !== "string") return this.problem(path, `expected a string, got ${kind(v)}`);
    if (required && v === "") return this.problem(path, "must not be empty");
    return v;
  }

  path(v: Json, path: string, required: boolean): string | undefined {
    const s = this.string(v, path, required);
    if (s === undefined || s === "") return undefined;
    return isAbsolute(s) ? s : resolve(this.baseDir, s);
  }

  bool(v: Json, path: string): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "boolean") return this.problem(path, `expected true or false, got ${kind(v)}`);
    return v;
  }

  int(v: Json, path: string, min: number, max: number): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      return this.problem(path, `expected an integer ${min}..${max}, got ${show(v)}`);
    }
    return v;
  }

  array(v: Json, path: string): Json[] | undefined {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) return this.problem(path, `expected an array, got ${kind(v)}`);
    return v;
  }
}

function kind(v: Json): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  return `${typeof v} ${show(v)}`;
}

function show(v: Json): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function join(path: string, key: string): string {
  const k = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : JSON.stringify(key);
  if (path === "") return k;
  return /^[A-Za-z_]/.test(k) ? `${path}.${k}` : `${path}[${k}]`;
}

const TOP_KEYS = [
  "listen_addr",
  "ca",
  "external_peer_certs",
  "cert",
  "private_key",
  "server_name",
  "local_announcements",
  "peers",
  "vifs",
  "state_dir",
  "control_socket",
  "external_peers_default",
  "hysteresis_ms",
  "ping_interval_ms",
  "max_routes_per_peer",
] as const;

function parsePrefixAt(c: Checker, v: Json, path: string): Ipv6Prefix | undefined {
  const s = c.string(v, path, true);
  if (s === undefined) return undefined;
  try {
    return parsePrefix(s);
  } catch (e) {
    return c.problem(path, (e as Error).message);
  }
}

/** Every key a vif may have, whatever its type. */
const TOP_VIF_KEYS = [
  "tun_name",
  "addresses",
  "routes",
  "mtu",
  "offload",
  "service_name",
  "service_network",
  "service_address",
];

function parseVif(c: Checker, v: Json, path: string): VifConfig | undefined {
  const o = c.object(v, path, ["type", ...TOP_VIF_KEYS]);
  if (!o) return undefined;
  const type = c.string(o.type, `${path}.type`, true);
  const only = (keys: string[]) => {
    for (const k of Object.keys(o)) {
      if (k !== "type" && !keys.includes(k) && TOP_VIF_KEYS.includes(k)) {
        c.warnings.push(`${path}.${k}: not used by a vif of type "${type}" (ignored)`);
      }
    }
  };
  switch (type) {
    case undefined:
      return undefined;
    case "tun": {
      only(["tun_name", "addresses", "routes", "mtu", "offload"]);
      const tunName = c.string(o.tun_name, `${path}.tun_name`, false);
      if (tunName !== undefined && (tunName.length > 15 || !/^[A-Za-z0-9_.%-]+$/.test(tunName))) {
        c.problem(
          `${path}.tun_name`,
          `"${tunName}" is not an interface name (1..15 characters of A-Z a-z 0-9 _ . - %)`,
        );
      }
      const addresses: InterfaceAddress[] = [];
      (c.array(o.addresses, `${path}.addresses`) ?? []).forEach((a, i) => {
        const p = `${path}.addresses[${i}]`;
        const s = c.string(a, p, true);
        if (s === undefined) return;
        const m = s.match(/^([^/]+)\/(\d{1,3})$/);
        try {
          if (!m) throw new SyntaxError(`expected "address/len" like "fd00:1::1/64", got "${s}"`);
          const len = Number(m[2]);
          if (len > 128) throw new RangeError(`prefix length ${len} is over 128`);
          addresses.push({ addr: parseIpv6(m[1]), len });
        } catch (e) {
          const msg = /^\d+\.\d+\.\d+\.\d+/.test(s)
            ? `"${s}" is IPv4: vmesh routes IPv6 only`
            : (e as Error).message;
          c.problem(p, msg);
        }
      });
      const routes: Ipv6Prefix[] = [];
      (c.array(o.routes, `${path}.routes`) ?? []).forEach((r, i) => {
        const p = parsePrefixAt(c, r, `${path}.routes[${i}]`);
        if (p) routes.push(p);
      });
      return {
        type,
        tunName: tunName || undefined,
        addresses,
        routes,
        mtu: c.int(o.mtu, `${path}.mtu`, 1280, 65535),
        offload: c.bool(o.offload, `${path}.offload`),
      };
    }
    case "service": {
      only(["service_name", "service_network", "service_address"]);
      const serviceName = c.string(o.service_name, `${path}.service_name`, true);
      const net = c.string(o.service_network, `${path}.service_network`, true);
      if (net !== undefined && net !== "unixgram") {
        c.problem(`${path}.service_network`, `only "unixgram" is supported, got "${net}"`);
      }
      const serviceAddress = c.path(o.service_address, `${path}.service_address`, true);
      if (serviceName === undefined || net !== "unixgram" || serviceAddress === undefined) {
        return undefined;
      }
      return { type, serviceName, serviceNetwork: "unixgram", serviceAddress };
    }
    case "dummy":
      only([]);
      return { type };
    default:
      return c.problem(`${path}.type`, `expected "tun", "service" or "dummy", got "${type}"`);
  }
}

/**
 * Parses and validates config text. Relative paths resolve against `baseDir` (the config
 * file's directory). Every problem is collected before throwing.
 * @param text The JSON text.
 * @param opts.path The file's path, for messages and `baseDir` (default: cwd).
 * @returns The config and warnings.
 * @throws {ConfigError} listing every problem.
 */
export function parseNodeConfig(text: string, opts: { path?: string } = {}): LoadedConfig {
  const path = opts.path ? resolve(opts.path) : "";
  const source = opts.path ?? "config";
  const c = new Checker(path ? dirname(path) : Deno.cwd());
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(source, [`not valid JSON: ${(e as Error).message}`], [], { cause: e });
  }
  const o = c.object(json, "", TOP_KEYS);
  if (!o) throw new ConfigError(source, c.problems);

  const listenText = c.string(o.listen_addr, "listen_addr", true);
  let listenAddr: HostPort | undefined;
  if (listenText !== undefined) {
    try {
      listenAddr = parseHostPort(listenText, true);
    } catch (e) {
      c.problem("listen_addr", (e as Error).message);
    }
  }
  const ca = c.path(o.ca, "ca", true);
  const externalPeerCerts: string[] = [];
  (c.array(o.external_peer_certs, "external_peer_certs") ?? []).forEach((p, i) => {
    const r = c.path(p, `external_peer_certs[${i}]`, true);
    if (r) externalPeerCerts.push(r);
  });
  const cert = c.path(o.cert, "cert", true);
  const privateKey = c.path(o.private_key, "private_key", true);
  const serverName = c.string(o.server_name, "server_name", false) || undefined;
  if (serverName !== undefined && !isValidNodeName(serverName)) {
    c.problem("server_name", `"${serverName}" is not a node name like "a.vnet.example.com"`);
  }

  const vifs = new Map<string, VifConfig>();
  if (o.vifs !== undefined && o.vifs !== null) {
    const vo = c.object(o.vifs, "vifs", Object.keys(o.vifs as object));
    for (const [key, v] of Object.entries(vo ?? {})) {
      const p = join("vifs", key);
      if (key === "") {
        c.problem(p, "a vif needs a non-empty key");
        continue;
      }
      const vif = parseVif(c, v, p);
      if (vif) vifs.set(key, vif);
    }
  }
  const tunNames = new Map<string, string>();
  for (const [key, v] of vifs) {
    if (v.type !== "tun" || !v.tunName || v.tunName.includes("%")) continue;
    const other = tunNames.get(v.tunName);
    if (other) {
      c.problem(join("vifs", key) + ".tun_name", `"${v.tunName}" is also used by vif "${other}"`);
    }
    tunNames.set(v.tunName, key);
  }

  const localAnnouncements: LocalAnnouncement[] = [];
  const seenPrefixes = new Map<string, number>();
  (c.array(o.local_announcements, "local_announcements") ?? []).forEach((a, i) => {
    const p = `local_announcements[${i}]`;
    if (typeof a === "string") {
      c.problem(
        p,
        `a bare prefix is the old format: write {"prefix": "${a}", "vif": "<key of vifs>"}`,
      );
      return;
    }
    const ao = c.object(a, p, ["prefix", "vif"]);
    if (!ao) return;
    const prefix = parsePrefixAt(c, ao.prefix, `${p}.prefix`);
    const vif = c.string(ao.vif, `${p}.vif`, false) || undefined;
    if (vif === undefined) {
      c.warnings.push(`${p}.vif: no vif named: packets to this prefix will be dropped`);
    } else if (!vifs.has(vif) && !(o.vifs as Record<string, unknown> | undefined)?.[vif]) {
      const known = [...vifs.keys()].map((k) => `"${k}"`).join(", ") || "none defined";
      c.problem(`${p}.vif`, `no vif "${vif}" in vifs (known: ${known})`);
    }
    if (prefix) {
      const key = `${[...prefix.addr].join(",")}/${prefix.len}`;
      const dup = seenPrefixes.get(key);
      if (dup !== undefined) c.problem(`${p}.prefix`, `same prefix as local_announcements[${dup}]`);
      seenPrefixes.set(key, i);
      localAnnouncements.push({ prefix, vif });
    }
  });

  const peers: PeerConfig[] = [];
  const seenAddr = new Map<string, number>();
  const seenName = new Map<string, number>();
  (c.array(o.peers, "peers") ?? []).forEach((v, i) => {
    const p = `peers[${i}]`;
    const po = c.object(v, p, ["addr", "name", "udp"]);
    if (!po) return;
    const addrText = c.string(po.addr, `${p}.addr`, true);
    let addr: HostPort | undefined;
    if (addrText !== undefined) {
      try {
        addr = parseHostPort(addrText);
      } catch (e) {
        c.problem(`${p}.addr`, (e as Error).message.replace(/: (missing port)$/, ""));
      }
    }
    const name = c.string(po.name, `${p}.name`, true);
    if (name !== undefined && !isValidNodeName(name)) {
      c.problem(`${p}.name`, `"${name}" is not a node name like "b.vnet.example.com"`);
    }
    const udp = c.bool(po.udp, `${p}.udp`) ?? false;
    if (addr) {
      const k = formatHostPort(addr).toLowerCase();
      const d = seenAddr.get(k);
      if (d !== undefined) c.problem(`${p}.addr`, `duplicate of peers[${d}].addr "${addrText}"`);
      seenAddr.set(k, i);
    }
    if (name) {
      const d = seenName.get(name.toLowerCase());
      if (d !== undefined) c.problem(`${p}.name`, `duplicate of peers[${d}].name "${name}"`);
      seenName.set(name.toLowerCase(), i);
      if (serverName && name.toLowerCase() === serverName.toLowerCase()) {
        c.problem(`${p}.name`, `"${name}" is this node's own server_name`);
      }
    }
    if (addr && name) peers.push({ addr, name, udp });
  });

  const stateDir = c.path(o.state_dir, "state_dir", false) ?? CONFIG_DEFAULTS.stateDir;
  const controlSocket = c.path(o.control_socket, "control_socket", false) ??
    CONFIG_DEFAULTS.controlSocket;
  const epd = c.string(o.external_peers_default, "external_peers_default", false);
  if (epd !== undefined && epd !== "reject" && epd !== "accept") {
    c.problem("external_peers_default", `expected "reject" or "accept", got "${epd}"`);
  }
  const hysteresisMs = c.int(o.hysteresis_ms, "hysteresis_ms", 0, 60_000) ??
    CONFIG_DEFAULTS.hysteresisMs;
  const pingIntervalMs = c.int(o.ping_interval_ms, "ping_interval_ms", 100, 60_000) ??
    CONFIG_DEFAULTS.pingIntervalMs;
  const maxRoutesPerPeer = c.int(o.max_routes_per_peer, "max_routes_per_peer", 1, 10_000_000) ??
    CONFIG_DEFAULTS.maxRoutesPerPeer;

  if (c.problems.length > 0) throw new ConfigError(source, c.problems, c.warnings);
  return {
    config: {
      path,
      listenAddr: listenAddr!,
      ca: ca!,
      externalPeerCerts,
      cert: cert!,
      privateKey: privateKey!,
      serverName,
      localAnnouncements,
      peers,
      vifs,
      stateDir,
      controlSocket,
      externalPeersDefault: (epd as "reject" | "accept" | undefined) ??
        CONFIG_DEFAULTS.externalPeersDefault,
      hysteresisMs,
      pingIntervalMs,
      maxRoutesPerPeer,
    },
    warnings: c.warnings,
  };
}

/**
 * Reads and validates a config file (at most 1 MiB).
 * @throws {ConfigError} when the file cannot be read, is too large, or has problems.
 */
export async function loadNodeConfig(path: string): Promise<LoadedConfig> {
  let text: string;
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) throw new ConfigError(path, ["not a regular file"]);
    if (info.size > MAX_CONFIG_BYTES) {
      throw new ConfigError(path, [`the file is ${info.size} bytes, over the 1 MiB limit`]);
    }
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(path, [`cannot read the file: ${(e as Error).message}`], [], {
      cause: e,
    });
  }
  return parseNodeConfig(text, { path });
}
