// The built package in headless Chromium, served from loopback: the helpers load the
// wasm only when `ready()` is awaited (and say so if called earlier), then agree with the
// RFC 7636 and Standard Webhooks vectors exactly as in Node; an esbuild bundle of an app
// that only uses `Client` requests no wasm, and one that uses the helpers loads it from
// beside the bundle's `../wasm/` and works.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { bundleApp } from "../../scripts/pkg-size.mjs";
import { IMPORT_MAP, launchChromium, resultsOf, staticServer } from "./browser-helpers.mjs";

const VECTORS = `
  results.challenge = kw.pkce.challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
  results.signature = kw.signWebhook('{"test": 2432232314}', "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  results.parsed = kw.parseKey("ptmc_zI7yqBgWoCemHre5bJA3t_g8elCHlB7fK6mNk1tIan0");
  try { kw.pkce.verify(results.challenge, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "plain"); }
  catch (e) { results.plainError = { name: e.name, code: e.code, isKeyward: e instanceof kw.KeywardError }; }
  try { kw.checkNamespaceName("Not Valid"); } catch (e) { results.nameError = e.code; }
  results.verifier = kw.pkce.generateVerifier();`;

const PAGE = `<!doctype html><meta charset="utf-8"><title>keyward</title>
${IMPORT_MAP}
<script type="module">
  import * as kw from "/dist/browser.js";
  const results = {};
  try { kw.parseKey("ptmc_zI7yqBgWoCemHre5bJA3t_g8elCHlB7fK6mNk1tIan0"); }
  catch (e) { results.early = { name: e.name, code: e.code, message: e.message }; }
  results.wasmBeforeReady = performance.getEntriesByType("resource").some((r) => r.name.endsWith(".wasm"));
  await kw.ready();
  ${VECTORS}
  window.__results = results;
</script>`;

const CLIENT_APP = `import { Client } from "keyward";
const client = new Client({ endpoint: "http://127.0.0.1:9", token: "t", retries: 0, timeoutMs: 2000 });
client.whoami().then(() => "answered", (e) => e.name).then((outcome) => { window.__results = { outcome, endpoint: client.endpoint }; });`;

const HELPERS_APP = `import * as kw from "keyward";
const results = {};
await kw.ready();
${VECTORS}
window.__results = results;`;

const page = (script) => `<!doctype html><meta charset="utf-8"><script type="module" src="${script}"></script>`;

let server;
let browser;

before(async () => {
  const clientBundle = await bundleApp(CLIENT_APP);
  const helpersBundle = await bundleApp(HELPERS_APP);
  server = await staticServer({
    "/": ["text/html", PAGE],
    "/bundle/client.html": ["text/html", page("/bundle/client.js")],
    "/bundle/client.js": ["text/javascript", clientBundle.code],
    "/bundle/helpers.html": ["text/html", page("/bundle/helpers.js")],
    "/bundle/helpers.js": ["text/javascript", helpersBundle.code],
  });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

function assertVectors(results) {
  assert.equal(results.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  assert.equal(results.signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  assert.deepEqual(results.parsed, { scheme: "lookup", keyPrefix: "ptmc_zI7yqBg", credentialId: null });
  assert.deepEqual(results.plainError, { name: "ValidationError", code: "unsupported_challenge_method", isKeyward: true });
  assert.equal(results.nameError, "invalid_namespace");
  assert.match(results.verifier, /^[A-Za-z0-9_-]{43}$/);
}

test("the built package in Chromium: no wasm until ready(), a clear error before it, then the vectors", async () => {
  const { results, errors, requested } = await resultsOf(browser, server.origin);
  assert.deepEqual(errors, []);
  assert.equal(results.early.name, "KeywardError");
  assert.equal(results.early.code, "wasm_not_ready");
  assert.match(results.early.message, /await ready\(\)/);
  assert.equal(results.wasmBeforeReady, false);
  assert.equal(requested.filter((u) => u.endsWith(".wasm")).length, 1, "fetched once, by ready()");
  assertVectors(results);
});

test("an esbuild bundle of an app using only Client requests no wasm and no glue", async () => {
  const { results, errors, requested } = await resultsOf(browser, `${server.origin}/bundle/client.html`);
  assert.deepEqual(errors, []);
  assert.equal(results.outcome, "NetworkError", "nothing listens on port 9 (and the minified class keeps its name)");
  assert.equal(results.endpoint, "http://127.0.0.1:9");
  const fromServer = requested.filter((u) => u.startsWith(server.origin)).map((u) => new URL(u).pathname);
  assert.deepEqual(fromServer, ["/bundle/client.html", "/bundle/client.js"]);
  assert.ok(!requested.some((u) => u.endsWith(".wasm")));
});

test("an esbuild bundle using the helpers loads the wasm beside it on ready() and agrees on the vectors", async () => {
  const { results, errors, requested } = await resultsOf(browser, `${server.origin}/bundle/helpers.html`);
  assert.deepEqual(errors, []);
  assert.ok(requested.some((u) => new URL(u).pathname === "/wasm/keyward_wasm_bg.wasm"));
  assertVectors(results);
});
