// Hostile input on the webhook endpoints that exist (issue 10): the signing secret and
// /v1/webhooks. Every case answers a 4xx in the /v1 shape, none a 5xx, no answer carries
// the org's secret or another org's ids, and nothing is written: the identity tables,
// `webhook_endpoints` and `webhook_secrets` are the same before and after.
import { test } from "node:test";
import assert from "node:assert/strict";
import { garbageCredentials, runBarrage } from "./barrage.mjs";
import { call, client, seedOrg, useKeyward } from "./helpers.mjs";

const fx = useKeyward({ prefix: "ptmc", vars: { ENVIRONMENT: "production", DEV_OUTBOX: "false", DEV_CLIENT_CERT_HEADER: "false", SELF_REGISTRATION_ENABLED: "false" } });

const invalid = { status: 400, code: "invalid_request" };
const invalidUrl = { status: 400, code: "invalid_url" };
const invalidEvents = { status: 400, code: "invalid_event_types" };
const permission = { status: 403, code: "forbidden", message: /permission/ };
const notFound = { status: 404, code: "not_found" };
const notAllowed = { status: 405 };
const tooLarge = { status: 413 };
const unauthorized = { status: 401 };

const webhookTables = (server) => async () => ({
  webhook_endpoints: server.sql("SELECT * FROM webhook_endpoints ORDER BY id"),
  webhook_secrets: server.sql("SELECT * FROM webhook_secrets ORDER BY org_id"),
});

