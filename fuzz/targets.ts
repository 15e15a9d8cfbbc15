/**
 * Every fuzz target, by name, with the module that holds it (workers import it from there).
 * @module
 */

/** Where a target lives: module URL and export name. */
export interface TargetRef {
  readonly name: string;
  readonly module: string;
  readonly exportName: string;
}

const here = (file: string) => new URL(file, import.meta.url).href;

/** All targets, in the order a full run takes them. */
export const TARGETS: readonly TargetRef[] = [
  { name: "frame", module: here("./frame_target.ts"), exportName: "frameTarget" },
  { name: "hello", module: here("./hello_target.ts"), exportName: "helloTarget" },
  { name: "wire", module: here("./wire_target.ts"), exportName: "wireTarget" },
  { name: "dc_codec", module: here("./dc_target.ts"), exportName: "dcCodecTarget" },
  { name: "dc_content", module: here("./dc_target.ts"), exportName: "dcContentTarget" },
  { name: "dc_verify", module: here("./dc_target.ts"), exportName: "dcVerifyTarget" },
  { name: "dc_offer", module: here("./dc_offer_target.ts"), exportName: "dcOfferTarget" },
  { name: "udp_datagram", module: here("./udp_target.ts"), exportName: "udpDatagramTarget" },
  { name: "udp_setup", module: here("./udp_target.ts"), exportName: "udpSetupTarget" },
  { name: "certificate", module: here("./certificate_target.ts"), exportName: "certificateTarget" },
  { name: "node_info", module: here("./node_info_target.ts"), exportName: "nodeInfoTarget" },
  { name: "control", module: here("./control_target.ts"), exportName: "controlTarget" },
  { name: "config", module: here("./config_target.ts"), exportName: "configTarget" },
  { name: "forwarder", module: here("./forwarder_target.ts"), exportName: "forwarderTarget" },
];
