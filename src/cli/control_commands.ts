/**
 * `vmesh status`, `vmesh routes`, `vmesh nodes`, `vmesh dc current`: read a running node through
 * its control socket; `vmesh dc apply` hands it a signed DC. The socket is found with `--control <socket>` or `--config <path>` (its `control_socket`).
 * @module
 */
import { CONFIG_DEFAULTS, ConfigError, loadNodeConfig } from "../config/mod.ts";
import { ControlError, controlRequest, type NodeView, type PeerStatus } from "../node/mod.ts";
import { formatTable, type RouteView } from "../routing/mod.ts";
import { MAX_DC_BYTES } from "../dc/mod.ts";
import { CliFailure, type Command, Exit, help, parse, UsageError } from "./common.ts";
import { dcText } from "./dc.ts";

const OPTIONS = {
  config: { type: "string" },
  control: { type: "string" },
  json: { type: "boolean" },
} as const;

const WHERE = `Options:
  --control <socket>   the node's control socket (default ${CONFIG_DEFAULTS.controlSocket})
  --config <path>      read control_socket from this node config instead
  --json               print JSON
  -h, --help           show this help`;

async function ask(args: string[], c: Command, cmd: string) {
  const { values } = parse(args, OPTIONS);
  if (values.help) return { help: help(c) };
  return { result: await request(values, cmd), json: values.json ?? false };
}

async function request(
  values: { control?: string; config?: string },
  cmd: string,
  extra: Record<string, unknown> = {},
): Promise<unknown> {
  let socket = values.control;
  if (socket === undefined && values.config !== undefined) {
    try {
      socket = (await loadNodeConfig(values.config)).config.controlSocket;
    } catch (e) {
      if (e instanceof ConfigError) throw new CliFailure(e.message);
      throw e;
    }
  }
  socket ??= CONFIG_DEFAULTS.controlSocket;
  try {
    return await controlRequest(socket, cmd, extra);
  } catch (e) {
    if (e instanceof ControlError) throw new CliFailure(e.message, { cause: e });
    throw e;
  }
}

const ms = (v: number | null) => v === null ? "-" : `${v.toFixed(1)}ms`;

