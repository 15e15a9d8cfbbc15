/**
 * Draws the `deno task bench:sim --json` results as an SVG: convergence time (simulated ms) and
 * messages per link against the number of nodes, for the cold start, the worst link failure and
 * the worst node failure. No dependencies; the SVG goes to stdout or `--out`.
 *
 * Usage: deno run -A scripts/plot_sim.ts results.json [more.json ...] [--out docs/x.svg]
 * (several files are merged, e.g. one with 50,200 and one with 1000 nodes)
 * @module
 */
import { parseArgs } from "node:util";
import type { ScaleResult } from "../tests/_harness/sim_scale.ts";

const { values: args, positionals } = parseArgs({
  args: Deno.args,
  options: { out: { type: "string" } },
  allowPositionals: true,
});
if (positionals.length === 0) {
  console.error("usage: deno run -A scripts/plot_sim.ts results.json [...] [--out file.svg]");
  Deno.exit(2);
}
const results: ScaleResult[] = [];
for (const f of positionals) results.push(...JSON.parse(await Deno.readTextFile(f)));
results.sort((a, b) => a.nodes - b.nodes);

const maxOf = (xs: number[]) => Math.max(...xs);
type Series = { name: string; color: string; value: (r: ScaleResult) => number };
const series: Series[] = [
  { name: "cold start", color: "#4477aa", value: (r) => r.cold.stats.convergenceMs },
  {
    name: "worst link failure",
    color: "#228833",
    value: (r) => maxOf(r.linkFailures.map((e) => e.stats.convergenceMs)),
  },
  {
    name: "worst node failure",
    color: "#ee6677",
    value: (r) => maxOf(r.nodeFailures.map((e) => e.stats.convergenceMs)),
  },
];
const msgSeries: Series[] = [
  {
    name: "worst link failure",
    color: "#228833",
    value: (r) => maxOf(r.linkFailures.map((e) => e.messagesPerLink)),
  },
  {
    name: "worst node failure",
    color: "#ee6677",
    value: (r) => maxOf(r.nodeFailures.map((e) => e.messagesPerLink)),
  },
];

const W = 360, H = 240, M = { l: 56, r: 12, t: 28, b: 40 };
const xs = results.map((r) => r.nodes);
const x = (n: number) => {
  const lo = Math.log10(Math.min(...xs)), hi = Math.log10(Math.max(...xs));
  return M.l + (hi === lo ? 0.5 : (Math.log10(n) - lo) / (hi - lo)) * (W - M.l - M.r);
};

function panel(ox: number, title: string, yLabel: string, ss: Series[], goal: number): string {
  const top = Math.max(goal * 1.2, ...ss.flatMap((s) => results.map(s.value))) * 1.05;
  const y = (v: number) => M.t + (1 - v / top) * (H - M.t - M.b);
  const parts: string[] = [`<g transform="translate(${ox},0)">`];
  parts.push(`<text x="${W / 2}" y="16" text-anchor="middle" font-weight="bold">${title}</text>`);
  parts.push(
    `<line x1="${M.l}" y1="${H - M.b}" x2="${W - M.r}" y2="${H - M.b}" stroke="#333"/>`,
    `<line x1="${M.l}" y1="${M.t}" x2="${M.l}" y2="${H - M.b}" stroke="#333"/>`,
  );
  for (let k = 0; k <= 4; k++) {
    const v = top * k / 4;
    parts.push(
      `<text x="${M.l - 4}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(v < 10 ? 1 : 0)}</text>`,
      `<line x1="${M.l}" y1="${y(v)}" x2="${W - M.r}" y2="${y(v)}" stroke="#ddd"/>`,
    );
  }
  for (const n of xs) {
    parts.push(`<text x="${x(n)}" y="${H - M.b + 14}" text-anchor="middle">${n}</text>`);
  }
  parts.push(
    `<text x="${(M.l + W - M.r) / 2}" y="${H - 6}" text-anchor="middle">nodes (log scale)</text>`,
    `<text x="12" y="${(M.t + H - M.b) / 2}" text-anchor="middle" ` +
      `transform="rotate(-90 12 ${(M.t + H - M.b) / 2})">${yLabel}</text>`,
    `<line x1="${M.l}" y1="${y(goal)}" x2="${W - M.r}" y2="${y(goal)}" stroke="#999" ` +
      `stroke-dasharray="4 3"/>`,
    `<text x="${W - M.r}" y="${y(goal) - 4}" text-anchor="end" fill="#666">goal</text>`,
  );
  for (const [i, s] of ss.entries()) {
    const pts = results.map((r) => `${x(r.nodes).toFixed(1)},${y(s.value(r)).toFixed(1)}`);
    parts.push(
      `<polyline points="${pts.join(" ")}" fill="none" stroke="${s.color}" stroke-width="2"/>`,
    );
    for (const p of pts) {
      const [px, py] = p.split(",");
      parts.push(`<circle cx="${px}" cy="${py}" r="3" fill="${s.color}"/>`);
    }
    parts.push(
      `<text x="${M.l + 8}" y="${M.t + 12 + i * 14}" fill="${s.color}">${s.name}</text>`,
    );
  }
  parts.push("</g>");
  return parts.join("\n");
}

const svg = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H}" ` +
  `font-family="sans-serif" font-size="11">`,
  `<rect width="100%" height="100%" fill="white"/>`,
  panel(0, "Convergence (simulated)", "ms", series, 1000),
  panel(W, "Messages per link per event", "payloads / link", msgSeries, 5),
  "</svg>",
].join("\n") + "\n";
if (args.out) await Deno.writeTextFile(args.out, svg);
else console.log(svg);
