import { assert, assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import { openVif, openVifs, VifOpenError } from "./open_vifs.ts";

Deno.test("openVif() builds a dummy vif named after its key", () => {
  const vif = openVif("relay", { type: "dummy" });
  assertEquals(vif.name, "relay");
  vif.close();
});

Deno.test("openVif() names the vif key when the vif cannot be opened", () => {
  assertThrows(
    () =>
      openVif("main", {
        type: "tun",
        tunName: "x".repeat(16),
        addresses: [],
        routes: [],
        mtu: undefined,
        offload: false,
      }),
    VifOpenError,
    "vifs.main: interface name",
  );
  assertThrows(
    () =>
      openVif("svc", {
        type: "service",
        serviceName: "svc",
        serviceNetwork: "unixgram",
        serviceAddress: "/" + "x".repeat(200),
      }),
    VifOpenError,
    "vifs.svc: service_address",
  );
});

Deno.test("openVifs() closes the vifs already opened when a later one fails", () => {
  const err = assertThrows(() =>
    openVifs(
      new Map([
        ["a", { type: "dummy" } as const],
        [
          "b",
          {
            type: "service",
            serviceName: "b",
            serviceNetwork: "unixgram",
            serviceAddress: "",
          } as const,
        ],
      ]),
    ), VifOpenError);
  assert(err.message.startsWith("vifs.b:"));
});
