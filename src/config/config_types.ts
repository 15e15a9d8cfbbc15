/**
 * The node config's types (what `parseNodeConfig` returns) and the defaults of the keys the
 * Go vmesh does not have.
 * @module
 */
import type { HostPort, Ipv6Prefix } from "../net/mod.ts";

/** Defaults of the keys that the Go vmesh does not have. */
export const CONFIG_DEFAULTS = {
  stateDir: "/var/lib/vmesh",
  controlSocket: "/run/vmesh/control.sock",
  externalPeersDefault: "reject",
  hysteresisMs: 10,
  pingIntervalMs: 1000,
  maxRoutesPerPeer: 65536,
  maxRoutesPerOrigin: 16384,
  sourceValidation: "feasible",
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
  /** Go vmesh `udp`: true when `udpMode` is "always". */
  readonly udp: boolean;
  /**
   * Which packets may take the encrypted UDP channel (docs/udp-channel.md#which-packets-take-udp):
   * `"auto"` (no `udp` key, `false` or `"auto"`: lone packets, when the channel works),
   * `"always"` (`true` or `"always"`: every packet that fits) or `"off"` (TLS only, no channel).
   */
  readonly udpMode: "auto" | "always" | "off";
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
  /**
   * `max_routes_per_origin`: routes accepted through one peer for one origin node (the last hop
   * of the path) before that origin is refused more, so one flooding node behind a neighbour
   * cannot use up the neighbour's whole `max_routes_per_peer`.
   */
  readonly maxRoutesPerOrigin: number;
  /**
   * `source_validation`: which sources a peer's packets may carry. `"feasible"` (default): only
   * sources the sending peer has a route for (feasible-path uRPF, RFC 3704). `"loose"`: any
   * source some peer has a route for (RFC 3704 loose mode), for meshes whose asymmetric paths
   * the feasible check does not follow. Sources inside our own prefixes are refused in both.
   */
  readonly sourceValidation: "feasible" | "loose";
  /** `http_listen`: where the read-only HTTP endpoint listens; undefined: no endpoint. */
  readonly httpListen: HostPort | undefined;
  /** `http_token`: the bearer token every HTTP request needs; undefined: none (a secret). */
  readonly httpToken: string | undefined;
}

/** A parse result: the config and non-fatal warnings (unknown keys, ...). */
export interface LoadedConfig {
  /** The validated config. */
  readonly config: NodeConfig;
  /** Unknown keys and other non-fatal findings, each "json.path: what". */
  readonly warnings: readonly string[];
}
