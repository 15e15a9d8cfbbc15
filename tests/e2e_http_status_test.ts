/// <reference lib="dom" />
/**
 * The status page in a real browser: a mesh a–b–c plus d (a configured peer of a that is not
 * running); a serves http_listen with a token on its namespace's loopback, and headless
 * Chromium (in a's namespace) loads the page and finds every node on the map, every peer in
 * the peers table, the path to c highlighted when c's prefix is clicked, and c's ID in the
 * hover card, with no error or Content-Security-Policy violation on the console; `/metrics`
 * of the same endpoint shows the peers up and down. The nodes run a DC that revokes d's name
 * and a key: the DC panel lists both and the peers table says why d is not dialled; a newer DC
 * revoking a itself, applied with `vmesh dc apply`, makes the page say so.
 */
import { assert, assertEquals, assertStringIncludes } from "./_harness/assert.ts";
import { browserSkip, enableHttp, launchInNetns, readStatusPage } from "./_harness/browser.ts";
import { e2eTest } from "./_harness/e2e.ts";
import { withMesh } from "./_harness/mesh.ts";
import { vmesh } from "./_harness/vmesh_cli.ts";

const TOKEN = "e2e-status-page-token-0123456789";
const skip = await browserSkip();
if (skip) console.warn(`skipping the status page test: ${skip}`);

