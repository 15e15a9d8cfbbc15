import { assertEquals } from "../../tests/_harness/assert.ts";
import { AUTO_HOLD_BYTES, peerSink, type TlsSide, type UdpSide } from "./peer_sink.ts";

/** Records which path each packet (identified by its first byte) took. */
function sides(opts: { usable?: boolean; backlog?: number; udpTakes?: boolean } = {}) {
  const log: string[] = [];
  const tls: TlsSide = {
    sendPacket: (p) => (log.push(`tls ${p[0]} ${p.length}`), true),
    flush: () => log.push("tls flush"),
    sendBacklog: () => opts.backlog ?? 0,
  };
  const udp: UdpSide = {
    usable: opts.usable ?? true,
    send: (p) => (opts.udpTakes ?? true) ? (log.push(`udp ${p[0]} ${p.length}`), true) : false,
    flush: () => log.push("udp flush"),
  };
  return { log, tls, udp };
}
const pkt = (id: number, len = 100) => new Uint8Array(len).fill(id);

Deno.test("auto: a lone packet takes a usable UDP channel when TLS is idle", () => {
  const { log, tls, udp } = sides();
  const s = peerSink("auto", tls, udp);
  const p = pkt(1);
  s.sendPacket(p, false);
  p.fill(9); // the sink holds a copy, not the borrowed buffer
  s.flush();
  assertEquals(log, ["udp 1 100", "udp flush", "tls flush"]);
});

Deno.test("auto: a batch of several packets goes over TLS, in order", () => {
  const { log, tls, udp } = sides();
  const s = peerSink("auto", tls, udp);
  for (const id of [1, 2, 3]) s.sendPacket(pkt(id), false);
  s.flush();
  s.sendPacket(pkt(4), false); // the next batch starts afresh
  s.flush();
  assertEquals(log, [
    "tls 1 100",
    "tls 2 100",
    "tls 3 100",
    "udp flush",
    "tls flush",
    "udp 4 100",
    "udp flush",
    "tls flush",
  ]);
});

Deno.test("auto: TLS with queued bytes, an unusable channel or a refusal keep a lone packet on TLS", () => {
  for (const opts of [{ backlog: 1 }, { usable: false }, { udpTakes: false }]) {
    const { log, tls, udp } = sides(opts);
    const s = peerSink("auto", tls, udp);
    s.sendPacket(pkt(1), true);
    s.flush();
    assertEquals(log, ["tls 1 100", "udp flush", "tls flush"], JSON.stringify(opts));
  }
});

Deno.test("auto: a packet larger than a datagram goes straight to TLS", () => {
  const { log, tls, udp } = sides();
  const s = peerSink("auto", tls, udp);
  s.sendPacket(pkt(1, AUTO_HOLD_BYTES + 1), true);
  s.flush();
  assertEquals(log, [`tls 1 ${AUTO_HOLD_BYTES + 1}`, "udp flush", "tls flush"]);
});

Deno.test("always sends every packet over UDP; without a channel the session alone is used", () => {
  const a = sides();
  const always = peerSink("always", a.tls, a.udp);
  for (const id of [1, 2]) always.sendPacket(pkt(id), false);
  always.flush();
  assertEquals(a.log, ["udp 1 100", "udp 2 100", "udp flush", "tls flush"]);
  const n = sides();
  assertEquals(peerSink("auto", n.tls, undefined), n.tls);
});
