import { realClock } from "../clock/mod.ts";
import { assert, assertEquals, assertThrows } from "../../tests/_harness/assert.ts";
import { newPacketBatch, packetBatchOf } from "../net/mod.ts";
import { openServiceVif } from "./service.ts";

function ipv6Packet(len: number, tag: number): Uint8Array {
  const p = new Uint8Array(len);
  p[0] = 0x60;
  p[len - 1] = tag;
  return p;
}

/** The test's "service": a Unix datagram socket made with Deno's own API. */
function listenService(path: string): Deno.DatagramConn {
  return Deno.listenDatagram({ transport: "unixpacket", path });
}

Deno.test("ServiceVif exchanges packets with a unixgram service and survives its restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vmt-svc-" });
  const svcPath = `${dir}/svc.sock`;
  let clock = 0;
  const vif = openServiceVif({
    name: "svc",
    address: svcPath,
    localPath: `${dir}/vmesh.sock`,
    clock: { ...realClock, now: () => clock },
  });
  try {
    // Service not up yet: the packet is dropped and counted, nothing throws.
    const p = ipv6Packet(100, 1);
    const out = packetBatchOf([p]);
    assertEquals(vif.write(out), 0);
    assertEquals(vif.connected, false);
    assertEquals(vif.stats.txDropFull, 1);

    let svc = listenService(svcPath);
    assertEquals(vif.write(out), 0, "no retry before the interval");
    clock += 1000;
    assertEquals(vif.write(out), 1);
    assert(vif.connected);
    const [got, from] = await svc.receive();
    assertEquals(got, p);
    assertEquals((from as Deno.UnixAddr).path, `${dir}/vmesh.sock`);

    // The service answers; a non-IPv6 datagram is dropped.
    await svc.send(new Uint8Array([0x45, 0, 0, 0]), from);
    await svc.send(ipv6Packet(120, 2), from);
    const batch = newPacketBatch(2, vif.maxPacketSize());
    const { bufs, sizes } = batch;
    assertEquals(await vif.read(batch), 1);
    assertEquals(sizes[0], 120);
    assertEquals(bufs[0][119], 2);
    assertEquals(vif.stats.rxDropNotIpv6, 1);

    // A foreign sender is ignored.
    const other = listenService(`${dir}/other.sock`);
    await other.send(ipv6Packet(80, 3), from);
    other.close();

    // Restart: the service goes away and comes back at the same path.
    svc.close();
    await Deno.remove(svcPath);
    assertEquals(vif.write(out), 0);
    assertEquals(vif.connected, false);
    svc = listenService(svcPath);
    clock += 1000;
    assertEquals(vif.write(out), 1);
    assertEquals((await svc.receive())[0], p);
    await svc.send(ipv6Packet(64, 4), from);
    const m = await vif.read(batch);
    assertEquals(m, 1);
    assertEquals(bufs[0][63], 4, "the foreign datagram was skipped");
    assertEquals(vif.rxDropForeign, 1);
    svc.close();

    // Closing ends a pending read.
    const pending = vif.read(batch);
    vif.close();
    assertEquals(await pending, 0);
  } finally {
    vif.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openServiceVif() refuses bad options with clear messages", () => {
  assertThrows(() => openServiceVif({ address: "/x", network: "tcp" }), RangeError, "unixgram");
  assertThrows(() => openServiceVif({ address: "/" + "a".repeat(200) }), RangeError, "107 bytes");
  assertThrows(() => openServiceVif({ address: "/x", mtu: 100 }), RangeError, "MTU");
});
