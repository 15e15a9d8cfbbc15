/**
 * Opens the vifs a node config names (TUN devices, service sockets, dummies).
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { type Clock, realClock } from "../clock/mod.ts";
import type { VifConfig } from "../config/mod.ts";
import { formatIpv6 } from "../net/mod.ts";
import { DummyVif, openServiceVif, openTunVif, type Vif } from "../vif/mod.ts";

const log = getLogger(["vmesh", "vif"]);

/** A vif failed to open: names the vif and the reason (permission, name in use, …). */
export class VifOpenError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "VifOpenError";
  }
}

/** Opens one vif from its config. @throws {VifOpenError} */
export function openVif(key: string, cfg: VifConfig, clock: Clock = realClock): Vif {
  try {
    switch (cfg.type) {
      case "tun": {
        const opts = {
          name: cfg.tunName,
          mtu: cfg.mtu,
          addresses: cfg.addresses.map((a) => `${formatIpv6(a.addr)}/${a.len}`),
          routes: cfg.routes,
        };
        if (cfg.offload !== undefined) return openTunVif({ ...opts, offload: cfg.offload });
        // Default: offload on (TCP crosses the mesh as ~64 KB super-packets: about twice the
        // throughput), off when this kernel refuses it.
        try {
          return openTunVif({ ...opts, offload: true });
        } catch (e) {
          log.warn("vifs.{key}: TUN offload not available ({error}); using plain packets", {
            key,
            error: e instanceof Error ? e.message : String(e),
          });
          return openTunVif({ ...opts, offload: false });
        }
      }
      case "service":
        return openServiceVif({
          name: cfg.serviceName,
          network: cfg.serviceNetwork,
          address: cfg.serviceAddress,
          clock,
        });
      case "dummy":
        return new DummyVif(key);
    }
  } catch (e) {
    throw new VifOpenError(`vifs.${key}: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
}

/** Opens every vif; on a failure closes those already opened and rethrows. */
export function openVifs(
  vifs: ReadonlyMap<string, VifConfig>,
  clock: Clock = realClock,
): Map<string, Vif> {
  const out = new Map<string, Vif>();
  try {
    for (const [key, cfg] of vifs) out.set(key, openVif(key, cfg, clock));
  } catch (e) {
    for (const v of out.values()) v.close();
    throw e;
  }
  return out;
}
