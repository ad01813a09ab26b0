// The OAuth authorization server end to end (issue 9) against a real `wrangler dev`:
// a real client library (oauth4webapi) registers, sends the person through the
// sign-in, org and consent pages (driven over HTTP forms with the browser cookie),
// exchanges the code with PKCE, calls /v1 with the access token, refreshes with
// rotation, detects reuse, revokes; races of one code and one refresh token have
// exactly one winner; the pages refuse forged forms and carry their security headers.
// The per-grant limit is set to 1,200 a minute, so the grant's object leases admissions
// (two at a time) as a busy key's does: every "on the next request" below holds with
// leases held by the isolate.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as oauth from "oauth4webapi";
import { call, client, useKeyward } from "./helpers.mjs";
import { REDIRECT, formOf, insecure, oauthKit } from "./oauth-helpers.mjs";

const fx = useKeyward({ prefix: "prim", vars: { OAUTH_RATE_LIMIT_RPM: "1200" } });
const kit = oauthKit(fx);
const { ctx, ready, browser, person, codeFlow, exchange } = kit;

test("authorization code with PKCE, whoami with the access token, refresh with rotation, reuse ends the grant", async () => {
  await ready();
  const acme = (await client(fx.server.origin, fx.owner.plain_key).get("/v1/whoami")).body.data.org_id;
  const { params, verifier, orgs } = await codeFlow(ctx.who, {});
  assert.equal(orgs.length, 2, "the person's personal org and acme");
  assert.ok(orgs.includes(acme), "acme is offered on the consent page");
  assert.equal(params.get("iss"), fx.server.origin);
  const tokens = await exchange(params, verifier);
  assert.match(tokens.access_token, /^prim_oat_[A-Za-z0-9_-]{64}$/);
  assert.match(tokens.refresh_token, /^prim_ort_[A-Za-z0-9_-]{64}$/);
  assert.equal(tokens.token_type.toLowerCase(), "bearer");
  assert.equal(tokens.expires_in, 3600);
  const me = await call(fx.server.origin, "GET", "/v1/whoami", { token: tokens.access_token });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.body.data.auth_method, "oauth");
  assert.equal(me.body.data.client_id, ctx.client.client_id);
  assert.match(me.body.data.key_id, /^[0-9a-f]{32}$/);
  assert.equal(me.headers.get("ratelimit-limit"), "1200", "OAUTH_RATE_LIMIT_RPM, as set above");
  assert.equal(me.body.data.org_id, orgs[0], "the org chosen on the consent page");

  const refreshed = await oauth.processRefreshTokenResponse(ctx.as, ctx.client, await oauth.refreshTokenGrantRequest(ctx.as, ctx.client, oauth.None(), tokens.refresh_token, insecure));
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
  assert.equal((await call(fx.server.origin, "GET", "/v1/whoami", { token: refreshed.access_token })).status, 200);
  // The rotated refresh token presented again: reuse, the whole grant ends.
  const reuse = await call(fx.server.origin, "POST", "/oauth/token", { raw: new URLSearchParams({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: ctx.client.client_id }).toString(), headers: { "content-type": "application/x-www-form-urlencoded" } });
  assert.equal(reuse.status, 400);
  assert.equal(reuse.body.error, "invalid_grant");
  for (const t of [tokens.access_token, refreshed.access_token]) assert.equal((await call(fx.server.origin, "GET", "/v1/whoami", { token: t })).status, 401);
  const later = await call(fx.server.origin, "POST", "/oauth/token", { raw: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshed.refresh_token, client_id: ctx.client.client_id }).toString(), headers: { "content-type": "application/x-www-form-urlencoded" } });
  assert.equal(later.body.error, "invalid_grant", "the successor dies with the grant");
  await new Promise((r) => setTimeout(r, 300));
  const events = fx.server.sql(`SELECT event FROM audit_events WHERE credential_id = '${me.body.data.key_id}'`).map((e) => e.event);
  assert.ok(events.includes("oauth.refresh_reuse"), events.join(","));
  assert.ok(events.includes("oauth.grant_issued"));
  assert.equal(fx.server.sql(`SELECT ending FROM grants WHERE id = '${me.body.data.key_id}'`)[0].ending, "refresh_reuse");
});

