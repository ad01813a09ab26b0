// OAuth lifetimes, connected apps and introspection (issue 9) against a real
// `wrangler dev` whose token lifetimes are set short: a code dies after
// OAUTH_CODE_TTL_SECONDS, an access token after OAUTH_ACCESS_TOKEN_TTL_SECONDS, a
// refresh token after OAUTH_REFRESH_TOKEN_TTL_SECONDS; a refresh never widens scope;
// `/v1/grants` lists and revokes the caller's own grants; `/oauth/introspect` answers a
// resource server of the org, and `{"active": false}` to any other; with
// REFRESH_REUSE_GRACE_SECONDS set, an identical retry of the latest rotation gets the
// same answer, and anything else is still reuse.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as oauth from "oauth4webapi";
import { call, client, seedOrg, useKeyward } from "./helpers.mjs";
import { REDIRECT, formPost, oauthKit } from "./oauth-helpers.mjs";

const fx = useKeyward({
  prefix: "prim",
  vars: { OAUTH_CODE_TTL_SECONDS: "2", OAUTH_ACCESS_TOKEN_TTL_SECONDS: "2", OAUTH_REFRESH_TOKEN_TTL_SECONDS: "6", OAUTH_SCOPE: "primitive:api primitive:read", REFRESH_REUSE_GRACE_SECONDS: "3" },
});
const kit = oauthKit(fx);
const { ctx, ready, codeFlow, exchange, browser } = kit;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const whoami = (token) => call(fx.server.origin, "GET", "/v1/whoami", { token });

test("codes, access tokens and refresh tokens stop working at their lifetimes", async () => {
  await ready();
  const metadata = (await call(fx.server.origin, "GET", "/.well-known/oauth-authorization-server")).body;
  assert.deepEqual([metadata.authorization_code_lifetime_seconds, metadata.access_token_lifetime_seconds, metadata.refresh_token_lifetime_seconds], [2, 2, 6]);
  const late = await codeFlow(ctx.who);
  await sleep(2200);
  const expired = await formPost(fx.server.origin, { grant_type: "authorization_code", code: late.params.get("code"), redirect_uri: REDIRECT, client_id: ctx.client.client_id, code_verifier: late.verifier });
  assert.equal(expired.body.error, "invalid_grant", "a code older than its lifetime");

  const { params, verifier } = await codeFlow(ctx.who);
  const tokens = await exchange(params, verifier);
  assert.equal(tokens.expires_in, 2);
  const fresh = await whoami(tokens.access_token);
  assert.equal(fresh.status, 200);
  assert.equal(fresh.headers.get("ratelimit-limit"), "600", "the default per-grant limit");
  await sleep(2200);
  assert.equal((await whoami(tokens.access_token)).status, 401, "the access token expired");
  const refreshed = await formPost(fx.server.origin, { grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: ctx.client.client_id });
  assert.equal(refreshed.status, 200, "the refresh token outlives the access token");
  await sleep(6200);
  const stale = await formPost(fx.server.origin, { grant_type: "refresh_token", refresh_token: refreshed.body.refresh_token, client_id: ctx.client.client_id });
  assert.equal(stale.body.error, "invalid_grant", "the refresh token expired");
});

test("within the reuse grace an identical retry gets the same tokens; a changed retry is refused; after the grace reuse ends the grant", async () => {
  await ready();
  const { params, verifier } = await codeFlow(ctx.who);
  const tokens = await exchange(params, verifier);
  const refresh = (refresh_token, extra = {}) => formPost(fx.server.origin, { grant_type: "refresh_token", refresh_token, client_id: ctx.client.client_id, ...extra });
  // 20 honest parallel refreshes of one token (a client that lost a response and retried):
  // one rotation, and every answer carries its very tokens.
  const answers = await Promise.all(Array.from({ length: 20 }, () => refresh(tokens.refresh_token)));
  assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
  assert.equal(new Set(answers.map((a) => a.body.refresh_token)).size, 1, "one successor");
  assert.equal(new Set(answers.map((a) => a.body.access_token)).size, 1);
  assert.equal(answers[0].headers.get("cache-control"), "no-store");
  const rotated = answers[0].body;
  assert.notEqual(rotated.refresh_token, tokens.refresh_token);
  const changed = await refresh(tokens.refresh_token, { scope: "primitive:read" });
  assert.equal(changed.body.error, "invalid_grant", "a retry asking another scope is not identical");
  assert.equal((await whoami(rotated.access_token)).status, 200, "and it ended nothing");
  const next = await refresh(rotated.refresh_token);
  assert.equal(next.status, 200, "the successor rotates as usual");
  const older = await refresh(tokens.refresh_token);
  assert.equal(older.body.error, "invalid_grant", "only the latest rotation is repeated: an older token is reuse");
  assert.equal((await whoami(next.body.access_token)).status, 401, "reuse ended the grant");

  const second = await codeFlow(ctx.who);
  const late = await exchange(second.params, second.verifier);
  const once = await refresh(late.refresh_token);
  await sleep(3200);
  assert.equal((await refresh(late.refresh_token)).body.error, "invalid_grant", "a retry after the grace is reuse");
  assert.equal((await refresh(once.body.refresh_token)).body.error, "invalid_grant", "which ended the grant");
});

