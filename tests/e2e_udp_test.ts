/**
 * The encrypted UDP data channel between two real nodes: it carries the traffic, traffic falls
 * back to the TLS session within seconds when UDP is blocked (nftables drop) and returns to UDP
 * when it is unblocked, and a new session sets up the channel again with new keys.
 */
import { assert, assertEquals } from "./_harness/assert.ts";
import { waitFor } from "./_harness/command.ts";
import { e2eTest } from "./_harness/e2e.ts";
import { LISTEN_PORT, type MeshNode, withMesh } from "./_harness/mesh.ts";
import { ping } from "./_harness/ping.ts";

interface UdpView {
  state: string;
  usable: boolean;
  stats: { txPackets: number; rxPackets: number; fallbacks: number } | null;
}

async function peerOf(n: MeshNode) {
  const p = (await n.status()).peers[0];
  assert(p, `${n.fqdn} has no peer`);
  return p as typeof p & { udp: UdpView | null; packetsOut: number };
}

async function udpUsable(n: MeshNode, want: boolean): Promise<boolean> {
  const p = await peerOf(n);
  return p.state === "up" && p.udp?.usable === want;
}

await e2eTest(
  "the UDP channel carries traffic, falls back to TLS while UDP is blocked, returns, and rekeys",
  async () => {
    await withMesh(
      { nodes: ["a", "b"], links: [["a", "b"]], label: "udp", udp: true },
      async (mesh) => {
        const [a, b] = [mesh.node("a"), mesh.node("b")];
        await mesh.start();
        await waitFor("the UDP channel to be usable", () => udpUsable(a, true));

        let r = await ping(a.ns, b.address, { count: 10, intervalS: 0.02 });
        assertEquals(r.received, 10, r.output);
        const viaUdp = (await peerOf(a)).udp!.stats!;
        assert(viaUdp.txPackets >= 10, `pings did not use UDP: ${JSON.stringify(viaUdp)}`);

        // Block UDP into B: A's datagrams are lost, B's still arrive.
        const nft = (...args: string[]) => b.ns.execOk(["nft", ...args]);
        await nft("add", "table", "inet", "vmesh_test");
        await nft(
          "add",
          "chain",
          "inet",
          "vmesh_test",
          "input",
          "{ type filter hook input priority 0 ; }",
        );
        await nft(
          "add",
          "rule",
          "inet",
          "vmesh_test",
          "input",
          "udp",
          "dport",
          `${LISTEN_PORT}`,
          "drop",
        );
        const blocked = performance.now();
        await waitFor("A to fall back to TLS", () => udpUsable(a, false), { timeoutMs: 15_000 });
        const fallbackMs = performance.now() - blocked;
        console.log(`udp: fell back to TLS ${fallbackMs.toFixed(0)} ms after UDP was blocked`);
        assert(fallbackMs < 6000, `fallback took ${fallbackMs.toFixed(0)} ms`);
        const tlsBefore = (await peerOf(a)).packetsOut;
        r = await ping(a.ns, b.address, { count: 5, intervalS: 0.05 });
        assertEquals(r.received, 5, `no traffic while UDP is blocked:\n${r.output}`);
        assert((await peerOf(a)).packetsOut >= tlsBefore + 5, "the pings did not go over TLS");

        await nft("delete", "table", "inet", "vmesh_test");
        const unblocked = performance.now();
        await waitFor("UDP to be usable again", () => udpUsable(a, true), { timeoutMs: 15_000 });
        console.log(
          `udp: back on UDP ${(performance.now() - unblocked).toFixed(0)} ms after unblocking`,
        );
        const udpBefore = (await peerOf(a)).udp!.stats!.txPackets;
        r = await ping(a.ns, b.address, { count: 5, intervalS: 0.05 });
        assertEquals(r.received, 5, r.output);
        assert((await peerOf(a)).udp!.stats!.txPackets >= udpBefore + 5, "UDP not used again");

        // A new session (B restarts) sets the channel up again, with keys from the new session.
        await b.stop();
        await b.start();
        await waitFor("a new session's UDP channel", () => udpUsable(a, true), {
          timeoutMs: 20_000,
        });
        const setups = (await a.log()).match(/UDP channel to \S+ set up/g) ?? [];
        assertEquals(setups.length, 2, "one channel setup per session");
        r = await ping(a.ns, b.address, { count: 5, intervalS: 0.05 });
        assertEquals(r.received, 5, r.output);
        assert((await peerOf(a)).udp!.stats!.txPackets >= 5, "the new channel carries traffic");
      },
    );
  },
  { programs: ["ip", "ping", "nft"] },
);
