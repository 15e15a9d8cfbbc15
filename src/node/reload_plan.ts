/**
 * What a config reload changes in a running node: which keys need a restart (and keep their
 * running value), and which local announcements come and go.
 * @module
 */
import type { LocalAnnouncement, NodeConfig } from "../config/mod.ts";
import { prefixKey } from "../net/mod.ts";

/** Config keys that a running node cannot apply (besides `vifs`). */
export const RESTART_KEYS = [
  "listenAddr",
  "ca",
  "cert",
  "privateKey",
  "externalPeerCerts",
  "stateDir",
  "controlSocket",
  "hysteresisMs",
  "pingIntervalMs",
  "maxRoutesPerPeer",
  "maxRoutesPerOrigin",
  "externalPeersDefault",
  "sourceValidation",
  "httpListen",
  "httpToken",
] as const;

/** What a reload from `prev` to `next` does. */
export interface ReloadPlan {
  /** Keys whose change needs a restart (empty when everything can be applied). */
  readonly needsRestart: string[];
  /** Local announcements to remove, then those to add. */
  readonly removed: LocalAnnouncement[];
  readonly added: LocalAnnouncement[];
  /**
   * The config in force afterwards: `next`, but what needs a restart keeps its running value,
   * so that `config` (and `vmesh status`) shows what is in force, not what the file says.
   */
  readonly running: NodeConfig;
}

/** Compares two configs. */
export function reloadPlan(prev: NodeConfig, next: NodeConfig): ReloadPlan {
  const needsRestart: string[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (!same([...prev.vifs], [...next.vifs])) needsRestart.push("vifs");
  for (const k of RESTART_KEYS) if (!same(prev[k], next[k])) needsRestart.push(k);
  const oldAnn = new Map(prev.localAnnouncements.map((a) => [annKey(a), a]));
  const newAnn = new Map(next.localAnnouncements.map((a) => [annKey(a), a]));
  const removed = [...oldAnn].filter(([k]) => !newAnn.has(k)).map(([, a]) => a);
  const added = [...newAnn].filter(([k]) => !oldAnn.has(k)).map(([, a]) => a);
  const running: Record<string, unknown> = { ...next, vifs: prev.vifs };
  for (const k of RESTART_KEYS) running[k] = prev[k];
  return { needsRestart, removed, added, running: running as unknown as NodeConfig };
}

function annKey(a: LocalAnnouncement): string {
  return `${prefixKey(a.prefix)} ${a.vif ?? ""}`;
}
