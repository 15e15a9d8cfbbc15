/**
 * Builds {@link RouteView}s from the router's state.
 * @module
 */
import { formatPrefix } from "../net/mod.ts";
import type { PeerId } from "../pki/mod.ts";
import { comparePrefixes, type Dest } from "./router_state.ts";
import type { RouteView } from "./table_view.ts";

/**
 * The selected route of every destination, sorted by prefix.
 * @param nameOf a node's name when known (neighbours, and nodes the node book verified)
 */
export function routeViews(
  dests: Iterable<Dest>,
  nameOf: (id: PeerId) => string | undefined,
  now: number,
): RouteView[] {
  const views: RouteView[] = [];
  const sorted = [...dests].sort((a, b) => comparePrefixes(a.prefix, b.prefix));
  for (const dest of sorted) {
    const best = dest.best;
    if (best === undefined) continue;
    const common = {
      prefix: formatPrefix(dest.prefix),
      ageMs: now - dest.since,
      reason: best.reason,
      candidates: dest.cands.size + (dest.local === undefined ? 0 : 1),
    };
    if (best.kind === "local") {
      views.push({
        ...common,
        nextHop: { kind: "local", target: best.target },
        latencyMs: 0,
        path: [],
      });
    } else {
      const c = best.cand;
      views.push({
        ...common,
        nextHop: { kind: "peer", id: c.peer, name: nameOf(c.peer) },
        latencyMs: c.metricUs / 1000,
        path: c.path.map((h) => ({ id: h.id, name: nameOf(h.id), latencyMs: h.latencyMs })),
      });
    }
  }
  return views;
}