test("the code is single use, bound to its verifier and client; a replay ends what it issued", async () => {
  await ready();
  const { params, verifier } = await codeFlow(ctx.who);
  const code = params.get("code");
  const post = (body) => call(fx.server.origin, "POST", "/oauth/token", { raw: new URLSearchParams(body).toString(), headers: { "content-type": "application/x-www-form-urlencoded" } });
  const base = { grant_type: "authorization_code", code, redirect_uri: REDIRECT, client_id: ctx.client.client_id };
  assert.equal((await post({ ...base, code_verifier: oauth.generateRandomCodeVerifier() })).body.error, "invalid_grant", "wrong verifier");
  assert.equal((await post(base)).body.error, "invalid_grant", "missing verifier");
  assert.equal((await post({ ...base, code_verifier: verifier, redirect_uri: "http://127.0.0.1:4567/other" })).body.error, "invalid_grant", "other redirect_uri");
  const other = await oauth.processDynamicClientRegistrationResponse(await oauth.dynamicClientRegistrationRequest(ctx.as, { redirect_uris: [REDIRECT], token_endpoint_auth_method: "none" }, insecure));
  assert.equal((await post({ ...base, code_verifier: verifier, client_id: other.client_id })).body.error, "invalid_grant", "client B redeeming client A's code");
  const first = await post({ ...base, code_verifier: verifier });
  assert.equal(first.status, 200, first.text);
  assert.equal(first.headers.get("cache-control"), "no-store");
  const replay = await post({ ...base, code_verifier: verifier });
  assert.equal(replay.body.error, "invalid_grant");
  assert.equal((await call(fx.server.origin, "GET", "/v1/whoami", { token: first.body.access_token })).status, 401, "the replay revoked what the code issued");
});

test("races: 50 concurrent exchanges of one code and 50 concurrent refreshes of one token each have exactly one winner", async () => {
  await ready();
  const { params, verifier } = await codeFlow(ctx.who);
  const body = new URLSearchParams({ grant_type: "authorization_code", code: params.get("code"), redirect_uri: REDIRECT, client_id: ctx.client.client_id, code_verifier: verifier }).toString();
  const post = (raw) => call(fx.server.origin, "POST", "/oauth/token", { raw, headers: { "content-type": "application/x-www-form-urlencoded" } });
  const exchanges = await Promise.all(Array.from({ length: 50 }, () => post(body)));
  const won = exchanges.filter((r) => r.status === 200);
  console.log(`# code exchange race: ${won.length} of 50 won; others ${[...new Set(exchanges.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.body?.error}`))].join(", ")}`);
  assert.equal(won.length, 1);
  // Presenting the code again (49 times) is a replay: the grant ends.
  assert.equal((await call(fx.server.origin, "GET", "/v1/whoami", { token: won[0].body.access_token })).status, 401);

  const fresh = await codeFlow(ctx.who);
  const tokens = await exchange(fresh.params, fresh.verifier);
  const refreshBody = new URLSearchParams({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: ctx.client.client_id }).toString();
  const refreshes = await Promise.all(Array.from({ length: 50 }, () => post(refreshBody)));
  const winners = refreshes.filter((r) => r.status === 200);
  console.log(`# refresh race: ${winners.length} of 50 won; others ${[...new Set(refreshes.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.body?.error}`))].join(", ")}`);
  assert.equal(winners.length, 1);
  // The 49 losers presented a rotated token: reuse, so by policy the grant has ended.
  assert.equal((await call(fx.server.origin, "GET", "/v1/whoami", { token: winners[0].body.access_token })).status, 401);
});