test("a refresh keeps or narrows the scope, never widens it", async () => {
  await ready();
  const { params, verifier } = await codeFlow(ctx.who);
  const tokens = await exchange(params, verifier);
  assert.equal(tokens.scope, "primitive:api primitive:read");
  const narrow = await formPost(fx.server.origin, { grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: ctx.client.client_id, scope: "primitive:read" });
  assert.equal(narrow.status, 200);
  assert.equal(narrow.body.scope, "primitive:read");
  const wide = await formPost(fx.server.origin, { grant_type: "refresh_token", refresh_token: narrow.body.refresh_token, client_id: ctx.client.client_id, scope: "primitive:read admin" });
  assert.equal(wide.body.error, "invalid_scope");
  const again = await formPost(fx.server.origin, { grant_type: "refresh_token", refresh_token: narrow.body.refresh_token, client_id: ctx.client.client_id });
  assert.equal(again.status, 200, "a refused widening changed nothing");
  assert.equal(again.body.scope, "primitive:api primitive:read", "without scope, the grant's whole scope");
});

test("/v1/grants lists the caller's own grants and revokes one; other people's are 404", async () => {
  await ready();
  const { params, verifier } = await codeFlow(ctx.who);
  const tokens = await exchange(params, verifier);
  const me = (await whoami(tokens.access_token)).body.data;
  const session = (await call(fx.server.origin, "POST", "/auth/login", { body: { identifier: ctx.who.email, secret: ctx.who.password, org_id: me.org_id } })).body.token;
  const listed = await client(fx.server.origin, session).get("/v1/grants");
  assert.equal(listed.status, 200);
  const mine = listed.body.data.find((g) => g.id === me.key_id);
  assert.equal(mine.client_id, ctx.client.client_id);
  assert.equal(mine.client_name, "Primitive <CLI> & co");
  assert.equal(mine.status, "active");
  assert.equal((await client(fx.server.origin, fx.owner.plain_key).del(`/v1/grants/${me.key_id}`)).status, 404, "another person's grant");
  assert.equal((await client(fx.server.origin, session).del(`/v1/grants/${"0".repeat(32)}`)).status, 404);
  const revoked = await client(fx.server.origin, session).del(`/v1/grants/${me.key_id}`);
  assert.equal(revoked.status, 200);
  assert.equal(revoked.body.data.status, "revoked");
  assert.equal((await whoami(tokens.access_token)).status, 401);
});

test("/settings/connected-apps lists the person's grants in every org and revokes one with the session's CSRF token", async () => {
  await ready();
  const { params, verifier } = await codeFlow(ctx.who);
  const tokens = await exchange(params, verifier);
  const grantId = (await whoami(tokens.access_token)).body.data.key_id;
  const { go } = await kit.authorize(ctx.who, { challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" });
  const page = await go("/settings/connected-apps");
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /Primitive &lt;CLI&gt; &amp; co/);
  assert.doesNotMatch(html.slice(html.indexOf(grantId) - 400, html.indexOf(grantId)), /last used not yet/, "the whoami above recorded its use");
  assert.ok(html.includes(`value="${grantId}"`));
  const csrf = html.match(/name="csrf" value="([^"]+)"/)[1];
  const forged = await browser()("/settings/connected-apps", { method: "POST", body: new URLSearchParams({ csrf, action: "revoke", grant_id: grantId }) });
  assert.equal(forged.status, 403, "another browser cannot use this session's token");
  assert.equal((await whoami(tokens.access_token)).status, 200);
  const revoked = await go("/settings/connected-apps", { method: "POST", body: new URLSearchParams({ csrf, action: "revoke", grant_id: grantId }) });
  assert.equal(revoked.status, 303);
  assert.equal((await whoami(tokens.access_token)).status, 401);
  assert.ok(!(await (await go("/settings/connected-apps")).text()).includes(`value="${grantId}"`));
});

test("introspection answers the org's resource servers, and {active: false} to everyone else", async () => {
  await ready();
  const { params, verifier } = await codeFlow(ctx.who);
  const tokens = await exchange(params, verifier);
  const me = (await whoami(tokens.access_token)).body.data;
  const introspect = (token, key) => call(fx.server.origin, "POST", "/oauth/introspect", { token: key, raw: new URLSearchParams({ token }).toString(), headers: { "content-type": "application/x-www-form-urlencoded" } });
  // The grant is in the person's first org (personal); an API key of that org asks.
  const orgKey = (await client(fx.server.origin, tokens.access_token).post("/v1/keys", { name: "resource server" })).body.data.plain_key;
  const active = await introspect(tokens.access_token, orgKey);
  assert.equal(active.status, 200, active.text);
  assert.equal(active.body.active, true);
  assert.equal(active.body.client_id, ctx.client.client_id);
  assert.equal(active.body.sub, me.user_id);
  assert.equal(active.body.org_id, me.org_id);
  assert.ok(active.body.exp > Date.now() / 1000);
  const stranger = seedOrg(fx.server, { name: "stranger" });
  assert.deepEqual((await introspect(tokens.access_token, stranger.key)).body, { active: false }, "another org's resource server");
  assert.deepEqual((await introspect(tokens.refresh_token, orgKey)).body, { active: false }, "refresh tokens are not introspected");
  assert.deepEqual((await introspect("garbage", orgKey)).body, { active: false });
  assert.equal((await introspect(tokens.access_token, undefined)).status, 401, "unauthenticated");
  await oauth.processRevocationResponse(await oauth.revocationRequest(ctx.as, ctx.client, oauth.None(), tokens.access_token, { [oauth.allowInsecureRequests]: true }));
  assert.deepEqual((await introspect(tokens.access_token, orgKey)).body, { active: false }, "revoked");
});
