/**
 * Small text formats of the status page (and a DOM helper that never parses HTML: every text
 * from the node, names included, goes in as a text node).
 * @module
 */

/** `12.3 ms`, or `–` when unknown. */
export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  return v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`;
}

/** `3%`, or `–` when unknown (`v` is 0..1). */
export function percent(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  return `${(v * 100).toFixed(v > 0 && v < 0.01 ? 1 : 0)}%`;
}

/** `1.2 MiB`. */
export function bytes(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** `3d 4h`, `5m 10s`, `7s`. */
export function duration(msv: number | undefined): string {
  if (msv === undefined || !Number.isFinite(msv)) return "–";
  let s = Math.max(0, Math.floor(msv / 1000));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

/** An ISO time as `2026-12-05 23:10:04 UTC` and how far away it is. */
export function when(iso: string | undefined, now: number): string {
  if (!iso) return "–";
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  const text = new Date(t).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  const d = t - now;
  return `${text} (${d >= 0 ? "in " + duration(d) : duration(-d) + " ago"})`;
}

/** Creates an element with attributes and children (strings become text nodes). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(typeof c === "string" ? document.createTextNode(c) : c);
  return e;
}

/** Creates an SVG element with attributes. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
): SVGElementTagNameMap[K] {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}
