import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/_harness/assert.ts";
import { makeTestPki } from "../../tests/_harness/pki.ts";
import { formatPrefix } from "../net/mod.ts";
import { signDc } from "../dc/mod.ts";
import {
  CONFIG_DEFAULTS,
  ConfigError,
  loadNodeConfig,
  parseNodeConfig,
  prepareNode,
} from "./mod.ts";

const FIXTURE = new URL("../../tests/fixtures/go_vmesh_config.json", import.meta.url).pathname;

function problems(json: unknown): string[] {
  const e = assertThrows(
    () => parseNodeConfig(JSON.stringify(json), { path: "/etc/vmesh/node.json" }),
    ConfigError,
  );
  return [...(e as ConfigError).problems];
}

const MIN = {
  listen_addr: "[::]:5120",
  ca: "ca.crt",
  cert: "a.crt",
  private_key: "a.key",
};

Deno.test("loadNodeConfig() loads a Go vmesh config file unchanged", async () => {
  const { config, warnings } = await loadNodeConfig(FIXTURE);
  assertEquals(warnings, []);
  assertEquals(config.listenAddr, { host: "0.0.0.0", port: 5120 });
  assertEquals(config.ca, "/your_ca/ca.crt");
  assertEquals(config.externalPeerCerts, ["/your_ca/partner.crt"]);
  assertEquals(config.serverName, "node1.test.example.com");
  assertEquals(
    config.localAnnouncements.map((a) => [formatPrefix(a.prefix), a.vif]),
    [["2001:db8:1::/48", "tun0"], ["2001:db8:2::/48", "svc"]],
  );
  assertEquals(config.peers.map((p) => [p.addr.host, p.addr.port, p.udp]), [
    ["192.0.2.10", 5120, false],
    ["2001:db8::3", 5120, true],
    ["node4.test.example.com", 5120, false],
  ]);
  assertEquals(config.vifs.get("tun0"), {
    type: "tun",
    tunName: "tun-vnet",
    addresses: [],
    routes: [],
    mtu: undefined,
    offload: undefined,
  });
  assertEquals(config.vifs.get("svc")?.type, "service");
  assertEquals(config.vifs.get("null"), { type: "dummy" });
  assertEquals(config.stateDir, CONFIG_DEFAULTS.stateDir);
  assertEquals(config.controlSocket, CONFIG_DEFAULTS.controlSocket);
  assertEquals(config.externalPeersDefault, "reject");
  assertEquals(config.hysteresisMs, 10);
  assertEquals(config.pingIntervalMs, 1000);
  assertEquals(config.maxRoutesPerPeer, 65536);
});

Deno.test("parseNodeConfig() resolves relative paths against the config's directory", () => {
  const { config } = parseNodeConfig(
    JSON.stringify({ ...MIN, external_peer_certs: ["x/p.crt"], state_dir: "state" }),
    { path: "/etc/vmesh/node.json" },
  );
  assertEquals(config.ca, "/etc/vmesh/ca.crt");
  assertEquals(config.privateKey, "/etc/vmesh/a.key");
  assertEquals(config.externalPeerCerts, ["/etc/vmesh/x/p.crt"]);
  assertEquals(config.stateDir, "/etc/vmesh/state");
});

Deno.test("parseNodeConfig() reads the vmesh additions", () => {
  const { config, warnings } = parseNodeConfig(JSON.stringify({
    ...MIN,
    vifs: {
      t: {
        type: "tun",
        tun_name: "vm%d",
        addresses: ["fd00:1::1/64"],
        routes: ["fd00:2::/48"],
        mtu: 1420,
        offload: true,
      },
    },
    external_peers_default: "accept",
    hysteresis_ms: 0,
    ping_interval_ms: 250,
    max_routes_per_peer: 10,
    control_socket: "/tmp/c.sock",
  }));
  assertEquals(warnings, []);
  const t = config.vifs.get("t");
  assert(t?.type === "tun");
  assertEquals(t.addresses[0].len, 64);
  assertEquals(formatPrefix(t.routes[0]), "fd00:2::/48");
  assertEquals([t.mtu, t.offload, t.tunName], [1420, true, "vm%d"]);
  assertEquals(config.externalPeersDefault, "accept");
  assertEquals([config.hysteresisMs, config.pingIntervalMs, config.maxRoutesPerPeer], [0, 250, 10]);
});

