/// <reference lib="dom" />
/**
 * Takes `docs/status-page.png`: a six-node mesh in network namespaces (a ring with a chord,
 * and one configured peer that is not running), `http_listen` on node a, and headless Chromium
 * in a's namespace photographing the status page with the path to node d selected. A DC with a
 * whitelist is given to a at start.
 * Needs root, `ip` and /usr/bin/chromium. Everything is removed afterwards.
 *
 * Usage: `deno run -A scripts/screenshot_status.ts [output.png]`
 * @module
 */
import { enableHttp, launchInNetns } from "../tests/_harness/browser.ts";
import { withMesh } from "../tests/_harness/mesh.ts";
import { REPO_ROOT } from "../tests/_harness/vmesh_cli.ts";

const out = Deno.args[0] ?? `${REPO_ROOT}/docs/status-page.png`;

await withMesh(
  {
    nodes: ["a", "b", "c", "d", "e", "f"],
    links: [["a", "b"], ["b", "c"], ["c", "d"], ["d", "e"], ["e", "a"], ["b", "d"], ["a", "f"]],
    label: "shot",
    udp: true,
  },
  async (mesh) => {
    const a = mesh.node("a");
    await enableHttp(a.configPath, "127.0.0.1:9477");
    const running = ["a", "b", "c", "d", "e"];
    // A DC whose whitelist lets every running node announce the mesh's space.
    const whitelist = Object.fromEntries(
      running.map((n) => [mesh.node(n).fqdn, ["fd00::/16,max_prefix_len=48"]]),
    );
    const dc = await mesh.pki.signDc({ prefix_whitelist: whitelist }, `dc-${mesh.tag}`);
    await mesh.start(running.filter((n) => n !== "a"));
    await a.start({ initialDc: dc });
    await mesh.waitConverged(running);
    // A few seconds of pings, so that every link has its measured RTT.
    await new Promise((r) => setTimeout(r, 6000));
    const chromium = await launchInNetns(a.ns);
    try {
      const page = await chromium.browser.newPage({
        viewport: { width: 1500, height: 1000 },
        deviceScaleFactor: 1,
      });
      await page.goto("http://127.0.0.1:9477/");
      await page.waitForFunction(
        (n: number) => document.querySelectorAll("#map g.node").length === n,
        6,
        { timeout: 30_000 },
      );
      await page.click(`#routes tr[data-prefix="${mesh.node("d").prefix}"]`);
      await page.screenshot({ path: out, fullPage: true });
      console.log(`wrote ${out}`);
    } finally {
      await chromium.close();
    }
  },
);