test("revocation: any token revokes its grant; unknown tokens and other clients' tokens answer 200 and change nothing", async () => {
  await ready();
  const { params, verifier } = await codeFlow(ctx.who);
  const tokens = await exchange(params, verifier);
  const other = await oauth.processDynamicClientRegistrationResponse(await oauth.dynamicClientRegistrationRequest(ctx.as, { redirect_uris: [REDIRECT], token_endpoint_auth_method: "none" }, insecure));
  const revoke = (token, client_id) => call(fx.server.origin, "POST", "/oauth/revoke", { raw: new URLSearchParams({ token, client_id }).toString(), headers: { "content-type": "application/x-www-form-urlencoded" } });
  assert.equal((await revoke(tokens.access_token, other.client_id)).status, 200);
  assert.equal((await call(fx.server.origin, "GET", "/v1/whoami", { token: tokens.access_token })).status, 200, "a foreign revoke is a no-op");
  assert.equal((await revoke("prim_oat_" + "A".repeat(64), ctx.client.client_id)).status, 200);
  await oauth.processRevocationResponse(await oauth.revocationRequest(ctx.as, ctx.client, oauth.None(), tokens.refresh_token, insecure));
  assert.equal((await call(fx.server.origin, "GET", "/v1/whoami", { token: tokens.access_token })).status, 401);
  const refresh = await call(fx.server.origin, "POST", "/oauth/token", { raw: new URLSearchParams({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: ctx.client.client_id }).toString(), headers: { "content-type": "application/x-www-form-urlencoded" } });
  assert.equal(refresh.body.error, "invalid_grant");
});

test("removing the member ends their grants on the next request", async () => {
  await ready();
  const who = await person();
  const acmeOrg = (await client(fx.server.origin, fx.owner.plain_key).get("/v1/whoami")).body.data.org_id;
  const { params, verifier } = await codeFlow(who, { org: acmeOrg });
  const tokens = await exchange(params, verifier);
  const me = await call(fx.server.origin, "GET", "/v1/whoami", { token: tokens.access_token });
  assert.equal(me.body.data.org_id, acmeOrg);
  assert.equal((await client(fx.server.origin, fx.owner.plain_key).del(`/v1/members/${me.body.data.user_id}`)).status, 200);
  assert.equal((await call(fx.server.origin, "GET", "/v1/whoami", { token: tokens.access_token })).status, 401);
});

