/**
 * Human-readable and JSON views of the routing table, for `--table` files and `vmesh routes`.
 * @module
 */
import { type PeerId, shortId } from "../pki/mod.ts";
import type { DecisionReason } from "./decision.ts";

/** One hop of a route's path in a view. */
export interface HopView {
  readonly id: PeerId;
  /** The node's certificate name, when this node knows it (neighbours, nodes in the node book). */
  readonly name?: string;
  readonly latencyMs: number;
}

/** One selected route. */
export interface RouteView {
  /** "2001:db8::/32". */
  readonly prefix: string;
  /** Where packets go: a local target (vif key) or a neighbour. */
  readonly nextHop:
    | { readonly kind: "local"; readonly target: string }
    | { readonly kind: "peer"; readonly id: PeerId; readonly name?: string };
  /** Total latency of the path in ms (0 for a local route). */
  readonly latencyMs: number;
  /** The path as received from the next hop (empty for a local route). */
  readonly path: readonly HopView[];
  /** Milliseconds since this route became the best one. */
  readonly ageMs: number;
  /** The decision rule that chose it. */
  readonly reason: DecisionReason;
  /** How many candidate routes this node holds for the prefix (local route included). */
  readonly candidates: number;
}

function hopName(h: { id: PeerId; name?: string }): string {
  return h.name ?? shortId(h.id);
}

/**
 * Formats routes as an aligned text table (one route a line, header first).
 * @example
 * console.log(formatTable(router.table()));
 */
export function formatTable(routes: readonly RouteView[]): string {
  const rows = [["PREFIX", "NEXT HOP", "LATENCY", "PATH", "AGE", "WHY", "CANDIDATES"]];
  for (const r of routes) {
    rows.push([
      r.prefix,
      r.nextHop.kind === "local" ? `local:${r.nextHop.target}` : hopName(r.nextHop),
      `${r.latencyMs.toFixed(3)} ms`,
      r.path.length === 0 ? "-" : r.path.map(hopName).join(" > "),
      formatAge(r.ageMs),
      r.reason,
      String(r.candidates),
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd())
    .join("\n") + "\n";
}

/** Formats routes as pretty-printed JSON (an array of {@link RouteView}). */
export function formatTableJson(routes: readonly RouteView[]): string {
  return JSON.stringify(routes, null, 2) + "\n";
}

function formatAge(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}
