/**
 * The node config file: JSON, a superset of the Go vmesh's NodeConfig. Every Go key keeps its
 * name and meaning; the additions have defaults, so a Go config file loads unchanged.
 * @module
 */
import { dirname, resolve } from "node:path";
import { Checker, join, type Json } from "./json_checker.ts";
import {
  canonicalName,
  formatHostPort,
  type HostPort,
  type Ipv6Prefix,
  parseHostPort,
  parseIpv6,
  parsePrefix,
} from "../net/mod.ts";
import { isValidNodeName } from "../pki/mod.ts";
import { ConfigError } from "./errors.ts";
import { parseHttpKeys } from "./http_config.ts";

/**
 * The largest config file read: 16 MiB, room for about 300 000 `local_announcements` (a transit
 * site announcing 100 000 prefixes writes about 5 MB).
 */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

export {
  CONFIG_DEFAULTS,
  type DummyVifConfig,
  type InterfaceAddress,
  type LoadedConfig,
  type LocalAnnouncement,
  type NodeConfig,
  type PeerConfig,
  type ServiceVifConfig,
  type TunVifConfig,
  type VifConfig,
} from "./config_types.ts";
import {
  CONFIG_DEFAULTS,
  type InterfaceAddress,
  type LoadedConfig,
  type LocalAnnouncement,
  type PeerConfig,
  type VifConfig,
} from "./config_types.ts";

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
  "max_routes_per_origin",
  "source_validation",
  "http_listen",
  "http_token",
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
  if (serverName !== undefined && !isValidNodeName(canonicalName(serverName))) {
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
    if (name !== undefined && !isValidNodeName(canonicalName(name))) {
      c.problem(`${p}.name`, `"${name}" is not a node name like "b.vnet.example.com"`);
    }
    const udpMode = udpModeOf(c, po.udp, `${p}.udp`);
    const udp = udpMode === "always";
    if (addr) {
      const k = formatHostPort(addr).toLowerCase();
      const d = seenAddr.get(k);
      if (d !== undefined) c.problem(`${p}.addr`, `duplicate of peers[${d}].addr "${addrText}"`);
      seenAddr.set(k, i);
    }
    if (name) {
      const d = seenName.get(canonicalName(name));
      if (d !== undefined) c.problem(`${p}.name`, `duplicate of peers[${d}].name "${name}"`);
      seenName.set(canonicalName(name), i);
      if (serverName && canonicalName(name) === canonicalName(serverName)) {
        c.problem(`${p}.name`, `"${name}" is this node's own server_name`);
      }
    }
    if (addr && name) peers.push({ addr, name, udp, udpMode });
  });

  const stateDir = c.path(o.state_dir, "state_dir", false) ?? CONFIG_DEFAULTS.stateDir;
  const controlSocket = c.path(o.control_socket, "control_socket", false) ??
    CONFIG_DEFAULTS.controlSocket;
  const epd = c.string(o.external_peers_default, "external_peers_default", false);
  if (epd !== undefined && epd !== "reject" && epd !== "accept") {
    c.problem("external_peers_default", `expected "reject" or "accept", got "${epd}"`);
  }
  const sv = c.string(o.source_validation, "source_validation", false);
  if (sv !== undefined && sv !== "feasible" && sv !== "loose") {
    c.problem("source_validation", `expected "feasible" or "loose", got "${sv}"`);
  }
  const hysteresisMs = c.int(o.hysteresis_ms, "hysteresis_ms", 0, 60_000) ??
    CONFIG_DEFAULTS.hysteresisMs;
  const pingIntervalMs = c.int(o.ping_interval_ms, "ping_interval_ms", 100, 60_000) ??
    CONFIG_DEFAULTS.pingIntervalMs;
  const maxRoutesPerPeer = c.int(o.max_routes_per_peer, "max_routes_per_peer", 1, 10_000_000) ??
    CONFIG_DEFAULTS.maxRoutesPerPeer;
  const maxRoutesPerOrigin =
    c.int(o.max_routes_per_origin, "max_routes_per_origin", 1, 10_000_000) ??
      CONFIG_DEFAULTS.maxRoutesPerOrigin;

  const http = parseHttpKeys(c, o);

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
      maxRoutesPerOrigin,
      sourceValidation: (sv as "feasible" | "loose" | undefined) ??
        CONFIG_DEFAULTS.sourceValidation,
      httpListen: http.httpListen,
      httpToken: http.httpToken,
    },
    warnings: c.warnings,
  };
}

/**
 * Reads and validates a config file (at most 16 MiB).
 * @throws {ConfigError} when the file cannot be read, is too large, or has problems.
 */
export async function loadNodeConfig(path: string): Promise<LoadedConfig> {
  let text: string;
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) throw new ConfigError(path, ["not a regular file"]);
    if (info.size > MAX_CONFIG_BYTES) {
      throw new ConfigError(path, [
        `the file is ${info.size} bytes, over the ${MAX_CONFIG_BYTES >> 20} MiB limit`,
      ]);
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

/**
 * `peers[].udp`: `true` or `"always"`; absent, `false` or `"auto"` (the Go vmesh's `false`, "no
 * UDP path", becomes `auto`: the channel is sealed and authenticated and falls back to TLS by
 * itself); `"off"` for TLS only.
 */
function udpModeOf(c: Checker, v: Json, path: string): "auto" | "always" | "off" {
  if (v === undefined || v === null || v === false || v === "auto") return "auto";
  if (v === true || v === "always") return "always";
  if (v === "off") return "off";
  c.problem(path, `expected true, false, "auto", "always" or "off", got ${JSON.stringify(v)}`);
  return "auto";
}
