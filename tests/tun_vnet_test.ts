/**
 * A TCP flow looped through one TUN with IFF_VNET_HDR and offloads (fd00:30::1 -> X is
 * written back as swap(X) -> fd00:30::1): super-packets appear, pass back whole, and the
 * software segmenter's output is accepted by the kernel's TCP. Needs root.
 */
import { assert, assertEquals } from "./_harness/assert.ts";
import { ignoreUnlessRoot, runChildOk, withNetns } from "./tun_netns.ts";

const ignore = ignoreUnlessRoot();

Deno.test({
  name: "a TCP flow through a vnet TUN is read as TCPv6 super-packets that can be written back",
  ignore,
  fn: () =>
    withNetns(async (ns) => {
      const r = await runChildOk(ns, "vnet", ["whole", "8"]);
      assertEquals(r.identical, true, "8 MiB arrived intact");
      assertEquals(r.peer, "fd00:30::b:a");
      assert(r.superPackets > 0, "no gso_type 4 packet seen");
      assert(r.maxRead > 1500 + 10, `largest read ${r.maxRead} is no super-packet`);
    }),
});

Deno.test({
  name: "segmentSuperPacket() output from real super-packets is valid and accepted by the kernel",
  ignore,
  fn: () =>
    withNetns(async (ns) => {
      const r = await runChildOk(ns, "vnet", ["segment", "4"]);
      assert(r.superPackets > 0, "no super-packet to segment");
      assert(r.segments > r.superPackets, "super-packets were split");
      assertEquals(r.segmentFailures, 0);
      assertEquals(r.badSegments, 0, "every segment's TCP checksum verifies");
      assertEquals(r.oversizeSegments, 0, "every segment fits the MTU");
      assertEquals(r.payloadMismatches, 0, "segments carry the payload in order");
      assertEquals(r.identical, true, "the flow completed over segmented packets");
    }),
});
