/// <reference lib="dom" />
/**
 * Headless Chromium for tests, driven by playwright-core, run inside a node's network
 * namespace (through a small wrapper that execs `ip netns exec <ns> chromium`), so that a page
 * served on the namespace's loopback is reachable. Playwright gives every launch a fresh
 * profile directory and removes it on close.
 * @module
 */
import { type Browser, chromium as playwright } from "playwright-core";
import { shellQuote } from "./command.ts";
import type { Netns } from "./netns.ts";

/** Debian's chromium (`apt-get install chromium`). */
export const CHROMIUM = "/usr/bin/chromium";

/** The flags of every launch: headless, no sandbox (root), nothing that talks to the Internet. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

/** Why a browser test cannot run here (`undefined` when it can). */
export async function browserSkip(): Promise<string | undefined> {
  try {
    await Deno.stat(CHROMIUM);
    return undefined;
  } catch {
    return `${CHROMIUM} is missing (apt-get install chromium)`;
  }
}

/** A browser running in a namespace; {@link close} it. */
export interface NetnsBrowser {
  readonly browser: Browser;
  close(): Promise<void>;
}

/** Launches headless Chromium inside `ns`. */
export async function launchInNetns(ns: Netns): Promise<NetnsBrowser> {
  const dir = await Deno.makeTempDir({ prefix: "htt-chromium-" });
  const wrapper = `${dir}/chromium`;
  await Deno.writeTextFile(
    wrapper,
    `#!/bin/sh\nexec ${shellQuote(ns.command([CHROMIUM]))} "$@"\n`,
    { mode: 0o755 },
  );
  try {
    const browser = await playwright.launch({
      executablePath: wrapper,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
    });
    return {
      browser,
      close: async () => {
        await browser.close().catch(() => undefined);
        await Deno.remove(dir, { recursive: true });
      },
    };
  } catch (e) {
    await Deno.remove(dir, { recursive: true });
    throw e;
  }
}

/**
 * Adds `http_listen` (and `http_token`) to a harness node's config file; start the node after.
 */
export async function enableHttp(
  configPath: string,
  listen: string,
  token?: string,
): Promise<void> {
  const config = JSON.parse(await Deno.readTextFile(configPath));
  config.http_listen = listen;
  if (token !== undefined) config.http_token = token;
  await Deno.writeTextFile(configPath, JSON.stringify(config, null, 2) + "\n");
}

/** What the status page shows, read from its DOM. */
export interface StatusPageView {
  /** The map's nodes: label, and whether it is this node / a down peer / highlighted. */
  mapNodes: { key: string; name: string; self: boolean; down: boolean; hl: boolean }[];
  /** Highlighted links of the map. */
  hlLinks: number;
  /** The peers table: name and state. */
  peers: { name: string; state: string }[];
  /** The routes table's prefixes. */
  prefixes: string[];
}

/** Reads {@link StatusPageView} from a page showing the status page. */
export function readStatusPage(page: import("playwright-core").Page): Promise<StatusPageView> {
  return page.evaluate(() => {
    const cls = (e: Element, c: string) => e.classList.contains(c);
    return {
      mapNodes: [...document.querySelectorAll("#map g.node")].map((g) => ({
        key: g.getAttribute("data-key") ?? "",
        name: g.getAttribute("data-name") ?? "",
        self: cls(g, "self"),
        down: cls(g, "down"),
        hl: cls(g, "hl"),
      })),
      hlLinks: document.querySelectorAll("#map line.link.hl").length,
      peers: [...document.querySelectorAll("#peers tr.peer")].map((tr) => ({
        name: tr.getAttribute("data-peer") ?? "",
        state: tr.querySelector(".badge")?.textContent ?? "",
      })),
      prefixes: [...document.querySelectorAll("#routes tr.route")].map((tr) =>
        tr.getAttribute("data-prefix") ?? ""
      ),
    };
  });
}
