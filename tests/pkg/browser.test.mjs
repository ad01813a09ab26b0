// The built package in headless Chromium: a page served on loopback imports
// `pkg/dist/browser.js` (which fetches the wasm beside it) and checks the RFC 7636 and
// Standard Webhooks vectors, exactly as the Node test does.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../pkg");
const TYPES = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };

const PAGE = `<!doctype html><meta charset="utf-8"><title>keyward</title>
<script type="module">
  import * as kw from "/dist/browser.js";
  const results = {};
  results.challenge = kw.pkce.challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
  results.signature = kw.signWebhook('{"test": 2432232314}', "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  results.parsed = kw.parseKey("ptmc_zI7yqBgWoCemHre5bJA3t_g8elCHlB7fK6mNk1tIan0");
  try { kw.pkce.verify(results.challenge, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "plain"); }
  catch (e) { results.plainError = { name: e.name, code: e.code, isKeyward: e instanceof kw.KeywardError }; }
  results.verifier = kw.pkce.generateVerifier();
  window.__results = results;
</script>`;

let server;
let origin;
let browser;

before(async () => {
  server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    if (url.pathname === "/") {
      res.writeHead(200, { "content-type": "text/html" }).end(PAGE);
      return;
    }
    const file = path.join(pkgDir, path.normalize(url.pathname));
    if (!file.startsWith(pkgDir)) {
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
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

test("the built package runs in headless Chromium and agrees on the vectors", async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (err) => errors.push(err.message));
  await page.goto(origin);
  await page.waitForFunction(() => window.__results !== undefined, null, { timeout: 15000 });
  const results = await page.evaluate(() => window.__results);
  assert.deepEqual(errors, []);
  assert.equal(results.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  assert.equal(results.signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  assert.deepEqual(results.parsed, { scheme: "lookup", keyPrefix: "ptmc_zI7yqBg", credentialId: null });
  assert.deepEqual(results.plainError, { name: "ValidationError", code: "unsupported_challenge_method", isKeyward: true });
  assert.match(results.verifier, /^[A-Za-z0-9_-]{43}$/);
  await page.close();
});
