/**
 * Source address validation (feasible-path uRPF) in namespaces: in a chain m–a–c, m sends echo
 * requests with sources inside a's and c's prefixes (addresses it put on its own TUN). A drops
 * them before they reach its TUN or c's (counted as dropSourceOwn / dropSourceUnfeasible in
 * `status`); m's pings from its own address are still answered.
 */
import { assert, assertEquals } from "./_harness/assert.ts";
import { waitFor } from "./_harness/command.ts";
import { e2eTest } from "./_harness/e2e.ts";
import { type MeshNode, TUN_NAME, withMesh } from "./_harness/mesh.ts";
import { parsePing } from "./_harness/ping.ts";

const A_SPOOF = "fd00:2::99"; // inside a's fd00:2::/48
const C_SPOOF = "fd00:3::99"; // inside c's fd00:3::/48

/** Pings `dst` from `ns` with source `src` (`ping -I`); returns the parsed output. */
async function pingFrom(n: MeshNode, src: string, dst: string, count: number, waitS = 1) {
  const r = await n.ns.exec(
    ["ping", "-6", "-n", "-c", String(count), "-i", "0.05", "-W", String(waitS), "-I", src, dst],
    { timeoutMs: 15_000 },
  );
  return { ...parsePing(r.stdout), output: r.stdout + r.stderr };
}

async function forwarding(n: MeshNode): Promise<Record<string, number>> {
  return (await n.status()).forwarding as Record<string, number>;
}

await e2eTest(
  "a peer's packets with sources it cannot route for are dropped at the first node, its own are answered",
  async () => {
    await withMesh(
      {
        nodes: [
          { name: "m", addresses: ["fd00:1::1/48", `${A_SPOOF}/128`, `${C_SPOOF}/128`] },
          "a",
          "c",
        ],
        links: [["m", "a"], ["a", "c"]],
        label: "urpf",
      },
      async (mesh) => {
        const [m, a, c] = ["m", "a", "c"].map((n) => mesh.node(n));
        await mesh.start();
        await waitFor("m's extra TUN addresses to finish DAD", async () => {
          const out = await m.ns.execOk(["ip", "-6", "addr", "show", "dev", TUN_NAME]);
          return !out.includes("tentative");
        }, { timeoutMs: 10_000 });
        // Source selection would pick the spoofed address closest to the destination: always
        // name the source.
        await waitFor("m's echo replies from c", async () => {
          return (await pingFrom(m, m.address, c.address, 1, 0.3)).received === 1;
        }, { timeoutMs: 30_000, intervalMs: 0 });

        const aTun = await a.ns.counters(TUN_NAME), cTun = await c.ns.counters(TUN_NAME);
        const aFwd = await forwarding(a);
        const spoofed: [string, string][] = [
          [A_SPOOF, a.address], // a's own source, to a
          [C_SPOOF, a.address], // c's source, to a: m is no feasible next hop for it
          [A_SPOOF, c.address], // a's own source, through a to c
          [C_SPOOF, c.address], // c's source, through a to c
        ];
        for (const [src, dst] of spoofed) {
          const r = await pingFrom(m, src, dst, 5);
          assertEquals(r.transmitted, 5, `ping -I ${src} ${dst}: ${r.output}`);
          assertEquals(r.received, 0, `a reply to ${src} from ${dst}`);
        }
        const aTun2 = await a.ns.counters(TUN_NAME), cTun2 = await c.ns.counters(TUN_NAME);
        const aFwd2 = await forwarding(a);
        assertEquals(aTun2.rxPackets - aTun.rxPackets, 0, "spoofed packets reached a's TUN");
        assertEquals(cTun2.rxPackets - cTun.rxPackets, 0, "spoofed packets reached c's TUN");
        assertEquals(aFwd2.dropSourceOwn - aFwd.dropSourceOwn, 10, JSON.stringify(aFwd2));
        assertEquals(
          aFwd2.dropSourceUnfeasible - aFwd.dropSourceUnfeasible,
          10,
          JSON.stringify(aFwd2),
        );

        // m's own source is still answered, by a and through a by c.
        for (const dst of [a.address, c.address]) {
          const r = await pingFrom(m, m.address, dst, 5);
          assertEquals(r.received, 5, r.output);
        }
        const aTun3 = await a.ns.counters(TUN_NAME), cTun3 = await c.ns.counters(TUN_NAME);
        assert(aTun3.rxPackets - aTun2.rxPackets >= 5, "m's own pings did not reach a's TUN");
        assert(cTun3.rxPackets - cTun2.rxPackets >= 5, "m's own pings did not reach c's TUN");
      },
    );
  },
  { programs: ["ip", "ping"] },
);