Deno.test("parseNodeConfig() reports every problem at once with its JSON path", () => {
  const p = problems({
    listen_addr: "5120",
    ca: 7,
    private_key: "",
    server_name: "nodot",
    local_announcements: [
      { prefix: "10.0.0.0/8", vif: "t" },
      { prefix: "fd00::/8", vif: "nope" },
      "2001:db8::/32",
      { prefix: "fd00::1/8", vif: "t" },
    ],
    peers: [
      { addr: "[::1]:5120", name: "b.vnet.test" },
      { addr: "1.2.3.4", name: "c.vnet.test" },
      { addr: "[::1]:5120", name: "b.vnet.test", udp: "yes" },
      { addr: "::1:5120", name: "d.vnet.test" },
      { addr: "h.example:99999", name: "e.vnet.test" },
    ],
    vifs: {
      t: { type: "tun", mtu: 100, addresses: ["10.0.0.1/24", "fd00::1/200"], routes: ["x"] },
      s: { type: "service", service_network: "udp" },
      q: { type: "bridge" },
    },
    external_peers_default: "maybe",
    hysteresis_ms: -1,
    ping_interval_ms: 1.5,
    max_routes_per_peer: "many",
  });
  const expect = [
    'listen_addr: cannot parse "5120" as host:port',
    "ca: expected a string, got number 7",
    "cert: required, missing",
    "private_key: must not be empty",
    'server_name: "nodot" is not a node name',
    "vifs.t.mtu: expected an integer 1280..65535, got 100",
    'vifs.t.addresses[0]: "10.0.0.1/24" is IPv4: vmesh routes IPv6 only',
    "vifs.t.addresses[1]: prefix length 200 is over 128",
    "vifs.t.routes[0]:",
    "vifs.s.service_name: required, missing",
    'vifs.s.service_network: only "unixgram" is supported, got "udp"',
    "vifs.s.service_address: required, missing",
    'vifs.q.type: expected "tun", "service" or "dummy", got "bridge"',
    "local_announcements[0].prefix:",
    "vmesh routes IPv6 only",
    'local_announcements[1].vif: no vif "nope" in vifs',
    "local_announcements[2]: a bare prefix is the old format",
    "local_announcements[3].prefix: host bits are set",
    'peers[1].addr: cannot parse "1.2.3.4" as host:port',
    'peers[2].addr: duplicate of peers[0].addr "[::1]:5120"',
    'peers[2].name: duplicate of peers[0].name "b.vnet.test"',
    'peers[2].udp: expected true, false, "auto", "always" or "off"',
    'peers[3].addr: cannot parse "::1:5120" as host:port: an IPv6 address needs brackets',
    'peers[4].addr: cannot parse "h.example:99999" as host:port: the port must be',
    'external_peers_default: expected "reject" or "accept", got "maybe"',
    "hysteresis_ms: expected an integer 0..60000, got -1",
    "ping_interval_ms: expected an integer 100..60000, got 1.5",
    'max_routes_per_peer: expected an integer 1..10000000, got "many"',
  ];
  const all = p.join("\n");
  for (const part of expect) assert(all.includes(part), `missing "${part}" in:\n${all}`);
  assert(
    all.includes('peers[1].addr: cannot parse "1.2.3.4" as host:port\n') ||
      p.includes('peers[1].addr: cannot parse "1.2.3.4" as host:port'),
  );
});

Deno.test("parseNodeConfig() returns unknown keys as warnings, not errors", () => {
  const { warnings } = parseNodeConfig(JSON.stringify({
    ...MIN,
    vif_type: "tun",
    peers: [{ addr: "h.example:1", name: "b.vnet.test", colour: "red" }],
    vifs: { d: { type: "dummy", tun_name: "x" } },
  }));
  assertEquals(warnings, [
    "vif_type: unknown key (ignored)",
    'vifs.d.tun_name: not used by a vif of type "dummy" (ignored)',
    "peers[0].colour: unknown key (ignored)",
  ]);
});

Deno.test("parseNodeConfig() refuses non-JSON and non-objects", () => {
  assertThrows(() => parseNodeConfig("{,}"), ConfigError, "not valid JSON");
  assertThrows(() => parseNodeConfig("[]"), ConfigError, "expected an object");
});

Deno.test("loadNodeConfig() refuses a missing file and a file over 16 MiB", async () => {
  await assertRejects(() => loadNodeConfig("/nonexistent/vmesh.json"), ConfigError, "cannot read");
  const f = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(f, JSON.stringify({ ...MIN, pad: "x".repeat(16 * 1024 * 1024) }));
    await assertRejects(() => loadNodeConfig(f), ConfigError, "16 MiB");
  } finally {
    await Deno.remove(f);
  }
});

