import { assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import { createVif, type VifSpec } from "./create.ts";

Deno.test("createVif() builds a dummy vif named after its key", () => {
  const vif = createVif("relay", { type: "dummy" });
  assertEquals(vif.name, "relay");
  vif.close();
});

Deno.test("createVif() names the vif key and field in configuration errors", () => {
  const bad = (spec: unknown) => () => createVif("main", spec as VifSpec);
  assertThrows(bad({ type: "tap" }), TypeError, 'vifs.main: type "tap" is unknown');
  assertThrows(bad(null), TypeError, "vifs.main: must be an object");
  assertThrows(bad({ type: "tun", mtu: "1400" }), TypeError, "vifs.main: mtu must be a number");
  assertThrows(bad({ type: "tun", addresses: "fd00::1" }), TypeError, "addresses must be an array");
  assertThrows(bad({ type: "tun", tun_name: "x".repeat(16) }), RangeError, "at most 15");
  assertThrows(bad({ type: "tun", addresses: ["10.0.0.1/8"] }), SyntaxError, "IPv4");
  assertThrows(bad({ type: "tun", routes: ["fd00::1/64"] }), RangeError, "host bits");
  assertThrows(bad({ type: "service" }), TypeError, "service_address is required");
  assertThrows(
    bad({ type: "service", service_address: "/x", service_network: "udp" }),
    RangeError,
    "unixgram",
  );
});
