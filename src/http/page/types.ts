/**
 * The JSON the status page reads (`/api/status`, `/api/routes`, `/api/dc`): only the fields it
 * shows, every one optional where a node may leave it out, so that the page keeps working when
 * a newer node adds fields (names of far hops, for example).
 * @module
 */

/** A peer of `/api/status`. */
export interface PeerJson {
  name: string;
  id: string | null;
  addr?: string;
  configured?: boolean;
  state: "up" | "down" | string;
  direction?: string | null;
  rttMs?: number | null;
  jitterMs?: number | null;
  loss?: number | null;
  uptimeMs?: number;
  routesVia?: number;
  packetsIn?: number;
  packetsOut?: number;
  bytesIn?: number;
  bytesOut?: number;
  drops?: number;
  udp?: { state?: string; usable?: boolean } | null;
  /** Why a configured peer is not dialled (revoked by the DC), or null. */
  notDialled?: string | null;
}

/** The revocation summary of `/api/status`. */
export interface RevocationJson {
  revokedKeys?: number;
  revokedNodes?: string[];
  /** Why this node itself is revoked (it then refuses every session), or null. */
  ownRevoked?: string | null;
}

/** `/api/status`. */
export interface StatusJson {
  node: {
    name: string;
    id: string;
    listen?: string;
    version?: string;
    uptimeMs?: number;
  };
  peers: PeerJson[];
  routes?: number;
  dc?: { signedAt?: string; expiresAt?: string; expired?: boolean } | null;
  forwarding?: Record<string, number>;
  revocation?: RevocationJson;
}

/** One hop of a route's path: the node and the latency it measured towards us. */
export interface HopJson {
  id: string;
  name?: string;
  latencyMs?: number;
}

/** A route of `/api/routes`. */
export interface RouteJson {
  prefix: string;
  nextHop:
    | { kind: "local"; target: string }
    | { kind: "peer"; id: string; name?: string };
  latencyMs?: number;
  path?: HopJson[];
  ageMs?: number;
  reason?: string;
  candidates?: number;
}

/** `/api/dc` (null without a DC). */
export interface DcJson {
  version?: number;
  signed_at?: string;
  cert_expires?: string;
  content_sha256?: string;
  expired?: boolean;
  expiry_warning?: boolean;
  prefix_whitelist?: Record<string, { prefix: string; max_prefix_len?: number }[]>;
  revoked_keys?: string[];
  revoked_names?: string[];
  warnings?: string[];
}
