/**
 * Building a vif from its configuration.
 *
 * `VifSpec` mirrors the config file's vif objects (snake_case keys):
 * - `{ "type": "tun", "tun_name"?: "vmesh%d", "mtu"?: 1420, "addresses"?: ["fd00:1::1/64"],
 *    "routes"?: ["fd00:1::/48"], "offload"?: false }`
 * - `{ "type": "service", "service_name"?: "svc", "service_network"?: "unixgram",
 *    "service_address": "/run/svc.sock" }`
 * - `{ "type": "dummy" }`
 * @module
 */
import { SyscallError } from "../../ffi/errno.ts";
import { DummyVif } from "./dummy.ts";
import { openServiceVif } from "./service.ts";
import { openTunVif } from "./tun.ts";
import type { Vif } from "./vif.ts";

/** A TUN device. */
export interface TunVifSpec {
  type: "tun";
  /** Interface name or template (default "vmesh%d"), ≤ 15 bytes. */
  tun_name?: string;
  /** MTU, 1280..65535 (default: the kernel's 1500). */
  mtu?: number;
  /** Addresses for the interface, "fd00:1::1/64" (bare address = /128). */
  addresses?: string[];
  /** Prefixes routed into the interface by the kernel, "fd00:1::/48"; removed on close. */
  routes?: string[];
  /** Virtio-net header with checksum/TCP segmentation offload (much faster TCP). */
  offload?: boolean;
}

/** A local program over a Unix datagram socket. */
export interface ServiceVifSpec {
  type: "service";
  /** Name for logs (default: the vif's key). */
  service_name?: string;
  /** Socket kind; only "unixgram" (the default). */
  service_network?: string;
  /** Path of the service's datagram socket. */
  service_address: string;
}

/** Discards what is sent to it. */
export interface DummyVifSpec {
  type: "dummy";
}

/** One vif's configuration. */
export type VifSpec = TunVifSpec | ServiceVifSpec | DummyVifSpec;

/**
 * Creates the vif described by `spec`. `key` names it in error messages (`vifs.<key>`) and is
 * the default service_name.
 * @throws {TypeError}/{RangeError}/{SyntaxError} naming the bad key, {SyscallError} when the
 *   kernel refuses (its message says what to do).
 * @example
 * const vif = createVif("main", { type: "tun", tun_name: "vmesh0", addresses: ["fd00::1/64"] });
 */
export function createVif(key: string, spec: VifSpec): Vif {
  const where = `vifs.${key}`;
  try {
    if (spec === null || typeof spec !== "object") throw new TypeError(`must be an object`);
    switch (spec.type) {
      case "tun":
        checkTypes(spec, { tun_name: "string", mtu: "number", offload: "boolean" });
        checkStringArray(spec.addresses, "addresses");
        checkStringArray(spec.routes, "routes");
        return openTunVif({
          name: spec.tun_name,
          mtu: spec.mtu,
          addresses: spec.addresses,
          routes: spec.routes,
          offload: spec.offload,
        });
      case "service":
        checkTypes(spec, { service_name: "string", service_network: "string" });
        if (typeof spec.service_address !== "string") {
          throw new TypeError(`service_address is required: the path of the service's socket`);
        }
        return openServiceVif({
          name: spec.service_name ?? key,
          network: spec.service_network,
          address: spec.service_address,
        });
      case "dummy":
        return new DummyVif(key);
      default:
        throw new TypeError(
          `type "${String((spec as { type?: unknown }).type)}" is unknown: use "tun", ` +
            `"service" or "dummy"`,
        );
    }
  } catch (e) {
    if (e instanceof SyscallError || !(e instanceof Error)) throw e;
    const Ctor = e instanceof RangeError
      ? RangeError
      : e instanceof SyntaxError
      ? SyntaxError
      : e instanceof TypeError
      ? TypeError
      : Error;
    throw new Ctor(`${where}: ${e.message}`, { cause: e });
  }
}

function checkTypes(spec: object, types: Record<string, string>): void {
  for (const [k, t] of Object.entries(types)) {
    const v = (spec as Record<string, unknown>)[k];
    if (v !== undefined && typeof v !== t) throw new TypeError(`${k} must be a ${t}`);
  }
}

function checkStringArray(v: unknown, name: string): void {
  if (v === undefined) return;
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
    throw new TypeError(`${name} must be an array of strings`);
  }
  if (v.length > 1024) throw new RangeError(`${name} has ${v.length} entries; at most 1024`);
}
