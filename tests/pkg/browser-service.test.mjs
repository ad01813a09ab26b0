// `Client` in headless Chromium against a real `wrangler dev`, through CORS: a page on
// one loopback origin imports the built package and calls the service on another (the
// server started with CORS_ALLOWED_ORIGINS = that page's origin): whoami, a binary
// putKey/getKey round trip, listKeys over pages, a PermissionError and an
// AuthenticationError with their messages and request ids. A page of an origin the
// service does not allow gets a NetworkError (the browser withholds the answer). No wasm
// is requested: Client needs none.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Client } from "../../pkg/dist/node.js";
import { bootstrap, keyward } from "../e2e/helpers.mjs";
import { IMPORT_MAP, launchChromium, staticServer } from "./browser-helpers.mjs";

const PAGE = `<!doctype html><meta charset="utf-8"><title>keyward app</title>
${IMPORT_MAP}
<script type="module">
  import * as kw from "/dist/browser.js";
  window.kw = kw;
  window.__ready = true;
</script>`;

let pages;
let server;
let browser;
let granted; // a key of the namespace "myapp" only

before(async () => {
  pages = await staticServer({ "/": ["text/html", PAGE] });
  server = await keyward({ prefix: "ptmc", vars: { CORS_ALLOWED_ORIGINS: pages.origin } });
  const owner = await bootstrap(server);
  const admin = new Client({ endpoint: server.origin, token: owner.plain_key });
  await admin.namespaces.create("myapp");
  await admin.namespaces.create("other");
  granted = (await admin.apiKeys.create({ name: "browser app", namespaces: ["myapp"] })).plain_key;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await pages?.close();
  await server?.stop();
  server?.cleanup();
});

/** Opens the app page at `origin` and runs `fn(args)` inside it (with `window.kw`). */
async function inPage(origin, fn, args) {
  const page = await browser.newPage();
  const errors = [];
  const requested = [];
  page.on("pageerror", (err) => errors.push(err.message));
  page.on("request", (req) => requested.push(req.url()));
  await page.goto(origin);
  await page.waitForFunction(() => window.__ready === true, null, { timeout: 15_000 });
  const results = await page.evaluate(fn, args);
  await page.close();
  return { results, errors, requested };
}

/** A plain object of an error, for the trip out of the page. */
const describe = `(e) => ({ name: e.name, message: e.message, status: e.status, code: e.code, requestId: e.requestId, keyward: e instanceof window.kw.KeywardError })`;

test("Chromium, cross-origin through CORS: whoami, a binary round trip, listKeys, PermissionError, AuthenticationError", async () => {
  const { results, errors, requested } = await inPage(
    pages.origin,
    async ({ endpoint, token, describe }) => {
      const { Client, PermissionError, AuthenticationError } = window.kw;
      const toPlain = eval(describe);
      const client = new Client({ endpoint, token });
      const out = {};
      out.whoami = await client.whoami();
      const bytes = Uint8Array.from([0, 1, 2, 127, 128, 253, 254, 255]);
      out.put = await client.putKey("myapp", "from/the browser", bytes);
      out.back = Array.from(await client.getKey("myapp", "from/the browser"));
      out.missing = await client.getKey("myapp", "nothing here");
      await client.putKey("myapp", "second", "2");
      out.keys = [];
      for await (const key of client.listKeys("myapp", { limit: 1 })) out.keys.push(key);
      try {
        await client.putKey("other", "mykey", "value");
      } catch (e) {
        out.denied = { ...toPlain(e), isPermission: e instanceof PermissionError };
      }
      try {
        await new Client({ endpoint, token: `ptmc_${"A".repeat(43)}` }).whoami();
      } catch (e) {
        out.refused = { ...toPlain(e), isAuthentication: e instanceof AuthenticationError };
      }
      return out;
    },
    { endpoint: server.origin, token: granted, describe },
  );
  assert.deepEqual(errors, []);
  assert.equal(results.whoami.auth_method, "api_key");
  assert.deepEqual(results.whoami.namespaces, ["myapp"]);
  assert.deepEqual(results.put, { namespace: "myapp", key: "from/the browser", size: 8 });
  assert.deepEqual(results.back, [0, 1, 2, 127, 128, 253, 254, 255]);
  assert.equal(results.missing, null);
  assert.deepEqual(results.keys, ["from/the browser", "second"]);

  assert.equal(results.denied.isPermission, true);
  assert.equal(results.denied.name, "PermissionError");
  assert.equal(results.denied.status, 403);
  assert.ok(results.denied.message.toLowerCase().includes("permission"), results.denied.message);
  assert.match(results.denied.requestId, /^req_/);
  assert.equal(results.refused.isAuthentication, true);
  assert.equal(results.refused.status, 401);
  assert.ok(results.refused.message.toLowerCase().includes("authentication"), results.refused.message);
  assert.match(results.refused.requestId, /^req_/);
  assert.ok(!requested.some((u) => u.endsWith(".wasm")), "Client loads no wasm");
});

test("Chromium: a page of an origin the service does not allow cannot read its answers (NetworkError)", async () => {
  // The same page on http://localhost:<port> is another origin than http://127.0.0.1:<port>.
  const otherOrigin = pages.origin.replace("127.0.0.1", "localhost");
  const { results, errors } = await inPage(
    otherOrigin,
    async ({ endpoint, token, describe }) => {
      try {
        await new window.kw.Client({ endpoint, token, retries: 0 }).whoami();
        return { answered: true };
      } catch (e) {
        return eval(describe)(e);
      }
    },
    { endpoint: server.origin, token: granted, describe },
  );
  assert.deepEqual(errors, []);
  assert.equal(results.name, "NetworkError");
  assert.equal(results.code, "network_error");
  assert.equal(results.keyward, true);
});