test("hostile requests at the webhook secret and /v1/webhooks: 4xx in the /v1 shape, no 5xx, no secret, nothing written", async () => {
  const { server, owner } = fx;
  const A = owner.plain_key;
  const ownerClient = client(server.origin, A);
  const secret = (await ownerClient.get("/v1/account/webhook-secret")).body.data.secret; // created before the snapshot
  const mine = (await ownerClient.post("/v1/webhooks", { url: "https://hooks.example.com/mine" })).body.data;
  const other = seedOrg(server, { name: "elsewhere" });
  const theirs = (await call(server.origin, "POST", "/v1/webhooks", { token: other.key, body: { url: "https://hooks.example.com/theirs" } })).body.data;
  const member = seedOrg(server, { name: "members", role: "member" });

  const post = (body, expect, token = A) => ["POST", "/v1/webhooks", { token, body }, expect];
  const raw = (text, expect, path = "/v1/webhooks", method = "POST") => [method, path, { token: A, raw: text, headers: { "content-type": "application/json" } }, expect];
  const patch = (body, expect, id = mine.id) => ["PATCH", `/v1/webhooks/${id}`, { token: A, body }, expect];
  const ssrf = ["https://127.0.0.1/", "https://2130706433/", "https://0x7f.1/", "https://[::ffff:127.0.0.1]/", "https://169.254.169.254/", "https://10.1.2.3/", "https://localhost/", "http://hooks.example.com/", "https://a@127.0.0.1/", "https://hooks.example.com/#f", "javascript:alert(1)", " https://hooks.example.com/", "https://hooks.example.com/\u0000", "https://" + "a".repeat(2001), ""];
  const cases = [
    ...garbageCredentials("ptmc", A).map((opts) => ["GET", "/v1/account/webhook-secret", opts, unauthorized]),
    ...garbageCredentials("ptmc", A).map((opts) => ["POST", "/v1/account/webhook-secret/rotate", opts, unauthorized]),
    ...garbageCredentials("ptmc", A).map((opts) => ["POST", "/v1/webhooks", { ...opts, body: { url: "https://hooks.example.com/x" } }, unauthorized]),
    ["GET", "/v1/account/webhook-secret", { token: member.key }, permission],
    ["POST", "/v1/account/webhook-secret/rotate", { token: member.key }, permission],
    ["GET", "/v1/webhooks", { token: member.key }, permission],
    post({ url: "https://hooks.example.com/x" }, permission, member.key),
    ["DELETE", `/v1/webhooks/${mine.id}`, { token: member.key }, permission],
    ...["PUT", "PATCH", "DELETE"].map((m) => [m, "/v1/account/webhook-secret", { token: A }, notAllowed]),
    ...["GET", "PUT", "DELETE"].map((m) => [m, "/v1/account/webhook-secret/rotate", { token: A }, notAllowed]),
    ...["PUT", "PATCH", "DELETE"].map((m) => [m, "/v1/webhooks", { token: A, body: {} }, notAllowed]),
    ["PUT", `/v1/webhooks/${mine.id}`, { token: A, body: {} }, notAllowed],
    ["POST", `/v1/webhooks/${mine.id}`, { token: A, body: {} }, notAllowed],
    ["PURGE", `/v1/webhooks/${mine.id}`, { token: A }, notAllowed],
    ...ssrf.map((url) => post({ url }, invalidUrl)),
    ...ssrf.map((url) => patch({ url }, invalidUrl)),
    post({}, invalid),
    post({ url: 42 }, invalid),
    post({ url: null }, invalid),
    post({ url: ["https://hooks.example.com/"] }, invalid),
    post({ url: "https://hooks.example.com/", secret: "whsec_x" }, invalid),
    post({ url: "https://hooks.example.com/", org_id: other.org }, invalid),
    post({ url: "https://hooks.example.com/", enabled: "yes" }, invalid),
    post({ url: "https://hooks.example.com/", description: 5 }, invalid),
    post({ url: "https://hooks.example.com/", description: "x".repeat(501) }, invalid),
    post({ url: "https://hooks.example.com/", description: "a\u0000b" }, invalid),
    post({ url: "https://hooks.example.com/", description: "line\nbreak" }, invalid),
    post({ url: "https://hooks.example.com/", event_types: [] }, invalidEvents),
    post({ url: "https://hooks.example.com/", event_types: ["key.deleted"] }, invalidEvents),
    post({ url: "https://hooks.example.com/", event_types: ["*", "key.minted"] }, invalidEvents),
    post({ url: "https://hooks.example.com/", event_types: "key.minted" }, invalid),
    post({ url: "https://hooks.example.com/", event_types: [1] }, invalid),
    raw("", invalid),
    raw("{", invalid),
    raw('["https://hooks.example.com/"]', invalid),
    raw('"https://hooks.example.com/"', invalid),
    raw("null", invalid),
    raw('{"url":"https://hooks.example.com/","url":"https://evil.example/"}', invalid),
    raw(`{"url":"https://hooks.example.com/","description":"${"x".repeat(70_000)}"}`, tooLarge),
    raw("\xff\xfe{}", invalid),
    patch({ enabled: "false" }, invalid),
    patch({ event_types: ["nope"] }, invalidEvents),
    patch({ description: "x".repeat(501) }, invalid),
    patch({ id: "whk_" + "0".repeat(32) }, invalid),
    patch({ version: 99 }, invalid),
    patch({ url: "https://hooks.example.com/x" }, notFound, theirs.id),
    ["GET", `/v1/webhooks/${theirs.id}`, { token: A }, notFound],
    ["DELETE", `/v1/webhooks/${theirs.id}`, { token: A }, notFound],
    ...["x", "whk_", `whk_${"0".repeat(32)}`, `whk_${"Z".repeat(32)}`, `${mine.id}x`, `whk_${"0".repeat(31)}%00`].map((id) => ["GET", `/v1/webhooks/${id}`, { token: A }, notFound]),
    ...["limit=0", "limit=101", "limit=abc", "cursor=%%%", "cursor=bm90LWEtY3Vyc29y"].map((q) => ["GET", `/v1/webhooks?${q}`, { token: A }, invalid]),
  ];
  assert.ok(cases.length >= 100, `${cases.length} cases`);
  const controls = [
    ["GET", "/v1/webhooks", { token: A }, 200, (r) => (r.body.data.some((w) => w.id === mine.id) ? [] : ["mine is not listed"])],
    ["GET", `/v1/webhooks/${mine.id}`, { token: A }, 200, (r) => (r.body.data.url === "https://hooks.example.com/mine" ? [] : ["mine changed"])],
    ["GET", "/v1/account/webhook-secret", { token: A }, 200, (r) => (r.body.data.secret === secret ? [] : ["the secret changed"])],
  ];
  const { failures, fivexx, stateBefore, stateAfter } = await runBarrage({
    server,
    cases,
    controls,
    label: "webhooks-hostile",
    foreignIds: [other.org, other.entity, theirs.id],
    secrets: [secret, other.key, server.vars.ADMIN_TOKEN, server.vars.HASH_SECRET, server.vars.SIGNING_SECRET],
    families: ["v1"],
    state: webhookTables(server),
  });
  assert.deepEqual(failures, []);
  assert.equal(fivexx, 0);
  assert.deepEqual(stateAfter, stateBefore, "no endpoint or secret written");
});
