// Hostile input (SPEC §8): malformed, oversized, wrong-typed and injected requests all
// get a 4xx in their family's shape, never a 5xx, and change nothing: the suite reads
// the tables back and compares them with a snapshot taken before.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { bootstrap, call, keyward, rawExchange, seedOrg } from "./helpers.mjs";
import { identitySnapshot } from "./barrage.mjs";

let server;
let owner;
let mine;
let other;
before(async () => {
  server = await keyward({ prefix: "ptmc" });
  owner = await bootstrap(server);
  mine = (await call(server.origin, "POST", "/v1/keys", { token: owner.plain_key, body: { name: "mine" } })).body.data;
  other = seedOrg(server, { name: "victim" });
});
after(async () => {
  await server?.stop();
  server?.cleanup();
});

/** A raw HTTP/1.1 exchange, for requests fetch() refuses to send. */
const raw = (request) => rawExchange(server.origin, request);

function hostileCases() {
  const t = owner.plain_key;
  const big = "x".repeat(70 * 1024);
  const badUtf8 = Buffer.from([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
  const deep = `${"[".repeat(5000)}${"]".repeat(5000)}`;
  const past = "2020-01-01T00:00:00Z";
  const mint = (body, extra = {}) => ["POST", "/v1/keys", { token: t, body, ...extra }];
  const mintRaw = (rawBody) => ["POST", "/v1/keys", { token: t, raw: rawBody, headers: { "content-type": "application/json" } }];
  const patch = (body, id = mine.id) => ["PATCH", `/v1/keys/${id}`, { token: t, body }];
  const boot = (body, token = server.vars.ADMIN_TOKEN) => ["POST", "/admin/bootstrap", { token, body }];
  return [
    // bootstrap (bare family)
    ["POST", "/admin/bootstrap", { body: { org_name: "x" } }],
    boot({ org_name: "x" }, "wrong"),
    ["POST", "/admin/bootstrap", { token: server.vars.ADMIN_TOKEN, raw: "{", headers: { "content-type": "application/json" } }],
    boot({ org_name: 5 }),
    boot({}),
    boot({ org_name: "x", role: "owner" }),
    boot({ org_name: big }),
    boot({ org_name: "evil\u0000org" }),
    boot({ org_name: "x", owner_email: "not-an-email" }),
    boot([]),
    ["POST", "/admin/bootstrap", { token: server.vars.ADMIN_TOKEN, raw: badUtf8, headers: { "content-type": "application/json" } }],
    boot({ org_name: "second" }),
    ["GET", "/admin/bootstrap", {}],
    // mint: malformed JSON and wrong types
    mintRaw("{"),
    mintRaw(""),
    mintRaw("null"),
    mintRaw("[]"),
    mintRaw('"name"'),
    mintRaw(badUtf8),
    mintRaw(deep),
    mintRaw(`{"name": "${big}"}`),
    mint({}),
    mint({ name: "" }),
    mint({ name: "   " }),
    mint({ name: "n".repeat(101) }),
    mint({ name: "a\u0000b" }),
    mint({ name: "line\r\nX-Injected: 1" }),
    mint({ name: 42 }),
    mint({ name: ["a"] }),
    mint({ name: "x", rate_limit_rpm: -1 }),
    mint({ name: "x", rate_limit_rpm: 0 }),
    mint({ name: "x", rate_limit_rpm: 1e10 }),
    mint({ name: "x", rate_limit_rpm: "60" }),
    mint({ name: "x", rate_limit_rpm: 1.5 }),
    mint({ name: "x", rate_limit_rpm: 100001 }),
    mint({ name: "x", expires_at: "yesterday" }),
    mint({ name: "x", expires_at: past }),
    mint({ name: "x", expires_at: "2099-02-30T00:00:00Z" }),
    mint({ name: "x", expires_at: 4102444800 }),
    mint({ name: "x", namespaces: "myapp" }),
    mint({ name: "x", namespaces: [1] }),
    mint({ name: "x", namespaces: ["UPPER"] }),
    mint({ name: "x", namespaces: ["a b"] }),
    mint({ name: "x", namespaces: ["../etc"] }),
    mint({ name: "x", namespaces: Array.from({ length: 51 }, (_, i) => `ns${i}`) }),
    mint({ name: "x", scheme: "plain" }),
    mint({ name: "x", scheme: 5 }),
    mint({ name: "x", org_id: other.org }),
    mint({ name: "x", revoked_at: null }),
    mint({ name: "x", lookup_hash: "00" }),
    mint({ name: "x", entity_id: other.entity }),
    // patch: mass assignment, wrong types, other orgs
    patch({ revoked_at: "2020-01-01T00:00:00Z" }),
    patch({ org_id: other.org }),
    patch({ entity_id: other.entity }),
    patch({ lookup_hash: "00".repeat(32) }),
    patch({ secret_phc: "$argon2id$" }),
    patch({ key_prefix: "ptmc_hacked" }),
    patch({ created_at: 0 }),
    patch({ version: 99 }),
    patch({ id: "0".repeat(32) }),
    patch({ name: 1 }),
    patch({ rate_limit_rpm: -5 }),
    patch({ expires_at: past }),
    patch({ expires_at: 123 }),
    patch({ namespaces: [null] }),
    patch({ name: "stolen" }, other.keyId),
    ["PATCH", `/v1/keys/${mine.id}`, { token: t, raw: "{", headers: { "content-type": "application/json" } }],
    // paths and queries: injection, traversal, other orgs
    ["GET", `/v1/keys/${other.keyId}`, { token: t }],
    ["DELETE", `/v1/keys/${other.keyId}`, { token: t }],
    ["GET", "/v1/keys/1'%20OR%20'1'='1", { token: t }],
    ["DELETE", "/v1/keys/%27%3B%20DROP%20TABLE%20credentials%3B--", { token: t }],
    ["GET", "/v1/keys/..%2F..%2Fadmin%2Fbootstrap", { token: t }],
    ["GET", `/v1/keys/${mine.id.toUpperCase()}`, { token: t }],
    ["GET", "/v1/keys?cursor=%27%20OR%201%3D1--", { token: t }],
    ["GET", "/v1/keys?limit=1;DROP%20TABLE%20credentials", { token: t }],
    ["GET", "/v1/keys?limit=99999999999999999999", { token: t }],
    ["GET", `/v1/keys?cursor=${"A".repeat(5000)}`, { token: t }],
    ["GET", `/v1/audit?event=${"e".repeat(65)}`, { token: t }],
    ["GET", "/v1/audit?cursor=-1", { token: t }],
    ["PUT", "/v1/keys", { token: t, body: { name: "x" } }],
    ["POST", "/v1/whoami", { token: t }],
    ["GET", "/v1/keys/%00", { token: t }],
    // credentials that must not pass
    ["GET", "/v1/whoami", { token: `ptmc_${"A".repeat(10_000)}` }],
    ["GET", "/v1/whoami", { token: other.key.replace(/^ptmc_/, "PTMC_") }],
    ["GET", "/v1/whoami", { headers: { authorization: `Bearer ${owner.plain_key} ${owner.plain_key}` } }],
    ["GET", "/v1/whoami", { headers: { authorization: `Bearer ${owner.plain_key}=` } }],
  ];
}

test("at least 60 hostile requests: all 4xx in their family's shape, none 5xx, nothing changed", async () => {
  const before = identitySnapshot(server);
  const cases = hostileCases();
  assert.ok(cases.length >= 60, `${cases.length} cases`);
  const failures = [];
  for (const [method, path, opts] of cases) {
    const label0 = `${method} ${path.slice(0, 60)}`;
    let r;
    try {
      r = await call(server.origin, method, path, opts);
    } catch (error) {
      failures.push(`${label0} → ${error.cause?.message ?? error.message}`);
      continue;
    }
    const label = `${method} ${path.slice(0, 60)} ${JSON.stringify(opts.body ?? "").slice(0, 60)}`;
    if (r.status < 400 || r.status >= 500) {
      failures.push(`${label} → ${r.status} ${r.text.slice(0, 200)}`);
      continue;
    }
    const err = path.startsWith("/v1/") ? r.body?.error : r.body?.error;
    const shaped =
      err && typeof err.code === "string" && typeof err.message === "string" && err.request_id === r.headers.get("x-request-id") &&
      (path.startsWith("/v1/") ? r.body.success === false : r.body.success === undefined);
    if (!shaped) failures.push(`${label} → ${r.status} not in the family's shape: ${r.text.slice(0, 200)}`);
    if (r.text.includes(other.org) || r.text.includes(other.keyId)) failures.push(`${label} leaked another org's ids`);
  }
  assert.deepEqual(failures, []);

  // Requests fetch() will not send: a header injection and a 64 KiB header.
  const injected = await raw(`GET /v1/whoami HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer abc\r\nX-Injected: 1\r\nConnection: close\r\n\r\n`);
  assert.match(injected, /^HTTP\/1\.1 401/);
  assert.ok(!/\r\nx-injected:/i.test(injected));
  const hugeHeader = await raw(`GET /v1/whoami HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${"a".repeat(64 * 1024)}\r\nConnection: close\r\n\r\n`);
  assert.match(hugeHeader, /^HTTP\/1\.1 4\d\d/);

  assert.deepEqual(identitySnapshot(server), before, "no table changed");
  console.log(`# hostile requests tried: ${cases.length + 2}, 5xx seen: 0`);
});