test("the pages: forged or missing CSRF tokens fail, a GET never grants, errors never redirect to unregistered URIs, headers on every page", async () => {
  await ready();
  const go = browser();
  const challenge = await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier());
  const q = (extra = {}) => `/oauth/authorize?${new URLSearchParams({ client_id: ctx.client.client_id, redirect_uri: REDIRECT, response_type: "code", code_challenge: challenge, code_challenge_method: "S256", state: "s1", ...extra })}`;
  const grantsBefore = fx.server.sql("SELECT count(*) AS n FROM grants")[0].n;
  const page = await go(q());
  const html = await page.text();
  for (const [h, v] of [["x-frame-options", "DENY"], ["referrer-policy", "no-referrer"], ["cache-control", "no-store"]]) assert.equal(page.headers.get(h), v);
  assert.match(page.headers.get("content-security-policy"), /frame-ancestors 'none'/);
  assert.match(page.headers.get("content-security-policy"), /default-src 'none'/);
  assert.match(page.headers.get("set-cookie"), /HttpOnly; SameSite=Lax/);
  assert.match(html, /Primitive &lt;CLI&gt; &amp; co/, "the client name is escaped");
  assert.doesNotMatch(html, /<script/);
  const form = formOf(html);
  const noCsrf = await go("/oauth/authorize", { method: "POST", body: new URLSearchParams({ ...form, csrf: "", action: "signin", email: ctx.who.email, password: ctx.who.password }) });
  assert.equal(noCsrf.status, 403);
  const otherBrowser = browser();
  const theirs = formOf(await (await otherBrowser(q())).text());
  const forged = await go("/oauth/authorize", { method: "POST", body: new URLSearchParams({ ...form, csrf: theirs.csrf, action: "signin", email: ctx.who.email, password: ctx.who.password }) });
  assert.equal(forged.status, 403, "another session's CSRF token");
  const wrongPassword = await go("/oauth/authorize", { method: "POST", body: new URLSearchParams({ ...form, action: "signin", email: ctx.who.email, password: "not-the-password" }) });
  assert.equal(wrongPassword.status, 401);
  assert.match(await wrongPassword.text(), /Invalid email or password/);
  assert.equal(fx.server.sql("SELECT count(*) AS n FROM grants")[0].n, grantsBefore, "nothing granted by GETs and refused POSTs");

  const unknownClient = await go(q({ client_id: "cli_" + "0".repeat(32) }));
  assert.equal(unknownClient.status, 400);
  assert.equal(unknownClient.headers.get("location"), null);
  for (const evil of ["https://evil.example/cb", "http://127.0.0.1:4567/callback/../x", "http://127.0.0.1.evil.com:4567/callback"]) {
    const r = await go(q({ redirect_uri: evil }));
    assert.equal(r.status, 400, evil);
    assert.equal(r.headers.get("location"), null, `never redirected to ${evil}`);
  }
  const dup = await go(`${q()}&redirect_uri=${encodeURIComponent("https://evil.example/cb")}`);
  assert.equal(dup.status, 400);
  assert.equal(dup.headers.get("location"), null);
  const noPkce = await go(q({ code_challenge: "" }));
  assert.equal(noPkce.status, 303);
  const back = new URL(noPkce.headers.get("location"));
  assert.equal(`${back.origin}${back.pathname}`, REDIRECT);
  assert.equal(back.searchParams.get("error"), "invalid_request");
  assert.equal(back.searchParams.get("state"), "s1");
  assert.equal(back.searchParams.get("iss"), fx.server.origin);
  const plain = new URL((await go(q({ code_challenge_method: "plain" }))).headers.get("location"));
  assert.equal(plain.searchParams.get("error"), "invalid_request");
});

test("a busy grant spending leased admissions never exceeds its limit, and a revocation holds on the very next request", async () => {
  await ready();
  const whoami = (token) => call(fx.server.origin, "GET", "/v1/whoami", { token, timeoutMs: 30_000 });
  const burst = (n, token) => Promise.all(Array.from({ length: n }, () => whoami(token)));
  const tally = (results) => results.reduce((t, r) => ({ ...t, [r.status]: (t[r.status] ?? 0) + 1 }), {});

  const first = await codeFlow(ctx.who);
  const busy = await exchange(first.params, first.verifier);
  const results = [];
  for (let round = 0; round < 4; round++) results.push(...(await burst(325, busy.access_token)));
  const counts = tally(results);
  assert.ok(counts[200] <= 1200, `${counts[200]} admitted over a limit of 1200`);
  assert.ok(counts[200] >= 1150, `${counts[200]} admitted: leases may waste a few, not many`);
  assert.equal(counts[200] + counts[429], 1300, JSON.stringify(counts));
  const limited = results.find((r) => r.status === 429);
  assert.ok(Number(limited.headers.get("retry-after")) > 0);

  const { params, verifier } = await codeFlow(ctx.who);
  const tokens = await exchange(params, verifier);
  assert.deepEqual(tally(await burst(40, tokens.access_token)), { 200: 40 }, "leases taken");
  await oauth.processRevocationResponse(await oauth.revocationRequest(ctx.as, ctx.client, oauth.None(), tokens.access_token, insecure));
  assert.deepEqual(tally(await burst(100, tokens.access_token)), { 401: 100 }, "no leased admission outlives the revocation");
});
