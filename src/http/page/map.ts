/**
 * The mesh map: an SVG drawing of {@link MeshGraph}, laid out by d3-force. Link length grows
 * with latency; links are labelled with their latency and coloured by health; this node sits
 * in the middle, highlighted; hovering a node shows its name, ID and prefixes; the path of the
 * selected prefix is highlighted. The layout is recomputed only when the set of nodes or links
 * changes, starting from the previous positions, so the picture does not jump at each poll.
 * @module
 */
// @ts-types="npm:@types/d3-force@3.0.10"
import {
  forceCollide,
  forceLink,
  forceManyBody,
  forceSimulation,
  forceX,
  forceY,
  type SimulationLinkDatum,
  type SimulationNodeDatum,
} from "d3-force";
import { el, ms, svg } from "./format.ts";
import { type MeshGraph, type MeshNode, nodeLabel } from "./graph.ts";

interface LayoutNode extends SimulationNodeDatum {
  key: string;
}

/** Room around the drawing for labels, in drawing units. */
const MARGIN = 70;

/** The map; call {@link MeshMap.render} with each new graph. */
export class MeshMap {
  readonly #positions = new Map<string, { x: number; y: number }>();
  #shape = "";
  /** The node whose card is shown (kept across redraws). */
  #tipNode: string | undefined;

  /**
   * @param root the `<svg>` to draw into
   * @param tip the tooltip element (absolutely placed inside the map's container)
   * @param onNodeClick called with a node clicked on
   */
  constructor(
    readonly root: SVGSVGElement,
    readonly tip: HTMLElement,
    readonly onNodeClick: (n: MeshNode) => void,
  ) {}

