// Shared by the Chromium tests: a static server on a free loopback port serving the
// built package (pkg/) and a few extra routes (pages, bundles), and headless Chromium.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../pkg");
const TYPES = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };
const vendor = { "/vendor/oauth4webapi.js": path.resolve(pkgDir, "../node_modules/oauth4webapi/build/index.js") };

/**
 * For pages that import the package unbundled: maps its one dependency (oauth4webapi, a
 * single self-contained module) to where {@link staticServer} serves it. A bundler
 * resolves it on its own.
 */
export const IMPORT_MAP = `<script type="importmap">${JSON.stringify({ imports: { oauth4webapi: "/vendor/oauth4webapi.js" } })}</script>`;

/**
 * Serves `routes` (path → [content type, body]) and else the files of pkg/ (so
 * `/dist/browser.js` and `/wasm/keyward_wasm_bg.wasm` are where the package expects).
 * Returns `{ origin, requests, close }`; `requests` lists every path asked for.
 */
export async function staticServer(routes = {}) {
  const requests = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    requests.push(url.pathname);
    const route = routes[url.pathname];
    if (route) {
      res.writeHead(200, { "content-type": route[0] }).end(route[1]);
      return;
    }
    const file = vendor[url.pathname] ?? path.join(pkgDir, path.normalize(url.pathname));
    if (!file.startsWith(pkgDir) && !vendor[url.pathname]) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Headless Chromium (Debian's, or CHROMIUM_PATH). */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

/** Opens `url` in a new page and waits for `window.__results`; returns them, the page errors and every URL the page requested. */
export async function resultsOf(browser, url, timeout = 20_000) {
  const page = await browser.newPage();
  const errors = [];
  const requested = [];
  page.on("pageerror", (err) => errors.push(err.message));
  page.on("request", (req) => requested.push(req.url()));
  await page.goto(url);
  await page.waitForFunction(() => window.__results !== undefined, null, { timeout });
  const results = await page.evaluate(() => window.__results);
  await page.close();
  return { results, errors, requested };
}
