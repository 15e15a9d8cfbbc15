/**
 * Received announcements and withdrawals applied to a {@link Rib}: the checks of each route
 * (first hop, loop, length, latencies, revocation, filter, quotas) and what a refusal does.
 * Internal to `src/routing/`; see `Router.receiveAnnounce`.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { formatPrefix, type Ipv6Prefix, prefixKey } from "../net/mod.ts";
import { type PeerId, shortId } from "../pki/mod.ts";
import type { Route } from "./route.ts";
import { isValidPrefix, LOOP_PROBLEM, revokedHop, routeProblem } from "./route_check.ts";
import type { ReceiveResult } from "./router_state.ts";
import type { Rib } from "./rib.ts";

const log = getLogger(["vmesh", "routing"]);

const MAX_PROBLEMS = 8;

/**
 * Routes received from neighbour `fromId`. Each is checked (first hop = sender, no loop, at
 * most 64 hops, sane latencies, filter, per-peer limit); a refused route also withdraws the
 * route that neighbour sent earlier for the same prefix.
 *
 * A route whose only fault is that its path contains this node (a poisoned announcement: the
 * neighbour's best route goes through us) withdraws that neighbour's earlier route too, but
 * when the filter and the quotas allow the neighbour the prefix it is kept as "feasible only":
 * the neighbour becomes a feasible source for the prefix ({@link Router.sources}), never a
 * next hop. It counts in `feasibleOnly`, not in `rejected`.
 */
export function receiveAnnounce(
  rib: Rib,
  fromId: PeerId,
  routes: readonly Route[],
): ReceiveResult {
  const peer = rib.peers.get(fromId);
  const result = { accepted: 0, rejected: 0, feasibleOnly: 0, problems: [] as string[] };
  const refuse = (prefix: Ipv6Prefix | undefined, why: string) => {
    result.rejected++;
    if (result.problems.length < MAX_PROBLEMS) {
      const p = prefix && isValidPrefix(prefix) ? formatPrefix(prefix) : "malformed prefix";
      result.problems.push(`${p}: ${why}`);
    }
  };
  if (peer === undefined) {
    for (const r of routes) refuse(r?.prefix, "the peer's session is not up");
    return result;
  }
  const now = rib.o.clock.now();
  for (const route of routes) {
    if (route === null || typeof route !== "object" || !isValidPrefix(route.prefix)) {
      refuse(undefined, "malformed prefix");
      continue;
    }
    const key = prefixKey(route.prefix);
    const problem = routeProblem(route, fromId, rib.o.localId);
    if (problem !== undefined && problem !== LOOP_PROBLEM) {
      rib.forget(peer, key);
      rib.forgetFeasible(peer, key);
      refuse(route.prefix, problem);
      continue;
    }
    const revoked = revokedHop(route.path, rib.revoked);
    if (revoked !== undefined) {
      rib.forget(peer, key);
      rib.forgetFeasible(peer, key);
      peer.rejected.delete(key);
      refuse(route.prefix, `path contains node ${shortId(revoked)}, revoked by the DC`);
      continue;
    }
    const verdict = rib.verdict(peer, route.prefix);
    if (!verdict.accept) {
      rib.forget(peer, key);
      rib.forgetFeasible(peer, key);
      if (problem === undefined) rib.keepRejected(peer, key, route, now);
      refuse(route.prefix, verdict.reason);
      continue;
    }
    if (problem === LOOP_PROBLEM) {
      rib.forget(peer, key);
      peer.rejected.delete(key);
      const over = rib.learnFeasible(peer, key, route, now);
      if (over === undefined) result.feasibleOnly++;
      else refuse(route.prefix, over);
      continue;
    }
    const over = rib.learn(peer, key, route, now);
    if (over === undefined) result.accepted++;
    else refuse(route.prefix, over);
  }
  if (result.rejected > 0) {
    log.debug("Refused {count} routes from {peer}: {problems}", {
      count: result.rejected,
      peer: peer.info.name,
      problems: result.problems.join("; "),
    });
  }
  rib.syncSources();
  return result;
}

/** Prefixes withdrawn by neighbour `fromId`. Unknown prefixes are ignored. */
export function receiveWithdraw(rib: Rib, fromId: PeerId, prefixes: readonly Ipv6Prefix[]): void {
  const peer = rib.peers.get(fromId);
  if (peer === undefined) return;
  for (const p of prefixes) {
    if (!isValidPrefix(p)) continue;
    const key = prefixKey(p);
    rib.forget(peer, key);
    rib.forgetFeasible(peer, key);
    peer.rejected.delete(key);
  }
  rib.syncSources();
}
