/**
 * The mesh as this node knows it, as a graph: this node, its peers (up or down) and every node
 * on the paths of its routes; links from its sessions (health from the session's state and
 * loss) and from consecutive hops of route paths (latency as announced). Pure: the map draws
 * what this returns.
 * @module
 */
import type { RouteJson, StatusJson } from "./types.ts";

/** A node of the map. */
export interface MeshNode {
  /** Its ID, or `name:<name>` for a configured peer whose session never came up. */
  key: string;
  id: string | null;
  /** Its certificate name when known. */
  name: string | null;
  self: boolean;
  /** A direct peer of this node. */
  peer: boolean;
  /** The prefixes it originates, as this node's routes say. */
  prefixes: string[];
}

/** The state of a link: a session up, up with loss, down, or known only from routes. */
export type LinkHealth = "up" | "lossy" | "down" | "learned";

/** A link of the map (undirected). */
export interface MeshLink {
  key: string;
  a: string;
  b: string;
  latencyMs: number | null;
  health: LinkHealth;
}

/** The graph. */
export interface MeshGraph {
  nodes: MeshNode[];
  links: MeshLink[];
}

/** Loss (0..1) from which a session's link is drawn as lossy. */
export const LOSSY = 0.02;

/** The key of the link between `a` and `b`. */
export function linkKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** A node's label: its name, else the first 12 hex digits of its ID. */
export function nodeLabel(n: { id: string | null; name: string | null }): string {
  return n.name ?? (n.id ?? "?").slice(0, 12);
}

/** Builds the graph from `/api/status` and `/api/routes`. */
export function buildGraph(status: StatusJson, routes: readonly RouteJson[]): MeshGraph {
  const self = status.node.id;
  const nodes = new Map<string, MeshNode>();
  const links = new Map<string, MeshLink>();
  const node = (key: string, id: string | null, name: string | null | undefined) => {
    let n = nodes.get(key);
    if (!n) {
      n = { key, id, name: name ?? null, self: key === self, peer: false, prefixes: [] };
      nodes.set(key, n);
    } else if (n.name === null && name) n.name = name;
    return n;
  };
  node(self, self, status.node.name);
  for (const p of status.peers) {
    const key = p.id ?? `name:${p.name}`;
    const n = node(key, p.id, p.name);
    n.peer = true;
    const down = p.state !== "up";
    const health: LinkHealth = down ? "down" : (p.loss ?? 0) >= LOSSY ? "lossy" : "up";
    links.set(linkKey(self, key), {
      key: linkKey(self, key),
      a: self,
      b: key,
      latencyMs: down ? null : p.rttMs ?? null,
      health,
    });
  }
  for (const r of routes) {
    if (r.nextHop.kind === "local") {
      node(self, self, status.node.name).prefixes.push(r.prefix);
      continue;
    }
    let prev = self;
    const path = r.path ?? [];
    for (const h of path) {
      node(h.id, h.id, h.name);
      const k = linkKey(prev, h.id);
      if (!links.has(k) && prev !== h.id) {
        links.set(k, {
          key: k,
          a: prev,
          b: h.id,
          latencyMs: h.latencyMs ?? null,
          health: "learned",
        });
      }
      prev = h.id;
    }
    const origin = path.length > 0 ? path[path.length - 1].id : r.nextHop.id;
    node(origin, origin, undefined).prefixes.push(r.prefix);
  }
  return { nodes: [...nodes.values()], links: [...links.values()] };
}

/**
 * The nodes and links packets to `prefix` cross from this node (empty when there is no such
 * route; just this node for a local one).
 */
export function routePath(
  status: StatusJson,
  routes: readonly RouteJson[],
  prefix: string,
): { nodes: Set<string>; links: Set<string> } {
  const r = routes.find((x) => x.prefix === prefix);
  const nodes = new Set<string>();
  const links = new Set<string>();
  if (!r) return { nodes, links };
  let prev = status.node.id;
  nodes.add(prev);
  for (const h of r.nextHop.kind === "local" ? [] : r.path ?? []) {
    links.add(linkKey(prev, h.id));
    nodes.add(h.id);
    prev = h.id;
  }
  return { nodes, links };
}
