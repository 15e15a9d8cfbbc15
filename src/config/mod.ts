/**
 * Node configuration: the JSON file, and loading everything a node needs before it starts.
 * @module
 */
export { ConfigError } from "./errors.ts";
export {
  CONFIG_DEFAULTS,
  type DummyVifConfig,
  type InterfaceAddress,
  type LoadedConfig,
  loadNodeConfig,
  type LocalAnnouncement,
  MAX_CONFIG_BYTES,
  type NodeConfig,
  parseNodeConfig,
  type PeerConfig,
  type ServiceVifConfig,
  type TunVifConfig,
  type VifConfig,
} from "./node_config.ts";
export { type PreparedNode, prepareNode } from "./prepare.ts";
