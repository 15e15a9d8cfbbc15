/**
 * Fuzz target: node-info payloads (`src/names/wire.ts`) into both decoders and into the node's
 * protocol (`NodeInfoGossip.onRequest`/`onInfo`), with every ID of the input asked of the
 * sending peer first, so mutated certificates reach the node book's checks. The only refusal
 * is a {@link NodeInfoWireError} (thrown synchronously: the node closes the session); a decoded
 * payload re-encodes to itself; `onInfo`'s promise never rejects (it runs in the background).
 * Count and certificate length fields, and the DER length fields inside each certificate, are
 * mutated to 0, the maximum and off by one.
 * @module
 */
import { ManualClock } from "../src/clock/mod.ts";
import {
  decodeNodeInfo,
  decodeNodeInfoRequest,
  encodeNodeInfo,
  encodeNodeInfoRequest,
  NodeBook,
  NodeInfoWireError,
} from "../src/names/mod.ts";
import { parsePrefix } from "../src/net/mod.ts";
import { type InfoPeer, NodeInfoGossip } from "../src/node/node_info_gossip.ts";
import type { NodeIdentity, PeerId, TrustStore } from "../src/pki/mod.ts";
import { Feature } from "../src/session/mod.ts";
import { makeTestPki } from "../tests/_harness/pki.ts";
import { derLengthFields } from "./fixtures.ts";
import type { LengthField, Seed } from "./mutator.ts";
import { ContractViolation, expectError, expectSameBytes, type FuzzTarget } from "./target.ts";

let seeds: Seed[] = [];
let trust: TrustStore;
let self: NodeIdentity;
const PEER = { id: "7".repeat(64), name: "peer.vnet.test" };
const PREFIX = parsePrefix("fd00:77::/48");

/** The node-info target. */
export const nodeInfoTarget: FuzzTarget = {
  name: "node_info",
  description: "node-info request/info payloads into the decoders and NodeInfoGossip (src/names)",
  async setup() {
    const pki = await makeTestPki();
    const me = await pki.issue("self");
    const ext = await pki.selfSigned("x.partner.example");
    trust = await pki.trustWith([ext]);
    self = me.identity;
    const node = await pki.issue("n");
    const foreign = await pki.foreign.issue("f");
    const certs: [PeerId, Uint8Array][] = [
      [node.id, node.certDer],
      [ext.id, ext.certDer],
      [pki.expired.id, pki.expired.certDer],
      [foreign.id, foreign.certDer],
    ];
    const request = encodeNodeInfoRequest([node.id, ext.id, me.id]);
    seeds = [{ bytes: request, lengths: [{ offset: 1, width: 2, value: 3 }] }];
    for (const group of [certs, certs.slice(0, 1), [[node.id, undefined] as const, certs[3]]]) {
      const entries = group.map(([id, der]) => ({ id, der }));
      const bytes = encodeNodeInfo(entries)[0];
      const lengths: LengthField[] = [{ offset: 1, width: 2, value: entries.length }];
      let at = 3;
      for (const e of entries) {
        const len = e.der?.length ?? 0;
        lengths.push({ offset: at + 32, width: 2, value: len });
        if (e.der !== undefined) {
          for (const f of derLengthFields(e.der)) {
            lengths.push({ ...f, offset: f.offset + at + 34 });
          }
        }
        at += 34 + len;
      }
      seeds.push({ bytes, lengths });
    }
  },
  seeds: () => seeds,
  async run(input: Uint8Array) {
    try {
      const ids = decodeNodeInfoRequest(input);
      if (ids.length === ((input[1] << 8) | input[2])) {
        expectSameBytes(encodeNodeInfoRequest(ids), input, "request");
      }
    } catch (e) {
      expectError(e, [NodeInfoWireError]);
    }
    let asked: PeerId[] = [];
    try {
      const entries = decodeNodeInfo(input);
      const again = encodeNodeInfo(entries);
      if (again.length !== 1) throw new ContractViolation("info re-encodes to several payloads");
      expectSameBytes(again[0], input, "info");
      asked = entries.map((e) => e.id);
    } catch (e) {
      expectError(e, [NodeInfoWireError]);
    }
    // The node's side: ask the peer for every ID of the input, then hand the input over.
    const clock = new ManualClock();
    const gossip = new NodeInfoGossip(new NodeBook({ trust, identity: self, now: () => 0 }), clock);
    const session: InfoPeer = {
      peer: PEER,
      peerFeatures: Feature.NodeInfo,
      sendControl: () => true,
    };
    gossip.peerUp(session);
    if (asked.length > 0) {
      gossip.noteRoutes(PEER.id, [{
        prefix: PREFIX,
        path: [PEER.id, ...asked].map((id) => ({ id, latencyMs: 1 })),
      }]);
      gossip.pump();
    }
    try {
      gossip.onRequest(session, input);
    } catch (e) {
      expectError(e, [NodeInfoWireError]);
    }
    let checks: Promise<void>;
    try {
      checks = gossip.onInfo(session, input);
    } catch (e) {
      expectError(e, [NodeInfoWireError]);
      return;
    }
    await checks.catch((e) => {
      throw new ContractViolation(`onInfo's checks rejected: ${e}`, { cause: e });
    });
  },
};
