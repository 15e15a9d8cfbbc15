/**
 * scripts/grafana-dashboard.json parses, takes its data source from a template variable, and
 * queries only metrics a node exports (with the labels they have).
 */
import { assert, assertEquals } from "../tests/_harness/assert.ts";
import { parseExposition } from "../tests/_harness/prom_text.ts";
import { createMetrics, type PeerSample } from "../src/http/mod.ts";

interface Target {
  expr: string;
  datasource?: { uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid?: string };
  targets?: Target[];
  gridPos: { x: number; y: number; w: number; h: number };
}

const dashboard = JSON.parse(
  await Deno.readTextFile(new URL("grafana-dashboard.json", import.meta.url)),
) as {
  title: string;
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown }[] };
};

/** Every exported metric family with its label names, from a render with every series present. */
async function exported(): Promise<Map<string, Set<string>>> {
  const peer: PeerSample = {
    name: "b.vnet.test",
    up: true,
    rttSeconds: 0.01,
    rxPackets: 1,
    rxBytes: 1,
    txPackets: 1,
    txBytes: 1,
    channel: "udp",
  };
  const m = createMetrics({
    version: "0",
    snapshot: () => ({
      peers: [peer],
      forwarded: { to_peer: 1 },
      dropped: { no_route: 1 },
      icmpErrors: { sent: 1, rateLimited: 1 },
      handshakeFailures: { certificate: 1 },
      unauthenticatedConnections: 1,
      routes: 1,
      routeCandidates: 1,
      routeChanges: 1,
      dc: { signedAtSeconds: 1, expiresAtSeconds: 2 },
    }),
  });
  const out = new Map<string, Set<string>>();
  for (const [name, f] of parseExposition(await m.render())) {
    const labels = new Set(["instance", "job"]); // added by Prometheus at scrape
    for (const s of f.samples) for (const l of Object.keys(s.labels)) labels.add(l);
    out.set(name, labels);
  }
  return out;
}

/** The queries of the panels and of the template variables. */
function queries(): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const p of dashboard.panels) {
    for (const t of p.targets ?? []) out.push({ where: `panel "${p.title}"`, expr: t.expr });
  }
  for (const v of dashboard.templating.list) {
    if (v.type !== "query") continue;
    const q = v.query as { query: string };
    out.push({ where: `variable $${v.name}`, expr: q.query });
  }
  return out;
}

Deno.test("the Grafana dashboard queries only metrics and labels a node exports", async () => {
  const metrics = await exported();
  const used = new Set<string>();
  for (const { where, expr } of queries()) {
    // Metric names: vmesh_*, process_*, nodejs_* (PromQL functions and labels are not).
    const names = expr.match(/\b(?:vmesh|process|nodejs)_[a-z0-9_]+\b/g) ?? [];
    assert(names.length > 0, `${where}: no metric in ${expr}`);
    for (const name of names) {
      const labels = metrics.get(name);
      assert(labels !== undefined, `${where}: ${name} is not exported`);
      used.add(name);
    }
    // The labels each selector matches on: `name{label=~"…", …}`.
    for (const sel of expr.matchAll(/\b([a-z][a-z0-9_]*)\{([^}]*)\}/g)) {
      for (const m of sel[2].matchAll(/([a-z_]+)\s*(?:=~|!=|!~|=)\s*"/g)) {
        assert(metrics.get(sel[1])?.has(m[1]), `${where}: ${sel[1]} has no label ${m[1]}`);
      }
    }
    for (const m of expr.matchAll(/by \(([a-z_, ]+)\)/g)) {
      for (const l of m[1].split(",").map((s) => s.trim())) {
        assert(names.some((n) => metrics.get(n)!.has(l)), `${where}: no metric has label ${l}`);
      }
    }
  }
  // Every vmesh metric appears on the dashboard.
  const vmesh = [...metrics.keys()].filter((n) =>
    n.startsWith("vmesh_") && n !== "vmesh_build_info"
  );
  assertEquals(vmesh.filter((n) => !used.has(n)), [], "vmesh metrics without a panel");
});

Deno.test("the Grafana dashboard takes its data source and peers from template variables", () => {
  assertEquals(dashboard.uid, "vmesh-node");
  const vars = new Map(dashboard.templating.list.map((v) => [v.name, v]));
  assertEquals(vars.get("datasource")?.type, "datasource");
  assertEquals(vars.get("datasource")?.query, "prometheus");
  assertEquals(vars.get("peer")?.type, "query");
  const ids = new Set<number>();
  for (const p of dashboard.panels) {
    assert(!ids.has(p.id), `panel id ${p.id} used twice`);
    ids.add(p.id);
    assert(p.gridPos.x + p.gridPos.w <= 24, `panel "${p.title}" fits the 24-column grid`);
    if (p.type === "row") continue;
    assertEquals(p.datasource?.uid, "${datasource}", `panel "${p.title}"`);
    for (const t of p.targets ?? []) assertEquals(t.datasource?.uid, "${datasource}");
  }
  const titles = dashboard.panels.map((p) => p.title);
  for (
    const t of [
      "Peers up",
      "RTT per peer",
      "Traffic per peer (bits/s)",
      "Forwarding rate",
      "Drops by reason",
      "Routes",
      "Route changes",
      "Handshake failures",
      "DC expires in",
      "Process memory",
      "Process CPU",
    ]
  ) assert(titles.includes(t), `a panel "${t}"`);
  const perPeer = dashboard.panels.filter((p) => p.title.includes("per peer"));
  for (const p of perPeer) {
    for (const t of p.targets!) assert(t.expr.includes('peer=~"$peer"'), `${p.title}: ${t.expr}`);
  }
});
