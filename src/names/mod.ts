/**
 * Node names beyond the neighbours: the node book of verified certificates by node ID
 * (`node_book.ts`) and the node-info frames that carry certificates between nodes
 * (`wire.ts`). The node runs the request/answer protocol (`src/node/node_info_gossip.ts`).
 * @module
 */
export {
  type AdmitResult,
  DEFAULT_MAX_NODE_ENTRIES,
  DEFAULT_UNUSED_GRACE_MS,
  NodeBook,
  type NodeBookEntry,
  type NodeBookOptions,
  type NodeBookRefusal,
} from "./node_book.ts";
export {
  decodeNodeInfo,
  decodeNodeInfoRequest,
  encodeNodeInfo,
  encodeNodeInfoRequest,
  MAX_NODE_CERT_BYTES,
  MAX_NODE_INFO_IDS,
  MAX_NODE_INFO_PAYLOAD,
  NODE_INFO_VERSION,
  type NodeInfoEntry,
  NodeInfoWireError,
} from "./wire.ts";
