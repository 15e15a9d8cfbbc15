/**
 * Where a peer's control frames go: route announcements and withdrawals to the router, DC
 * offers, DCs and chunks to DC gossip, node-info requests and answers to the node book, UDP
 * channel requests and responses to the UDP links.
 *
 * A payload that does not decode is the peer's fault: a `SessionError` closes its session
 * ("malformed-frame"). Anything else thrown here is a bug of ours: the session logs it as such
 * and stays up.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { VerifiedDc } from "../dc/mod.ts";
import { decodeAnnounce, decodeWithdraw, type Router } from "../routing/mod.ts";
import { FrameType, type Session } from "../session/mod.ts";
import type { DcGossip } from "./dc_gossip.ts";
import type { NodeInfoGossip } from "./node_info_gossip.ts";
import { peerDc, peerInput, peerNodeInfo, peerSyntax } from "./peer_input.ts";
import type { UdpLinks } from "./udp_links.ts";

const log = getLogger(["vmesh", "node"]);

/** The parts of a node that control frames reach. */
export interface ControlTargets {
  readonly router: Router;
  readonly names: NodeInfoGossip;
  readonly dcGossip: DcGossip<VerifiedDc>;
  readonly udp: UdpLinks;
  /** The routes changed: send what neighbours must hear (batched). */
  readonly routesChanged: () => void;
}

/** Handles one control frame of session `s`. */
export function onControlFrame(
  t: ControlTargets,
  s: Session,
  type: number,
  payload: Uint8Array,
): void {
  switch (type) {
    case FrameType.RouteAnnounce: {
      // Applied in slices (the router's receive queue; it logs refusals at debug level).
      const routes = peerInput("route announce", () => decodeAnnounce(payload));
      t.router.queueAnnounce(s.peer.id, routes);
      t.names.noteRoutes(s.peer.id, routes);
      t.routesChanged();
      return;
    }
    case FrameType.RouteWithdraw:
      t.router.queueWithdraw(
        s.peer.id,
        peerInput("route withdraw", () => decodeWithdraw(payload)),
      );
      t.routesChanged();
      return;
    case FrameType.DcOffer:
      peerDc("DC offer", () => t.dcGossip.onOffer(s, payload));
      return;
    case FrameType.Dc:
      t.dcGossip.onDc(s, payload);
      return;
    case FrameType.DcChunk:
      peerDc("DC chunk", () => t.dcGossip.onChunk(s, payload));
      return;
    case FrameType.NodeInfoRequest:
      peerNodeInfo("node-info request", () => t.names.onRequest(s, payload));
      return;
    case FrameType.NodeInfo:
      void peerNodeInfo("node info", () => t.names.onInfo(s, payload));
      return;
    case FrameType.UdpChannelRequest:
      peerSyntax("UDP channel request", () => t.udp.onRequest(s, payload));
      return;
    case FrameType.UdpChannelResponse:
      peerSyntax("UDP channel response", () => t.udp.onResponse(s, payload));
      return;
    default:
      log.debug("{peer}: control frame type {type} not used by this node", {
        peer: s.peer.name,
        type,
      });
  }
}
