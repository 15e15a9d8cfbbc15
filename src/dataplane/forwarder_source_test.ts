/** The forwarder's source address validation (uRPF) on packets from peers. */
import { assertEquals } from "../../tests/_harness/assert.ts";
import { addressInPrefix, packetBatchOf, parseIpv6, parsePrefix } from "../net/mod.ts";
import { CountingVif, udpHeaderPacket as packet } from "../../tests/_harness/packets.ts";
import { Forwarder, type SourceCheck } from "./forwarder.ts";

/** fd00:1::/48 is ours; peer "b" is feasible for fd00:b::/48 only. */
const table: SourceCheck = {
  check(buf, off, peerId) {
    if (addressInPrefix(buf, off, parsePrefix("fd00:1::/48"))) return "own";
    if (peerId === "b" && addressInPrefix(buf, off, parsePrefix("fd00:b::/48"))) return "ok";
    return "unfeasible";
  },
};

function setup() {
  const vif = new CountingVif("tun0");
  const fwd = new Forwarder({ routerAddress: parseIpv6("fd00:1::1"), clock: { now: () => 0 } });
  fwd.attachVif("tun0", vif);
  const local = parsePrefix("fd00:1::/48");
  fwd.setFib({
    lookup: (buf, off) =>
      addressInPrefix(buf, off, local) ? { kind: "local", target: "tun0" } : undefined,
  });
  return { vif, fwd };
}

Deno.test("Forwarder drops and counts packets from a peer whose source it is no feasible next hop for, or ours", () => {
  const { vif, fwd } = setup();
  fwd.setSourceCheck(table);
  fwd.fromPeer(
    "b",
    packetBatchOf([
      packet("fd00:b::7", "fd00:1::5"), // ok
      packet("fd00:1::9", "fd00:1::5"), // our own source
      packet("fd00:c::7", "fd00:1::5"), // b cannot route fd00:c::/48
    ]),
  );
  fwd.fromPeer("c", packetBatchOf([packet("fd00:b::7", "fd00:1::5")])); // c is not feasible for b's
  assertEquals(vif.written, 1);
  assertEquals(fwd.stats.dropSourceOwn, 1);
  assertEquals(fwd.stats.dropSourceUnfeasible, 2);
  assertEquals(fwd.stats.fromPeer, 4);
});

Deno.test("Forwarder accepts nothing from peers until a source table is installed", () => {
  const { vif, fwd } = setup();
  fwd.fromPeer("b", packetBatchOf([packet("fd00:b::7", "fd00:1::5")]));
  assertEquals(vif.written, 0);
  assertEquals(fwd.stats.dropSourceUnfeasible, 1);
});

Deno.test("Forwarder leaves packets from vifs to the FIB alone (no source check)", () => {
  const { vif, fwd } = setup();
  const p = packet("fd00:c::7", "fd00:1::5");
  fwd.fromVif(packetBatchOf([p]));
  assertEquals(vif.written, 1);
});

Deno.test("Forwarder counts a packet too short for a source address as malformed, not as a source drop", () => {
  const { fwd } = setup();
  fwd.setSourceCheck(table);
  fwd.fromPeer("b", packetBatchOf([new Uint8Array(20).fill(0x60, 0, 1)]));
  assertEquals(fwd.stats.dropMalformed, 1);
  assertEquals(fwd.stats.dropSourceUnfeasible, 0);
});