  /** Draws `graph`, with the nodes and links of `highlight` marked. */
  render(graph: MeshGraph, highlight: { nodes: Set<string>; links: Set<string> }): void {
    this.#layout(graph);
    const pos = (k: string) => this.#positions.get(k) ?? { x: 0, y: 0 };
    const xs = graph.nodes.map((n) => pos(n.key).x);
    const ys = graph.nodes.map((n) => pos(n.key).y);
    const [x0, x1] = [Math.min(...xs) - MARGIN, Math.max(...xs) + MARGIN];
    const [y0, y1] = [Math.min(...ys) - MARGIN / 2, Math.max(...ys) + MARGIN];
    this.root.setAttribute(
      "viewBox",
      `${x0} ${y0} ${Math.max(x1 - x0, 300)} ${Math.max(y1 - y0, 200)}`,
    );
    this.root.replaceChildren();
    const lines = svg("g", { class: "links" });
    const labels = svg("g", { class: "link-labels" });
    for (const l of graph.links) {
      const a = pos(l.a);
      const b = pos(l.b);
      const hl = highlight.links.has(l.key) ? " hl" : "";
      lines.append(svg("line", {
        class: `link ${l.health}${hl}`,
        x1: a.x,
        y1: a.y,
        x2: b.x,
        y2: b.y,
        "data-link": l.key,
      }));
      const text = l.health === "down" ? "down" : ms(l.latencyMs);
      const label = svg("text", {
        class: `link-label ${l.health}${hl}`,
        x: (a.x + b.x) / 2,
        y: (a.y + b.y) / 2 - 4,
        "text-anchor": "middle",
      });
      label.textContent = text;
      labels.append(label);
    }
    const nodes = svg("g", { class: "nodes" });
    for (const n of graph.nodes) {
      const p = pos(n.key);
      const kind = n.self ? "self" : n.peer ? "peer" : "remote";
      const down = n.peer && !n.id ? " down" : "";
      const hl = highlight.nodes.has(n.key) ? " hl" : "";
      const g = svg("g", {
        class: `node ${kind}${down}${hl}`,
        transform: `translate(${p.x},${p.y})`,
        "data-key": n.key,
        "data-name": nodeLabel(n),
        tabindex: 0,
        role: "img",
        "aria-label": `${nodeLabel(n)}${n.id ? ` (${n.id})` : ""}`,
      });
      g.append(svg("circle", { r: n.self ? 15 : 11 }));
      const t = svg("text", { y: n.self ? 31 : 27, "text-anchor": "middle" });
      t.textContent = nodeLabel(n);
      g.append(t);
      g.addEventListener("mouseenter", () => this.#showTip(n, g));
      g.addEventListener("focus", () => this.#showTip(n, g));
      g.addEventListener("mouseleave", () => this.#hideTip());
      g.addEventListener("blur", () => this.#hideTip());
      g.addEventListener("click", () => this.onNodeClick(n));
      nodes.append(g);
    }
    this.root.append(lines, labels, nodes);
    // A redraw replaced the hovered node's element: show its card at its new place.
    const shown = graph.nodes.find((n) => n.key === this.#tipNode);
    const g = shown && [...nodes.children].find((c) => c.getAttribute("data-key") === shown.key);
    if (shown && g) this.#showTip(shown, g as SVGGElement);
    else this.#hideTip();
  }

  #layout(graph: MeshGraph): void {
    const shape = graph.nodes.map((n) => n.key).sort().join(",") + ";" +
      graph.links.map((l) => l.key).sort().join(",");
    if (shape === this.#shape) return;
    this.#shape = shape;
    const nodes: LayoutNode[] = graph.nodes.map((n) => {
      const old = this.#positions.get(n.key);
      const seed = hash(n.key);
      const start = old ?? this.#near(graph, n.key) ?? { x: 0, y: 0 };
      const node: LayoutNode = {
        key: n.key,
        x: start.x + (old ? 0 : ((seed % 61) - 30)),
        y: start.y + (old ? 0 : (((seed >>> 8) % 61) - 30)),
      };
      if (n.self) {
        node.fx = 0;
        node.fy = 0;
      }
      return node;
    });
    const links: SimulationLinkDatum<LayoutNode>[] = graph.links.map((l) => ({
      source: l.a,
      target: l.b,
      latency: l.latencyMs,
    }));
    const distance = (l: SimulationLinkDatum<LayoutNode> & { latency?: number | null }) =>
      140 + Math.min(l.latency ?? 20, 250) * 0.6;
    const sim = forceSimulation<LayoutNode>(nodes)
      .force(
        "link",
        forceLink<LayoutNode, SimulationLinkDatum<LayoutNode>>(links)
          .id((d) => d.key)
          .distance(distance),
      )
      .force("charge", forceManyBody<LayoutNode>().strength(-500))
      .force("collide", forceCollide<LayoutNode>(60))
      .force("x", forceX<LayoutNode>(0).strength(0.04))
      .force("y", forceY<LayoutNode>(0).strength(0.06))
      .stop();
    sim.tick(300);
    this.#positions.clear();
    for (const n of nodes) this.#positions.set(n.key, { x: n.x ?? 0, y: n.y ?? 0 });
  }

  /** The position of a node already placed that `key` links to. */
  #near(graph: MeshGraph, key: string): { x: number; y: number } | undefined {
    for (const l of graph.links) {
      const other = l.a === key ? l.b : l.b === key ? l.a : undefined;
      const p = other === undefined ? undefined : this.#positions.get(other);
      if (p) return p;
    }
    return undefined;
  }

  #showTip(n: MeshNode, g: SVGGElement): void {
    this.#tipNode = n.key;
    const box = g.getBoundingClientRect();
    // The card is placed in the map's container (position: relative).
    const parent = (this.tip.parentElement ?? document.body).getBoundingClientRect();
    this.tip.replaceChildren(
      el("strong", {}, nodeLabel(n) + (n.self ? " (this node)" : "")),
      el("div", { class: "mono" }, n.id ?? "ID unknown: no session yet"),
      n.prefixes.length === 0
        ? el("div", { class: "empty" }, "no prefixes")
        : el("ul", {}, ...n.prefixes.map((p) => el("li", { class: "mono" }, p))),
    );
    this.tip.hidden = false;
    // CSSOM, which the Content-Security-Policy allows (inline style attributes it does not).
    this.tip.style.left = `${box.right - parent.left + 8}px`;
    this.tip.style.top = `${box.top - parent.top}px`;
  }

  #hideTip(): void {
    this.#tipNode = undefined;
    this.tip.hidden = true;
  }
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
}
