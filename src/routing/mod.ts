/**
 * The routing core of vmesh: sans-IO path-vector routing by measured latency.
 *
 * @example
 * ```ts
 * const router = new Router({ localId, localName: "a", clock: realClock });
 * router.addLocal(parsePrefix("fd00:a::/48"), "tun0");
 * router.peerUp({ id: peerId, name: "b", external: false }, 12.5);
 * router.receiveAnnounce(peerId, decodeAnnounce(payload));
 * const { messages, fibChanged } = router.flush();
 * for (const [id, m] of messages) {
 *   const s = sessions.session(id); // the open session to neighbour `id`, if any
 *   for (const p of encodeWithdraw(m.withdraw)) s?.sendControl(FrameType.RouteWithdraw, p);
 *   for (const p of encodeAnnounce(m.announce)) s?.sendControl(FrameType.RouteAnnounce, p);
 * }
 * forwarder.setFib(router.fib); // mutated in place: set once
 * forwarder.setSourceCheck(router.sources); // uRPF table, kept current: set once
 * ```
 * @module
 */
export {
  type FlushResult,
  type PeerInfo,
  type PeerMessages,
  type QuotaRefusals,
  type ReceiveResult,
  Router,
  type RouterOptions,
} from "./router.ts";
export { type SourcePrefix, SourceTable, type SourceVerdict } from "./source_table.ts";
export {
  type Hop,
  MAX_HOP_LATENCY_MS,
  MAX_PATH_HOPS,
  type NextHop,
  pathMetricUs,
  type Route,
} from "./route.ts";
export {
  decodeAnnounce,
  decodeWithdraw,
  encodeAnnounce,
  encodeWithdraw,
  MAX_ROUTE_PAYLOAD,
  WireError,
} from "./wire.ts";
export {
  type Candidate,
  compareCandidates,
  decide,
  type Decision,
  type DecisionReason,
} from "./decision.ts";
export { type LatencyOptions, LinkLatency } from "./latency.ts";
export { formatTable, formatTableJson, type HopView, type RouteView } from "./table_view.ts";