Deno.test("prepareNode() loads config, PKI and initial DC, and lists every problem", async () => {
  const pki = await makeTestPki();
  const a = await pki.issue("a");
  const b = await pki.issue("b");
  const ext = await pki.selfSigned("x.vnet.test");
  const files = await pki.writeFiles([a, b, ext]);
  try {
    const dc = await signDc({
      caCertPem: pki.ca.certPem,
      caKeyPem: pki.ca.keyPem,
      content: new TextEncoder().encode('{"prefix_whitelist":{}}'),
    });
    await Deno.writeFile(`${files.dir}/dc.bin`, dc.bytes);
    const good = {
      listen_addr: "[::1]:5120",
      ca: "ca.crt",
      cert: `${a.name}.crt`,
      private_key: `${a.name}.key`,
      server_name: a.name,
      external_peer_certs: [`${ext.name}.crt`],
    };
    await Deno.writeTextFile(`${files.dir}/good.json`, JSON.stringify(good));
    const ok = await prepareNode(`${files.dir}/good.json`, {
      initialDcPath: `${files.dir}/dc.bin`,
    });
    assertEquals(ok.identity.name, a.name);
    assertEquals(ok.initialDc?.contentHash, dc.contentHash);
    assert(ok.warnings.some((w) => w.includes("inside our domain")), ok.warnings.join("\n"));

    const bad = {
      ...good,
      private_key: `${b.name}.key`,
      server_name: "z.vnet.test",
      external_peer_certs: ["missing.crt"],
    };
    await Deno.writeTextFile(`${files.dir}/bad.json`, JSON.stringify(bad));
    const e = await assertRejects(() => prepareNode(`${files.dir}/bad.json`), ConfigError);
    const all = (e as ConfigError).problems.join("\n");
    assert(all.includes("external_peer_certs[0]:"), all);

    const bad2 = { ...good, private_key: `${b.name}.key`, server_name: "z.vnet.test" };
    await Deno.writeTextFile(`${files.dir}/bad2.json`, JSON.stringify(bad2));
    const e2 = await assertRejects(
      () => prepareNode(`${files.dir}/bad2.json`, { initialDcPath: `${files.dir}/nope.bin` }),
      ConfigError,
    );
    const all2 = (e2 as ConfigError).problems.join("\n");
    assert(all2.includes("private_key:") && all2.includes("key_mismatch"), all2);
    assert(all2.includes("--initial-dc"), all2);

    const bad3 = { ...good, server_name: "z.vnet.test" };
    await Deno.writeTextFile(`${files.dir}/bad3.json`, JSON.stringify(bad3));
    await assertRejects(
      () => prepareNode(`${files.dir}/bad3.json`),
      ConfigError,
      `server_name: "z.vnet.test" differs from the certificate's CN "${a.name}"`,
    );
  } finally {
    await Deno.remove(files.dir, { recursive: true });
  }
});

Deno.test("config.example.json uses every key and parses without warnings", async () => {
  const path = new URL("../../config.example.json", import.meta.url).pathname;
  const text = await Deno.readTextFile(path);
  const { config, warnings } = parseNodeConfig(text, { path });
  assertEquals(warnings, []);
  const json = JSON.parse(text);
  for (
    const k of [
      "listen_addr",
      "ca",
      "external_peer_certs",
      "cert",
      "private_key",
      "server_name",
      "local_announcements",
      "peers",
      "vifs",
      "state_dir",
      "control_socket",
      "external_peers_default",
      "hysteresis_ms",
      "ping_interval_ms",
      "max_routes_per_peer",
      "max_routes_per_origin",
      "source_validation",
      "http_listen",
      "http_token",
    ]
  ) assert(k in json, k);
  assertEquals([...config.vifs.values()].map((v) => v.type).sort(), ["dummy", "service", "tun"]);
});

Deno.test("parseNodeConfig() compares peer names as DNS names (case, trailing dot)", () => {
  const peer = (name: string, port: number) => ({ addr: `[::1]:${port}`, name });
  const { config } = parseNodeConfig(
    JSON.stringify({ ...MIN, peers: [peer("B.Vnet.Test.", 1)] }),
    { path: "/etc/vmesh/node.json" },
  );
  assertEquals(config.peers[0].name, "B.Vnet.Test.");
  assertEquals(
    problems({
      ...MIN,
      server_name: "a.vnet.test",
      peers: [peer("b.vnet.test", 1), peer("B.VNET.TEST.", 2), peer("A.Vnet.Test.", 3)],
    }),
    [
      'peers[1].name: duplicate of peers[0].name "B.VNET.TEST."',
      'peers[2].name: "A.Vnet.Test." is this node\'s own server_name',
    ],
  );
});

Deno.test("parseNodeConfig() reads max_routes_per_origin, default 16384", () => {
  const parse = (o: object) =>
    parseNodeConfig(JSON.stringify({ ...MIN, ...o }), { path: "/n.json" }).config;
  assertEquals(parse({}).maxRoutesPerOrigin, CONFIG_DEFAULTS.maxRoutesPerOrigin);
  assertEquals(CONFIG_DEFAULTS.maxRoutesPerOrigin, 16384);
  assertEquals(parse({ max_routes_per_origin: 100 }).maxRoutesPerOrigin, 100);
  assertEquals(problems({ ...MIN, max_routes_per_origin: 0 }), [
    "max_routes_per_origin: expected an integer 1..10000000, got 0",
  ]);
});

