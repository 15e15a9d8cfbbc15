/**
 * The peers table, the routes table and the DC panel of the status page.
 * @module
 */
import { bytes, duration, el, ms, percent, when } from "./format.ts";
import type { DcJson, PeerJson, RouteJson, StatusJson } from "./types.ts";

function table(head: string[], rows: HTMLTableRowElement[], empty: string): HTMLTableElement {
  const t = el("table", {}, el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))));
  const body = el("tbody");
  if (rows.length === 0) {
    body.append(el("tr", {}, el("td", { colspan: String(head.length), class: "empty" }, empty)));
  }
  body.append(...rows);
  t.append(body);
  return t;
}

function channel(p: PeerJson): string {
  if (p.state !== "up") return "–";
  return p.udp?.usable ? "udp" : "tls";
}

/** The peers table: every configured or connected peer. */
export function peersTable(status: StatusJson): HTMLTableElement {
  const rows = status.peers.map((p) =>
    el(
      "tr",
      { class: `peer state-${p.state === "up" ? "up" : "down"}`, "data-peer": p.name },
      el("td", { class: "name" }, p.name + (p.configured === false ? " (inbound)" : "")),
      el(
        "td",
        {},
        el("span", { class: `badge ${p.state === "up" ? "up" : "down"}` }, p.state),
        ...(p.notDialled ? [el("div", { class: "not-dialled warn" }, p.notDialled)] : []),
      ),
      el("td", {}, channel(p)),
      el("td", { class: "mono" }, p.addr ?? "–"),
      el("td", { class: "num" }, ms(p.rttMs)),
      el("td", { class: "num" }, ms(p.jitterMs)),
      el("td", { class: "num" }, percent(p.loss)),
      el("td", { class: "num" }, p.state === "up" ? duration(p.uptimeMs) : "–"),
      el("td", { class: "num" }, String(p.routesVia ?? 0)),
      el("td", { class: "num" }, `${bytes(p.bytesIn)} / ${bytes(p.bytesOut)}`),
      el("td", { class: "num" }, `${p.packetsIn ?? 0} / ${p.packetsOut ?? 0}`),
    )
  );
  return table(
    [
      "Peer",
      "State",
      "Channel",
      "Address",
      "RTT",
      "Jitter",
      "Loss",
      "Up",
      "Routes",
      "Bytes in / out",
      "Packets in / out",
    ],
    rows,
    "no peers configured",
  );
}

/**
 * The routes table: the best route of each prefix, the rule that chose it and how many
 * candidates there are. A click selects the prefix (`onSelect`), which the map highlights.
 */
export function routesTable(
  routes: readonly RouteJson[],
  selected: string | null,
  onSelect: (prefix: string | null) => void,
): HTMLTableElement {
  const hop = (h: { id: string; name?: string }) => h.name ?? h.id.slice(0, 12);
  const rows = routes.map((r) => {
    const row = el(
      "tr",
      {
        class: r.prefix === selected ? "route selected" : "route",
        "data-prefix": r.prefix,
        tabindex: "0",
      },
      el("td", { class: "mono" }, r.prefix),
      el("td", {}, r.nextHop.kind === "local" ? `local:${r.nextHop.target}` : hop(r.nextHop)),
      el("td", { class: "num" }, ms(r.latencyMs)),
      el("td", {}, (r.path ?? []).length === 0 ? "–" : (r.path ?? []).map(hop).join(" → ")),
      el("td", { class: "num" }, duration(r.ageMs)),
      el("td", {}, r.reason ?? "–"),
      el("td", { class: "num" }, String(r.candidates ?? 1)),
    );
    const pick = () => onSelect(r.prefix === selected ? null : r.prefix);
    row.addEventListener("click", pick);
    row.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        pick();
      }
    });
    return row;
  });
  return table(
    ["Prefix", "Next hop", "Latency", "Path", "Age", "Why", "Candidates"],
    rows,
    "no routes",
  );
}

/**
 * The DC panel: when it was signed, when its certificate expires, the whitelist and the
 * revoked names and keys.
 */
export function dcPanel(dc: DcJson | null, now: number): HTMLElement {
  if (dc === null) return el("p", { class: "empty" }, "This node has no DC.");
  const facts = el(
    "dl",
    {},
    el("dt", {}, "Signed"),
    el("dd", {}, when(dc.signed_at, now)),
    el("dt", {}, "Expires"),
    el(
      "dd",
      { class: dc.expired ? "bad" : dc.expiry_warning ? "warn" : "" },
      when(dc.cert_expires, now) + (dc.expired ? " — expired" : dc.expiry_warning ? " — soon" : ""),
    ),
    el("dt", {}, "Content SHA-256"),
    el("dd", { class: "mono" }, dc.content_sha256 ?? "–"),
  );
  const rows: HTMLTableRowElement[] = [];
  for (const [name, entries] of Object.entries(dc.prefix_whitelist ?? {})) {
    for (const e of entries) {
      rows.push(
        el(
          "tr",
          {},
          el("td", {}, name),
          el("td", { class: "mono" }, e.prefix),
          el(
            "td",
            { class: "num" },
            e.max_prefix_len === undefined ? "–" : String(e.max_prefix_len),
          ),
        ),
      );
    }
  }
  const out = el(
    "div",
    {},
    facts,
    table(["Node", "Prefix", "Longest accepted"], rows, "empty whitelist"),
    el("h3", {}, "Revoked"),
    revokedTable(dc),
  );
  for (const w of dc.warnings ?? []) out.append(el("p", { class: "warn" }, w));
  return out;
}

/** The DC's revocation lists: one row per revoked node name or key (SPKI SHA-256). */
function revokedTable(dc: DcJson): HTMLTableElement {
  const rows = [
    ...(dc.revoked_names ?? []).map((n) => ["name", n]),
    ...(dc.revoked_keys ?? []).map((k) => ["key", k]),
  ].map(([kind, value]) =>
    el(
      "tr",
      { class: "revoked", "data-kind": kind },
      el("td", {}, kind),
      el("td", { class: "mono" }, value),
    )
  );
  return table(["Kind", "Node name or key (SHA-256 of its public key)"], rows, "nothing revoked");
}
