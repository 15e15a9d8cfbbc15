/// <reference lib="dom" />
/**
 * The status page's script: polls `/api/status`, `/api/routes` and `/api/dc` every
 * {@link POLL_MS} and redraws the map, the tables and the DC panel. Bundled with d3-force into
 * `src/http/page_bundle.ts` by `scripts/bundle_status_page.ts`.
 * @module
 */
import { duration, el } from "./format.ts";
import { buildGraph, type MeshNode, routePath } from "./graph.ts";
import { MeshMap } from "./map.ts";
import { dcPanel, peersTable, routesTable } from "./tables.ts";
import type { DcJson, RouteJson, StatusJson } from "./types.ts";

/** How often the page asks the node again. */
const POLL_MS = 2000;

interface Snapshot {
  status: StatusJson;
  routes: RouteJson[];
  dc: DcJson | null;
  at: number;
}

let snapshot: Snapshot | undefined;
let selected: string | null = null;

const $ = <T extends Element = HTMLElement>(sel: string) => {
  const e = document.querySelector<T>(sel);
  if (!e) throw new Error(`the page has no ${sel}`);
  return e;
};

const map = new MeshMap($<SVGSVGElement>("#map"), $<HTMLElement>("#tip"), (n: MeshNode) => {
  // A click on a node selects its first prefix (again: clears the selection).
  const p = n.prefixes[0] ?? null;
  select(p === selected ? null : p);
});

function select(prefix: string | null): void {
  selected = prefix;
  draw();
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { cache: "no-store", headers: { accept: "application/json" } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return await res.json() as T;
}

function draw(): void {
  if (!snapshot) return;
  const { status, routes, dc, at } = snapshot;
  if (selected !== null && !routes.some((r) => r.prefix === selected)) selected = null;
  const n = status.node;
  document.title = `vmesh · ${n.name}`;
  $("#node-name").textContent = n.name;
  $("#node-facts").replaceChildren(
    el("span", { class: "mono", title: n.id }, n.id.slice(0, 16) + "…"),
    ` · listen ${n.listen ?? "?"} · up ${duration(n.uptimeMs)} · vmesh ${n.version ?? "?"} · `,
    `${status.peers.filter((p) => p.state === "up").length}/${status.peers.length} peers up · `,
    `${routes.length} routes`,
  );
  const own = status.revocation?.ownRevoked;
  const revoked = $("#revoked");
  revoked.hidden = !own;
  revoked.textContent = own
    ? `This node is revoked by the DC (${own}): it refuses every session until a newer DC ` +
      "lifts the revocation."
    : "";
  const graph = buildGraph(status, routes);
  map.render(
    graph,
    selected === null
      ? { nodes: new Set(), links: new Set() }
      : routePath(status, routes, selected),
  );
  $("#selection").textContent = selected === null
    ? "Click a route (or a node) to highlight the path its packets take."
    : `Path to ${selected} highlighted (click it again to clear).`;
  $("#peers").replaceChildren(peersTable(status));
  $("#routes").replaceChildren(routesTable(routes, selected, select));
  $("#dc").replaceChildren(dcPanel(dc, Date.now()));
  $("#updated").textContent = `updated ${new Date(at).toLocaleTimeString()}`;
}

async function poll(): Promise<void> {
  try {
    const [status, routes, dc] = await Promise.all([
      getJson<StatusJson>("/api/status"),
      getJson<RouteJson[]>("/api/routes"),
      getJson<DcJson | null>("/api/dc"),
    ]);
    snapshot = { status, routes, dc, at: Date.now() };
    $("#error").hidden = true;
    draw();
  } catch (e) {
    const err = $("#error");
    err.textContent = `Cannot read the node (${e instanceof Error ? e.message : e}); retrying.`;
    err.hidden = false;
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

poll();
