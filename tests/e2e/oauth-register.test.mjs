// The OAuth server's discovery and dynamic client registration (issue 9) against a real
// `wrangler dev`: a real client library (oauth4webapi) discovers the server from a
// 401's `resource_metadata` and registers a public client; a table of redirect URIs is
// accepted or refused at registration exactly as pinned; bad metadata answers in the
// RFC shape; registrations are limited per client address; CORS for browser clients.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as oauth from "oauth4webapi";
import { call, useKeyward } from "./helpers.mjs";

const fx = useKeyward({ prefix: "prim", vars: { OAUTH_SCOPE: "primitive:api" } });
let address = 0;
/** A registration from a client address of its own, so the per-address limit stays out of the way. */
const register = (body, ip = `10.9.${Math.floor(address / 250)}.${address++ % 250}`) =>
  call(fx.server.origin, "POST", "/oauth/register", { body, headers: { "cf-connecting-ip": ip } });

test("oauth4webapi discovers the server from a 401 and registers a public client", async () => {
  const denied = await fetch(`${fx.server.origin}/v1/whoami`);
  assert.equal(denied.status, 401);
  const resourceMetadata = denied.headers.get("www-authenticate").match(/resource_metadata="([^"]+)"/)[1];
  const resource = await oauth.processResourceDiscoveryResponse(
    new URL(fx.server.origin),
    await oauth.resourceDiscoveryRequest(new URL(fx.server.origin), { [oauth.allowInsecureRequests]: true }),
  );
  assert.equal(new URL(resourceMetadata).pathname, "/.well-known/oauth-protected-resource");
  assert.deepEqual(resource.scopes_supported, ["primitive:api"]);
  const issuer = new URL(resource.authorization_servers[0]);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: "oauth2", [oauth.allowInsecureRequests]: true }));
  assert.equal(as.issuer, fx.server.origin);
  assert.deepEqual(as.code_challenge_methods_supported, ["S256"]);
  assert.deepEqual(as.grant_types_supported, ["authorization_code", "refresh_token"]);
  assert.equal(as.authorization_response_iss_parameter_supported, true);
  assert.equal(as.registration_endpoint, `${fx.server.origin}/oauth/register`);

  const response = await oauth.dynamicClientRegistrationRequest(
    as,
    { redirect_uris: ["http://127.0.0.1/callback"], client_name: "Primitive CLI", token_endpoint_auth_method: "none", software_id: "ignored", logo_uri: "https://ignored.example/logo.png" },
    { [oauth.allowInsecureRequests]: true },
  );
  const client = await oauth.processDynamicClientRegistrationResponse(response);
  assert.match(client.client_id, /^cli_[0-9a-f]{32}$/);
  assert.equal(client.token_endpoint_auth_method, "none");
  assert.equal(client.client_secret, undefined, "public clients get no secret");
  assert.equal(client.scope, "primitive:api");
  assert.deepEqual(client.grant_types, ["authorization_code", "refresh_token"]);
  const [row] = fx.server.sql(`SELECT id, name, redirect_uris, scope FROM oauth_clients WHERE id = '${client.client_id}'`);
  assert.deepEqual(row, { id: client.client_id, name: "Primitive CLI", redirect_uris: '["http://127.0.0.1/callback"]', scope: "primitive:api" });
});

// Each redirect URI alone, and whether registration accepts it.
const REDIRECTS = [
  ["https://app.example/callback", true],
  ["https://app.example/callback?x=1&y=2", true],
  ["https://app.example:8443/cb", true],
  ["HTTPS://App.Example/cb", true],
  ["https://app.example/%252E%252E/x", true],
  ["http://localhost/cb", true],
  ["http://localhost:7777/cb", true],
  ["http://127.0.0.1/cb", true],
  ["http://127.0.0.1:49152/cb", true],
  ["http://[::1]/cb", true],
  ["http://[::1]:8080/cb", true],
  ["https://127.0.0.1.evil.com/cb", true],
  ["http://127.0.0.1.evil.com/cb", false],
  ["http://localhost.evil.com/cb", false],
  ["http://app.example/cb", false],
  ["http://10.0.0.1/cb", false],
  ["https://192.168.1.1/cb", false],
  ["http://[::2]/cb", false],
  ["JaVaScRiPt:alert(1)", false],
  ["javascript://app.example/%0aalert(1)", false],
  ["data:text/html,hi", false],
  ["com.example.app:/callback", false],
  ["ftp://app.example/cb", false],
  ["//app.example/cb", false],
  ["/relative/cb", false],
  ["https://app.example/cb#frag", false],
  ["https://user@app.example/cb", false],
  ["https://app.example@evil.example/cb", false],
  ["https://user:pw@app.example/cb", false],
  ["https://app.example/c b", false],
  ["https://app.example/cb\n", false],
  ["https://app.example/cb\u0000", false],
  ["https://app.example/caf\u00e9", false],
  ["https://app.example/../admin", false],
  ["https://app.example/%2E%2E/admin", false],
  ["https://app.example/%2e./admin", false],
  ["https://app.example/a\\b", false],
  ["https://app.example/%zz", false],
  ["https://app.example:0/cb", false],
  ["https://app.example:65536/cb", false],
  ["https://app.example:08080/cb", false],
  ["https://app.example./cb", false],
  ["https://app_example.com/cb", false],
  ["", false],
  [`https://app.example/${"a".repeat(2000)}`, false],
];