Deno.test('parseNodeConfig() reads source_validation, default "feasible", and refuses other values', () => {
  const parse = (o: object) =>
    parseNodeConfig(JSON.stringify({ ...MIN, ...o }), { path: "/n.json" }).config;
  assertEquals(parse({}).sourceValidation, "feasible");
  assertEquals(parse({ source_validation: "loose" }).sourceValidation, "loose");
  assertEquals(problems({ ...MIN, source_validation: "off" }), [
    'source_validation: expected "feasible" or "loose", got "off"',
  ]);
});

Deno.test("prepareNode() accepts a server_name that is the certificate's CN as a DNS name", async () => {
  const pki = await makeTestPki();
  const a = await pki.issue("a");
  const files = await pki.writeFiles([a]);
  try {
    const cfg = {
      listen_addr: "[::1]:5120",
      ca: "ca.crt",
      cert: `${a.name}.crt`,
      private_key: `${a.name}.key`,
      server_name: a.name.toUpperCase() + ".",
    };
    await Deno.writeTextFile(`${files.dir}/n.json`, JSON.stringify(cfg));
    const ok = await prepareNode(`${files.dir}/n.json`);
    assertEquals(ok.identity.name, a.name);
  } finally {
    await Deno.remove(files.dir, { recursive: true });
  }
});

Deno.test("parseNodeConfig() reads http_listen and http_token, both absent by default", () => {
  const parse = (o: object) =>
    parseNodeConfig(JSON.stringify({ ...MIN, ...o }), { path: "/n.json" });
  assertEquals(parse({}).config.httpListen, undefined);
  assertEquals(parse({}).config.httpToken, undefined);
  const token = "0123456789abcdef0123456789abcdef";
  const { config, warnings } = parse({ http_listen: "127.0.0.1:9477", http_token: token });
  assertEquals(config.httpListen, { host: "127.0.0.1", port: 9477 });
  assertEquals(config.httpToken, token);
  assertEquals(warnings, []);
  assertEquals(parse({ http_listen: "[::1]:9477" }).config.httpListen, { host: "::1", port: 9477 });
  assertEquals(parse({ http_token: token }).warnings, [
    "http_token: set without http_listen, so there is no HTTP endpoint to guard",
  ]);
});

Deno.test("parseNodeConfig() refuses a bad http_listen or http_token without quoting the token", () => {
  assertEquals(problems({ ...MIN, http_listen: "9477" }), [
    'http_listen: cannot parse "9477" as host:port: missing port',
  ]);
  assertEquals(problems({ ...MIN, http_listen: ":9477" }), [
    'http_listen: ":9477" has no host: write one, e.g. "127.0.0.1:9477" ("0.0.0.0:9477" or ' +
    '"[::]:9477" to listen on every address)',
  ]);
  assertEquals(problems({ ...MIN, http_listen: "127.0.0.1:0" }), [
    'http_listen: cannot parse "127.0.0.1:0" as host:port: the port must be a number 1..65535',
  ]);
  const secrets = ["short-SECRET", "x".repeat(300) + "SECRET", "has space SECRET in it!!", 12345];
  const got = secrets.map((t) =>
    problems({ ...MIN, http_listen: "127.0.0.1:9477", http_token: t })
  );
  assertEquals(got, [
    [
      "http_token: must be 16..256 characters long, got 12 (make one with: openssl rand -hex 32)",
    ],
    [
      "http_token: must be 16..256 characters long, got 306 (make one with: openssl rand -hex 32)",
    ],
    [
      "http_token: may contain only A-Z a-z 0-9 - . _ ~ + / (and = at the end), as a bearer " +
      "token (make one with: openssl rand -hex 32)",
    ],
    ["http_token: expected a string"],
  ]);
  for (const p of got.flat()) assert(!p.includes("SECRET") && !p.includes("12345"), p);
});

Deno.test("parseNodeConfig() reads peers[].udp as auto, always or off (a Go config's false is auto)", () => {
  const peer = (udp: unknown) => ({
    ...MIN,
    peers: [{ addr: "[::1]:5120", name: "b.vnet.test", ...(udp === undefined ? {} : { udp }) }],
  });
  const mode = (udp: unknown) => parseNodeConfig(JSON.stringify(peer(udp))).config.peers[0];
  for (
    const [udp, want] of [
      [undefined, "auto"],
      [false, "auto"],
      ["auto", "auto"],
      [true, "always"],
      ["always", "always"],
      ["off", "off"],
    ] as const
  ) {
    assertEquals(mode(udp).udpMode, want, `udp ${JSON.stringify(udp)}`);
    assertEquals(mode(udp).udp, want === "always");
  }
  assertEquals(problems(peer("never")), [
    'peers[0].udp: expected true, false, "auto", "always" or "off", got "never"',
  ]);
});