await e2eTest(
  "the status page shows every node on the map and every peer in the peers table (Chromium)",
  async () => {
    if (skip) return;
    await withMesh(
      {
        nodes: ["a", "b", "c", "d"],
        links: [["a", "b"], ["b", "c"], ["a", "d"]],
        label: "http",
      },
      async (mesh) => {
        const [a, b, c, d] = ["a", "b", "c", "d"].map((n) => mesh.node(n));
        await enableHttp(a.configPath, "127.0.0.1:9477", TOKEN);
        const revokedKey = "ab".repeat(32);
        const initialDc = await mesh.pki.signDc(
          { prefix_whitelist: {}, revoked_names: [d.fqdn], revoked_keys: [revokedKey] },
          `dc-${mesh.tag}`,
        );
        await mesh.start(["a", "b", "c"], { initialDc });
        await mesh.waitConverged(["a", "b", "c"]);
        assertStringIncludes(await a.log(), "HTTP endpoint on http://127.0.0.1:9477/");
        assert(!(await a.log()).includes(TOKEN), "the token appears in a's log");

        const chromium = await launchInNetns(a.ns);
        try {
          const context = await chromium.browser.newContext({
            extraHTTPHeaders: { authorization: `Bearer ${TOKEN}` },
            viewport: { width: 1400, height: 1000 },
          });
          const page = await context.newPage();
          const problems: string[] = [];
          page.on("console", (m) => {
            if (m.type() === "error" || m.type() === "warning") problems.push(m.text());
          });
          page.on("pageerror", (e) => problems.push(String(e)));
          const res = await page.goto("http://127.0.0.1:9477/", { timeout: 30_000 });
          assertEquals(res?.status(), 200);

          // Nodes are keyed by ID (d, never up, by name); c is labelled by its name once a
          // learns it, else by its short ID.
          const keys = [await a.id(), await b.id(), await c.id(), `name:${d.fqdn}`].sort();
          const cLabels = [c.fqdn, (await c.id()).slice(0, 12)];
          await page.waitForFunction(
            (want: string[]) => {
              const got = [...document.querySelectorAll("#map g.node")]
                .map((g) => g.getAttribute("data-key")).sort();
              return JSON.stringify(got) === JSON.stringify(want);
            },
            keys,
            { timeout: 30_000, polling: 200 },
          ).catch(async (e) => {
            const seen = await readStatusPage(page).catch((x) => String(x));
            const error = await page.textContent("#error").catch(() => "");
            throw new Error(
              `the map never showed ${keys.join(", ")}: ${JSON.stringify(seen)}; ` +
                `page error: ${error}; console: ${JSON.stringify(problems)}`,
              { cause: e },
            );
          });
          const view = await readStatusPage(page);
          const label = (key: string) => view.mapNodes.find((n) => n.key === key)?.name;
          assertEquals(view.mapNodes.map((n) => n.key).sort(), keys);
          assertEquals(label(await a.id()), a.fqdn);
          assertEquals(label(await b.id()), b.fqdn);
          assert(
            cLabels.includes(label(await c.id()) ?? ""),
            `c is labelled ${label(await c.id())}`,
          );
          assertEquals(label(`name:${d.fqdn}`), d.fqdn);
          assertEquals(view.mapNodes.filter((n) => n.self).map((n) => n.name), [a.fqdn]);
          assertEquals(view.mapNodes.filter((n) => n.down).map((n) => n.name), [d.fqdn]);
          assertEquals(
            view.peers.sort((x, y) => x.name.localeCompare(y.name)),
            [{ name: b.fqdn, state: "up" }, { name: d.fqdn, state: "down" }],
          );
          for (const n of [a, b, c]) assert(view.prefixes.includes(n.prefix), n.prefix);

          // Selecting c's prefix highlights a → b → c.
          await page.click(`#routes tr[data-prefix="${c.prefix}"]`);
          const hl = await readStatusPage(page);
          assertEquals(
            hl.mapNodes.filter((n) => n.hl).map((n) => n.key).sort(),
            [await a.id(), await b.id(), await c.id()].sort(),
          );
          assertEquals(hl.hlLinks, 2);

          // Hovering c shows its name, ID and prefix.
          await page.hover(`#map g.node[data-key="${await c.id()}"]`);
          const tip = await page.textContent("#tip");
          assert(cLabels.some((l) => tip?.includes(l)), `tooltip: ${tip}`);
          assertStringIncludes(tip ?? "", await c.id());
          assertStringIncludes(tip ?? "", c.prefix);
          assertEquals(await page.isVisible("#tip"), true);

          // The DC panel lists what the DC revokes; the peers table says why d is not dialled.
          await page.waitForSelector("#peers .not-dialled", { timeout: 30_000 });
          assertStringIncludes(
            await page.textContent(`#peers tr[data-peer="${d.fqdn}"] .not-dialled`) ?? "",
            "revoked",
          );
          const revokedRows = await page.$$eval(
            "#dc tr.revoked",
            (rows) => rows.map((r) => `${r.getAttribute("data-kind")} ${r.textContent}`),
          );
          assertEquals(revokedRows, [`name name${d.fqdn}`, `key key${revokedKey}`]);
          assertEquals(await page.isVisible("#revoked"), false);

          assertEquals(problems, [], "console errors or CSP violations");

          // The same endpoint serves the node's Prometheus metrics (fetched by the page, which
          // runs in a's namespace and sends the token).
          const [status, text] = await page.evaluate(async () => {
            const r = await fetch("/metrics");
            return [r.status, await r.text()] as const;
          });
          assertEquals(status, 200);
          assertStringIncludes(text, `vmesh_peer_up{peer="${b.fqdn}"} 1`);
          assertStringIncludes(text, `vmesh_peer_up{peer="${d.fqdn}"} 0`);
          assertStringIncludes(text, "vmesh_routes 3");

          // A newer DC that revokes a itself: a closes everything and the page says so.
          const ownDc = await mesh.pki.signDc(
            { prefix_whitelist: {}, revoked_names: [d.fqdn, a.fqdn] },
            `dc-own-${mesh.tag}`,
          );
          await vmesh(["dc", "apply", ownDc, "--control", a.controlSocket]);
          await page.waitForSelector("#revoked", { state: "visible", timeout: 30_000 });
          assertStringIncludes(await page.textContent("#revoked") ?? "", "revoked by the DC");
          await context.close();
        } finally {
          await chromium.close();
        }
      },
    );
  },
  { programs: ["ip", "ping"] },
);
