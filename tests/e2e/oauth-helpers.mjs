// Shared by the OAuth end-to-end tests: discovery and registration through oauth4webapi,
// a person in two orgs, the authorization pages driven over HTTP forms with a
// cookie-keeping fetch, and the code exchange. `oauthKit(fx)` binds them to a server
// fixture from `useKeyward`.
import assert from "node:assert/strict";
import * as oauth from "oauth4webapi";
import { call, client } from "./helpers.mjs";

export const insecure = { [oauth.allowInsecureRequests]: true };
export const REDIRECT = "http://127.0.0.1:4567/callback";

/** Hidden inputs of a page's form, unescaped. */
export const formOf = (html) =>
  Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
      m[1],
      m[2].replaceAll("&amp;", "&").replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&lt;", "<").replaceAll("&gt;", ">"),
    ]),
  );

/** A form POST to `/oauth/token` (or `path`). */
export const formPost = (origin, body, path = "/oauth/token") =>
  call(origin, "POST", path, { raw: new URLSearchParams(body).toString(), headers: { "content-type": "application/x-www-form-urlencoded" } });

export function oauthKit(fx, { clientName = "Primitive <CLI> & co" } = {}) {
  const ctx = {};

  /** A fetch that keeps one browser's cookie and never follows redirects. */
  function browser() {
    let cookie = "";
    return async (url, init = {}) => {
      const headers = new Headers(init.headers);
      if (cookie) headers.set("cookie", cookie);
      const r = await fetch(new URL(url, fx.server.origin), { ...init, headers, redirect: "manual" });
      const set = r.headers.get("set-cookie");
      if (set) cookie = set.split(";")[0];
      return r;
    };
  }

  async function person() {
    const email = `pat-${Date.now()}-${Math.random().toString(16).slice(2)}@example.com`;
    const password = "pat-passphrase-77";
    assert.equal((await call(fx.server.origin, "POST", "/auth/signup", { body: { name: "Pat", email, password } })).status, 202);
    fx.server.sql(`UPDATE accounts SET email_verified_at = 1 WHERE email = '${email}'`);
    assert.equal((await client(fx.server.origin, fx.owner.plain_key).post("/v1/members", { email, role: "admin" })).status, 202);
    return { email, password };
  }

  /** Runs the pages for `who` and returns the callback URL the browser was sent to. */
  async function authorize(who, { org, state = oauth.generateRandomState(), challenge } = {}) {
    const url = new URL(ctx.as.authorization_endpoint);
    for (const [k, v] of Object.entries({ client_id: ctx.client.client_id, redirect_uri: REDIRECT, response_type: "code", code_challenge: challenge, code_challenge_method: "S256", state })) url.searchParams.set(k, v);
    return { ...(await approve(url, who, { org })), state };
  }

  /**
   * Opens the authorization request `url` (built by any client) in a fresh browser, signs
   * `who` in, picks `org` (default: the first offered) and approves. Returns the callback
   * URL the last 303 sends the browser to (not followed), the orgs offered, and the browser.
   */
  async function approve(url, who, { org } = {}) {
    const go = browser();
    const signIn = await go(url);
    assert.equal(signIn.status, 200);
    const form = formOf(await signIn.text());
    const signedIn = await go("/oauth/authorize", { method: "POST", body: new URLSearchParams({ ...form, action: "signin", email: who.email, password: who.password }) });
    assert.equal(signedIn.status, 303, await signedIn.clone().text());
    const consent = await go(signedIn.headers.get("location"));
    const html = await consent.text();
    assert.match(html, /Allow access\?/);
    const orgs = [...html.matchAll(/name="org_id" value="([^"]+)"/g)].map((m) => m[1]);
    const approved = await go("/oauth/authorize", { method: "POST", body: new URLSearchParams({ ...formOf(html), action: "approve", org_id: org ?? orgs[0] }) });
    assert.equal(approved.status, 303);
    return { callback: new URL(approved.headers.get("location")), orgs, go };
  }

  async function codeFlow(who, opts = {}) {
    const verifier = oauth.generateRandomCodeVerifier();
    const challenge = await oauth.calculatePKCECodeChallenge(verifier);
    const { callback, state, orgs } = await authorize(who, { ...opts, challenge });
    const params = oauth.validateAuthResponse(ctx.as, ctx.client, callback, state);
    return { params, verifier, orgs, callback };
  }

  async function exchange(params, verifier) {
    const r = await oauth.authorizationCodeGrantRequest(ctx.as, ctx.client, oauth.None(), params, REDIRECT, verifier, insecure);
    return oauth.processAuthorizationCodeResponse(ctx.as, ctx.client, r);
  }

  /** Discovery, one registered client and one person, made once (after the server's own `before`). */
  const ready = () =>
    (ctx.ready ??= (async () => {
    const issuer = new URL(fx.server.origin);
    ctx.as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...insecure }));
    ctx.client = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(ctx.as, { redirect_uris: [REDIRECT], client_name: clientName, token_endpoint_auth_method: "none" }, insecure),
    );
    ctx.who = await person();
    })());

  return { ctx, ready, browser, person, authorize, approve, codeFlow, exchange };
}