function duration(msTotal: number): string {
  const s = Math.floor(msTotal / 1000);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d`;
}

function table(rows: string[][]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(w[i])).join("  ").trimEnd()).join("\n");
}

/** Text form of `vmesh status`. */
export function formatStatus(st: Record<string, any>): string {
  const n = st.node;
  const lines = [
    `node ${n.name}  id ${n.id.slice(0, 16)}…  listen ${n.listen}  up ${duration(n.uptimeMs)}` +
    `  vmesh ${n.version}`,
    st.dc
      ? `DC signed ${st.dc.signedAt}, expires ${st.dc.expiresAt}` +
        `${st.dc.expired ? " (EXPIRED, still enforced)" : ""}` +
        ` (sha256 ${st.dc.contentHash.slice(0, 16)}…)`
      : "DC: none",
    `${st.routes} route(s)`,
    "",
  ];
  const peers = st.peers as PeerStatus[];
  lines.push(table([
    ["PEER", "STATE", "ADDRESS", "DIR", "RTT", "JITTER", "LOSS", "UPTIME", "ROUTES", "PKTS IN/OUT"],
    ...peers.map((p) => [
      p.name + (p.configured ? "" : " (inbound)"),
      p.notDialled ? "not dialled" : p.state,
      p.addr,
      p.direction ?? "-",
      ms(p.rttMs),
      ms(p.jitterMs),
      p.loss === null ? "-" : `${Math.round(p.loss * 100)}%`,
      p.state === "up" ? duration(p.uptimeMs) : "-",
      String(p.routesVia),
      `${p.packetsIn}/${p.packetsOut}`,
    ]),
  ]));
  const f = st.forwarding;
  const drops = Object.entries(f).filter(([k, v]) => k.startsWith("drop") && v !== 0)
    .map(([k, v]) => `${k.slice(4)} ${v}`);
  lines.push(
    "",
    `forwarding: from vifs ${f.fromVif}, from peers ${f.fromPeer}, to vifs ${f.toVif}, ` +
      `to peers ${f.toPeer}, ICMPv6 errors ${f.icmpSent}` +
      (drops.length ? `; dropped: ${drops.join(", ")}` : ""),
  );
  for (const q of st.routeRefusals ?? []) {
    const origins = q.byOrigin.map((o: { origin: string; name?: string; count: number }) =>
      `${o.origin === "other" ? "other origins" : o.name ?? o.origin.slice(0, 16) + "…"} ${o.count}`
    );
    lines.push(
      `routes refused from ${q.peer}: over max_routes_per_peer ${q.overPeerLimit}` +
        (origins.length ? `; over max_routes_per_origin: ${origins.join(", ")}` : ""),
    );
  }
  const rv = st.revocation;
  if (rv?.ownRevoked) lines.push(`THIS NODE IS REVOKED: ${rv.ownRevoked}`);
  if (rv && rv.revokedKeys + rv.revokedNames > 0) {
    lines.push(
      `revocation: the DC revokes ${rv.revokedKeys} key(s), ${rv.revokedNames} name(s); ` +
        `${rv.revokedNodes.length} known node(s) revoked, ${rv.sessionsClosed} session(s) closed, ` +
        `${st.sessions?.handshakeFailures?.revoked ?? 0} handshake(s) refused`,
    );
  }
  for (const p of peers) if (p.notDialled) lines.push(`not dialling ${p.name}: ${p.notDialled}`);
  for (const v of st.vifs) {
    lines.push(
      `vif ${v.key} (${v.name}, mtu ${v.mtu}${v.offload ? ", offload" : ""}): ` +
        `rx ${v.rxPackets} pkts, tx ${v.txPackets} pkts, drops ${
          v.rxDropNotIpv6 + v.txDropFull + v.txDropError
        }`,
    );
  }
  return lines.join("\n");
}

/** `vmesh status`. */
export const status: Command = {
  name: "status",
  summary: "show a running node: peers, latency, counters",
  help: `Usage: vmesh status [--control <socket> | --config <path>] [--json]

Shows this node, its peers (state, address, smoothed RTT, jitter, loss, uptime, routes via
each, packets), its forwarding counters (drops by reason, uRPF drops included) and the routes
refused by max_routes_per_peer and max_routes_per_origin.

${WHERE}`,
  async run(args) {
    const r = await ask(args, this, "status");
    if ("help" in r) return r.help!;
    console.log(r.json ? JSON.stringify(r.result, null, 2) : formatStatus(r.result as any));
    return Exit.ok;
  },
};

/** `vmesh routes`. */
export const routes: Command = {
  name: "routes",
  summary: "show a running node's routing table",
  help: `Usage: vmesh routes [--control <socket> | --config <path>] [--json]

Shows the best route per prefix: next hop, total latency, path, age, and the decision rule
that chose it. Each hop of a path is shown by its verified name (see vmesh nodes), or by its
short node ID while its certificate is not known here.

${WHERE}`,
  async run(args) {
    const r = await ask(args, this, "routes");
    if ("help" in r) return r.help!;
    const views = r.result as RouteView[];
    console.log(r.json ? JSON.stringify(views, null, 2) : formatTable(views));
    return Exit.ok;
  },
};

/** Text form of `vmesh nodes`: one verified node a line, this node first. */
export function formatNodes(nodes: readonly NodeView[]): string {
  const rows = [["NAME", "ID", "KEY SHA-256", "EXPIRES", "KIND"]];
  for (const n of nodes) {
    rows.push([
      n.name,
      n.id.slice(0, 16) + "…",
      n.spkiSha256.slice(0, 16) + "…",
      n.notAfter.replace(/\.\d{3}Z$/, "Z"),
      n.self ? "self" : n.external ? "external" : "node",
    ]);
  }
  return table(rows);
}

/** `vmesh nodes`. */
export const nodes: Command = {
  name: "nodes",
  summary: "show the nodes whose names a running node verified",
  help: `Usage: vmesh nodes [--control <socket> | --config <path>] [--json]

Shows the node book: every node whose certificate this node verified (itself, its neighbours
and the nodes in its routes' paths, learned from its neighbours), with name, node ID, key
fingerprint (SHA-256 of the SubjectPublicKeyInfo, as revoked_keys lists it), expiry and kind
(self, node of our CA, pinned external). --json prints the full IDs and fingerprints. A hop
missing here is shown by its short ID in vmesh routes.

${WHERE}`,
  async run(args) {
    const r = await ask(args, this, "nodes");
    if ("help" in r) return r.help!;
    const views = r.result as NodeView[];
    console.log(r.json ? JSON.stringify(views, null, 2) : formatNodes(views));
    return Exit.ok;
  },
};

/** `vmesh dc current`. */
export const dcCurrent: Command = {
  name: "dc current",
  summary: "show the distributed config a running node uses",
  help: `Usage: vmesh dc current [--control <socket> | --config <path>] [--json]

Shows the DC the node runs: signing time, content hash, whitelist and content ("none" when
the node has no DC yet).

${WHERE}`,
  async run(args) {
    const r = await ask(args, this, "dc");
    if ("help" in r) return r.help!;
    const dc = r.result as Record<string, unknown> | null;
    if (r.json) console.log(JSON.stringify(dc, null, 2));
    else console.log(dc === null ? "no DC" : dcText(dc).slice(1).join("\n"));
    return Exit.ok;
  },
};

/** `vmesh dc apply`. */
export const dcApply: Command = {
  name: "dc apply",
  summary: "hand a signed distributed config to a running node",
  help: `Usage: vmesh dc apply <file.bin> [--control <socket> | --config <path>] [--json]

Sends a signed DC (as written by vmesh sign or vnconfigsign) to the running node, which applies
it as it would with --initial-dc: it must verify against the node's CA, be valid now and be newer
than the DC in force. The node then enforces it at once, persists it in state_dir and passes it
to every peer. Exits 1 naming the reason when the node refuses it (invalid, signed by another
CA, expired, not newer).

${WHERE}`,
  async run(args) {
    const { values, positionals } = parse(args, OPTIONS, { positionals: 1 });
    if (values.help) return help(this);
    const file = positionals[0];
    if (!file) throw new UsageError("missing the DC file to apply");
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(file);
    } catch (e) {
      throw new CliFailure(`cannot read ${file}: ${(e as Error).message}`);
    }
    if (bytes.length > MAX_DC_BYTES) {
      throw new CliFailure(`${file} is ${bytes.length} bytes: no DC is larger than 1 MiB`);
    }
    const r = await request(values, "dc-apply", { dc: bytes.toBase64() }) as Record<
      string,
      unknown
    >;
    if (values.json) console.log(JSON.stringify(r, null, 2));
    else {
      console.log(`applied: DC signed ${r.signed_at}, expires ${r.cert_expires}`);
      for (const w of (r.warnings ?? []) as string[]) console.log(`warning: ${w}`);
    }
    return Exit.ok;
  },
};
