/**
 * Fuzz target: config JSON into `parseNodeConfig` (`src/config`). Refusal: ConfigError.
 * @module
 */
import { ConfigError } from "../src/config/errors.ts";
import { parseNodeConfig } from "../src/config/node_config.ts";
import { mutateJson } from "./json_mutator.ts";
import type { Seed } from "./mutator.ts";
import { expectError, type FuzzTarget } from "./target.ts";

const MINIMAL = {
  listen_addr: "[::]:5120",
  ca: "ca.crt",
  cert: "a.crt",
  private_key: "a.key",
  server_name: "a.vnet.example.com",
  local_announcements: [{ prefix: "fd00:a::/48", vif: "t" }],
  peers: [{ addr: "[fd00::1]:5120", name: "b.vnet.example.com", udp: true }],
  vifs: { t: { type: "dummy" } },
};

let seeds: Seed[] = [];

/** The config target. */
export const configTarget: FuzzTarget = {
  name: "config",
  description: "node config JSON parseNodeConfig (src/config/node_config.ts)",
  async setup() {
    const url = new URL("../config.example.json", import.meta.url);
    const example = await Deno.readFile(url);
    seeds = [{ bytes: example }, { bytes: new TextEncoder().encode(JSON.stringify(MINIMAL)) }];
  },
  seeds: () => seeds,
  mutate: mutateJson,
  run(input: Uint8Array) {
    try {
      parseNodeConfig(new TextDecoder().decode(input), { path: "/etc/vmesh/fuzz.json" });
    } catch (e) {
      expectError(e, [ConfigError]);
    }
  },
};