test("registration accepts and refuses redirect URIs exactly as pinned", async () => {
  assert.ok(REDIRECTS.length >= 40);
  const wrong = [];
  for (const [uri, accepted] of REDIRECTS) {
    const r = await register({ redirect_uris: [uri] });
    const ok = r.status === 201;
    if (ok !== accepted) wrong.push(`${JSON.stringify(uri)} → ${r.status} ${r.text.slice(0, 120)}`);
    if (!ok) {
      assert.equal(r.status, 400, uri);
      assert.equal(r.body.error, "invalid_redirect_uri", uri);
      assert.deepEqual(Object.keys(r.body).sort(), ["error", "error_description"]);
    } else {
      assert.deepEqual(r.body.redirect_uris, [uri]);
    }
  }
  assert.deepEqual(wrong, []);
  const many = Array.from({ length: 21 }, (_, i) => `https://app.example/${i}`);
  assert.equal((await register({ redirect_uris: many })).body.error, "invalid_redirect_uri");
  assert.equal((await register({ redirect_uris: many.slice(0, 20) })).status, 201, "20 is the most");
});

test("metadata the server does not support is refused in RFC 7591's shape, and nothing is stored", async () => {
  const before = fx.server.sql("SELECT count(*) AS n FROM oauth_clients")[0].n;
  const uris = ["http://127.0.0.1/cb"];
  for (const [body, error] of [
    [{ redirect_uris: uris, grant_types: ["client_credentials"] }, "invalid_client_metadata"],
    [{ redirect_uris: uris, grant_types: ["refresh_token"] }, "invalid_client_metadata"],
    [{ redirect_uris: uris, response_types: ["token"] }, "invalid_client_metadata"],
    [{ redirect_uris: uris, token_endpoint_auth_method: "client_secret_basic" }, "invalid_client_metadata"],
    [{ redirect_uris: uris, client_name: "x".repeat(101) }, "invalid_client_metadata"],
    [{ redirect_uris: uris, client_name: "bell\u0007" }, "invalid_client_metadata"],
    [{ redirect_uris: uris, scope: "admin" }, "invalid_client_metadata"],
    [{ redirect_uris: "http://127.0.0.1/cb" }, "invalid_client_metadata"],
    [{ redirect_uris: [5] }, "invalid_client_metadata"],
    [{}, "invalid_redirect_uri"],
    [[], "invalid_client_metadata"],
  ]) {
    const r = await register(body);
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
    assert.equal(r.body.error, error, JSON.stringify(body));
    assert.equal(typeof r.body.error_description, "string");
    assert.equal(r.headers.get("cache-control"), "no-store");
  }
  const bad = await call(fx.server.origin, "POST", "/oauth/register", { raw: "{not json", headers: { "content-type": "application/json", "cf-connecting-ip": "10.8.0.1" } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error, "invalid_client_metadata");
  const huge = await call(fx.server.origin, "POST", "/oauth/register", { raw: JSON.stringify({ redirect_uris: uris, client_name: "x".repeat(70_000) }), headers: { "content-type": "application/json", "cf-connecting-ip": "10.8.0.2" } });
  assert.equal(huge.status, 413);
  assert.equal(huge.body.error, "invalid_client_metadata");
  assert.equal((await call(fx.server.origin, "GET", "/oauth/register")).body.error, "invalid_request", "wrong method");
  assert.equal(fx.server.sql("SELECT count(*) AS n FROM oauth_clients")[0].n, before);
});

test("registrations are limited per client address: slow_down with Retry-After", async () => {
  const statuses = [];
  let last;
  for (let i = 0; i < 11; i++) {
    last = await register({ redirect_uris: ["http://127.0.0.1/cb"] }, "10.7.7.7");
    statuses.push(last.status);
  }
  assert.deepEqual(statuses, [...Array(10).fill(201), 429]);
  assert.equal(last.body.error, "slow_down");
  assert.ok(Number(last.headers.get("retry-after")) >= 1);
  assert.equal((await register({ redirect_uris: ["http://127.0.0.1/cb"] }, "10.7.7.8")).status, 201, "another address is not limited");
});

test("browser clients: CORS without credentials on registration and metadata, preflight answered", async () => {
  const pre = await call(fx.server.origin, "OPTIONS", "/oauth/register", { headers: { origin: "https://spa.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type" } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get("access-control-allow-origin"), "*");
  assert.match(pre.headers.get("access-control-allow-methods"), /POST/);
  assert.equal(pre.headers.get("access-control-allow-credentials"), null);
  for (const path of ["/.well-known/oauth-authorization-server", "/.well-known/oauth-protected-resource"]) {
    const r = await call(fx.server.origin, "GET", path, { headers: { origin: "https://spa.example" } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("access-control-allow-origin"), "*", path);
  }
  const v1 = await call(fx.server.origin, "GET", "/v1/whoami", { headers: { origin: "https://spa.example" } });
  assert.equal(v1.headers.get("access-control-allow-origin"), null, "no CORS on /v1 by default");
});
