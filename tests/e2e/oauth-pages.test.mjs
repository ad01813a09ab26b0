// The OAuth pages in headless Chromium (issue 9): a person signs in, picks the org and
// allows access by clicking, as a browser does, and the browser lands on the client's
// redirect URI with a code. Each page (sign-in, consent, error) is screenshotted at
// 1280 and 320 px wide into .cache/screenshots/ (ignored by git) for people to look at,
// and checked for what a reader needs: labels, lang, no horizontal scrolling at 320 px,
// a CSP that lets the one stylesheet apply, and no request to another origin. The
// connected-apps page is covered signed in (revoking from it) and signed out.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { call, client, useKeyward } from "./helpers.mjs";

const fx = useKeyward({ prefix: "prim" });
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const shots = path.join(root, ".cache", "screenshots");
let browser;
let receiver;
let redirect;
const received = [];

before(async () => {
  mkdirSync(shots, { recursive: true });
  receiver = http.createServer((req, res) => {
    if (req.url.startsWith("/callback")) received.push(req.url);
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<!doctype html><title>callback</title><p>back in the app</p>");
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  redirect = `http://127.0.0.1:${receiver.address().port}/callback`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
});

after(async () => {
  await browser?.close();
  await new Promise((r) => receiver?.close(r));
});

async function check(page, name, width) {
  const problems = await page.evaluate(() => {
    const out = [];
    if (document.documentElement.lang !== "en") out.push("no lang");
    for (const input of document.querySelectorAll("input:not([type=hidden]):not([type=radio])")) {
      if (!document.querySelector(`label[for="${input.id}"]`)) out.push(`input ${input.name} has no label`);
    }
    if (document.documentElement.scrollWidth > window.innerWidth) out.push(`scrolls sideways: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
    const main = document.querySelector("main");
    if (!main || getComputedStyle(main).borderRadius === "0px" && window.innerWidth > 480) out.push("the stylesheet did not apply");
    return out;
  });
  assert.deepEqual(problems, [], `${name} at ${width}px`);
  await page.screenshot({ path: path.join(shots, `oauth-${name}-${width}.png`), fullPage: true });
}

test("a person signs in, picks the org and allows access in Chromium; every page is screenshotted at 1280 and 320 px", async () => {
  const email = `chromium-${Date.now()}@example.com`;
  const password = "chromium-passphrase-1";
  assert.equal((await call(fx.server.origin, "POST", "/auth/signup", { body: { name: "Casey", email, password } })).status, 202);
  fx.server.sql(`UPDATE accounts SET email_verified_at = 1 WHERE email = '${email}'`);
  assert.equal((await client(fx.server.origin, fx.owner.plain_key).post("/v1/members", { email, role: "member" })).status, 202);
  const registered = await call(fx.server.origin, "POST", "/oauth/register", { body: { redirect_uris: [redirect], client_name: "Primitive CLI", token_endpoint_auth_method: "none" } });
  assert.equal(registered.status, 201);
  const url = `${fx.server.origin}/oauth/authorize?${new URLSearchParams({ client_id: registered.body.client_id, redirect_uri: redirect, response_type: "code", code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256", state: "chromium-state" })}`;

  for (const width of [1280, 320]) {
    const context = await browser.newContext({ viewport: { width, height: 800 } });
    const page = await context.newPage();
    const cspErrors = [];
    page.on("console", (m) => /Content Security Policy/.test(m.text()) && cspErrors.push(m.text()));
    // Every request the pages make goes to the service (or, after consent, the client's
    // redirect URI): nothing loads from another origin.
    const foreign = [];
    const allowed = new Set([new URL(fx.server.origin).origin, new URL(redirect).origin]);
    page.on("request", (r) => !allowed.has(new URL(r.url()).origin) && foreign.push(r.url()));
    await page.goto(url);
    await check(page, "sign-in", width);
    await page.getByLabel("Password").fill("wrong-password-here");
    await page.getByLabel("Email").fill(email);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForSelector(".error");
    await check(page, "sign-in-error", width);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForSelector("text=Allow access?");
    await check(page, "consent", width);
    assert.equal(await page.locator('input[name="org_id"]').count(), 2, "the personal org and acme");
    await page.getByRole("button", { name: "Allow" }).click();
    await page.waitForURL(/\/callback\?/);
    const back = new URL(page.url());
    assert.match(back.searchParams.get("code"), /^[A-Za-z0-9_-]{64}$/);
    assert.equal(back.searchParams.get("state"), "chromium-state");
    assert.equal(back.searchParams.get("iss"), fx.server.origin);
    await page.goto(`${fx.server.origin}/settings/connected-apps`);
    await page.waitForSelector("text=Primitive CLI");
    await check(page, "connected-apps", width);
    const before = await page.locator("li.grant").count();
    await page.getByRole("button", { name: "Revoke" }).first().click();
    await page.waitForURL(/connected-apps$/);
    assert.equal(await page.locator("li.grant").count(), before - 1, "one grant revoked from the page");
    await page.goto(`${fx.server.origin}/oauth/authorize?client_id=cli_${"0".repeat(32)}`);
    await check(page, "error", width);
    assert.deepEqual(cspErrors, [], "the page's own stylesheet is allowed by its CSP");
    assert.deepEqual(foreign, [], "nothing loads from another origin");
    await context.close();
    // A browser that never signed in sees the connected-apps sign-in form.
    const fresh = await browser.newContext({ viewport: { width, height: 800 } });
    const signedOut = await fresh.newPage();
    await signedOut.goto(`${fx.server.origin}/settings/connected-apps`);
    await signedOut.waitForSelector("text=Sign in to see the applications");
    await check(signedOut, "connected-apps-sign-in", width);
    await fresh.close();
  }
  assert.equal(received.length, 2, "the browser reached the client's redirect URI once per run");
});
