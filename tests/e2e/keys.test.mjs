// /admin/bootstrap, /v1/whoami and /v1/keys through HTTP against `wrangler dev`,
// with the Primitive seed's prefix (KEY_PREFIX=prim).
import { test } from "node:test";
import assert from "node:assert/strict";
import { call, useKeyward, seedOrg } from "./helpers.mjs";

const fx = useKeyward({ prefix: "prim" });

const v1 = (method, path, opts = {}) => call(fx.server.origin, method, path, { token: fx.owner.plain_key, ...opts });

test("bootstrap: answers once, refuses a wrong token and a second org", async () => {
  assert.match(fx.owner.plain_key, /^prim_[A-Za-z0-9_-]{43}$/);
  assert.equal(fx.owner.key_prefix, fx.owner.plain_key.slice(0, 12));
  const again = await call(fx.server.origin, "POST", "/admin/bootstrap", { token: fx.server.vars.ADMIN_TOKEN, body: { org_name: "second" } });
  assert.equal(again.status, 409);
  assert.equal(again.body.error.code, "conflict");
  const wrong = await call(fx.server.origin, "POST", "/admin/bootstrap", { token: "x".repeat(64), body: { org_name: "x" } });
  assert.equal(wrong.status, 401);
  assert.equal(fx.server.sql("SELECT count(*) AS n FROM orgs")[0].n, 1);
});

test("whoami: org, user, role, method and key id, with the envelope and request id", async () => {
  const r = await v1("GET", "/v1/whoami");
  assert.equal(r.status, 200);
  assert.equal(r.body.success, true);
  assert.equal(r.body.data.org_id, fx.owner.org_id);
  assert.equal(r.body.data.user_id, fx.owner.entity_id);
  assert.equal(r.body.data.role, "owner");
  assert.equal(r.body.data.auth_method, "api_key");
  assert.equal(r.body.data.key_id, fx.owner.key_id);
  assert.equal(r.body.data.request_id, r.headers.get("x-request-id"));
  assert.match(r.headers.get("x-request-id"), /^req_[0-9a-f]{32}$/);
  assert.equal(r.headers.get("ratelimit-limit"), "1000");
  assert.ok(Number(r.headers.get("ratelimit-remaining")) < 1000);
});

test("mint both schemes; the plain key appears once and works", async () => {
  for (const scheme of ["lookup", "id_secret"]) {
    const r = await v1("POST", "/v1/keys", { body: { name: `ci-${scheme}`, scheme, namespaces: ["myapp"] } });
    assert.equal(r.status, 201, r.text);
    const key = r.body.data;
    assert.equal(key.scheme, scheme);
    assert.equal(key.rate_limit_rpm, 60);
    assert.deepEqual(key.namespaces, ["myapp"]);
    assert.equal(key.key_prefix, key.plain_key.slice(0, 12));
    assert.match(key.plain_key, scheme === "lookup" ? /^prim_[A-Za-z0-9_-]{43}$/ : /^prim_[0-9a-f]{32}_[0-9a-f]{64}$/);
    const me = await call(fx.server.origin, "GET", "/v1/whoami", { token: key.plain_key });
    assert.equal(me.status, 200);
    assert.equal(me.body.data.key_id, key.id);
    assert.deepEqual(me.body.data.namespaces, ["myapp"]);
    const shown = await v1("GET", `/v1/keys/${key.id}`);
    assert.equal(shown.status, 200);
    assert.equal(shown.body.data.plain_key, undefined, "never shown again");
    assert.ok(!shown.text.includes(key.plain_key.slice(12)));
    assert.notEqual(shown.body.data.last_used_at, null, "last_used_at recorded");
  }
  const stored = fx.server.sql("SELECT lookup_hash, secret_phc FROM credentials");
  assert.ok(stored.every((r) => !JSON.stringify(r).includes("prim_")), "no plain key in storage");
});

test("list: cursor pagination over the caller's keys, metadata only", async () => {
  for (let i = 0; i < 5; i++) await v1("POST", "/v1/keys", { body: { name: `page-${i}` } });
  const seen = [];
  let cursor;
  do {
    const r = await v1("GET", `/v1/keys?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
    assert.equal(r.status, 200);
    assert.ok(r.body.data.length <= 2);
    for (const k of r.body.data) {
      assert.equal(k.plain_key, undefined);
      seen.push(k.id);
    }
    cursor = r.body.next_cursor;
  } while (cursor);
  assert.equal(new Set(seen).size, seen.length, "no key twice");
  assert.equal(seen.length, fx.server.sql(`SELECT count(*) AS n FROM credentials WHERE entity_id = '${fx.owner.entity_id}'`)[0].n);
  assert.equal((await v1("GET", "/v1/keys?limit=0")).status, 400);
  assert.equal((await v1("GET", "/v1/keys?cursor=%%%")).status, 400);
});

test("patch: rename, limit, expiry, namespaces; forbidden fields are refused", async () => {
  const minted = (await v1("POST", "/v1/keys", { body: { name: "to-patch" } })).body.data;
  const expires = new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d+Z$/, "Z");
  const r = await v1("PATCH", `/v1/keys/${minted.id}`, { body: { name: "patched", rate_limit_rpm: 500, expires_at: expires, namespaces: ["b", "a"] } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.data.name, "patched");
  assert.equal(r.body.data.rate_limit_rpm, 500);
  assert.equal(r.body.data.expires_at, expires);
  assert.deepEqual(r.body.data.namespaces, ["a", "b"]);
  const limited = await call(fx.server.origin, "GET", "/v1/whoami", { token: minted.plain_key });
  assert.equal(limited.headers.get("ratelimit-limit"), "500", "the gate sees the new limit at once");
  for (const field of [{ revoked_at: null }, { org_id: "org_x" }, { lookup_hash: "00" }, { id: "x" }, { scheme: "id_secret" }]) {
    const bad = await v1("PATCH", `/v1/keys/${minted.id}`, { body: field });
    assert.equal(bad.status, 400, JSON.stringify(field));
    assert.equal(bad.body.error.code, "invalid_request");
  }
  const cleared = await v1("PATCH", `/v1/keys/${minted.id}`, { body: { expires_at: null } });
  assert.equal(cleared.body.data.expires_at, null);
  const row = fx.server.sql(`SELECT org_id, revoked_at FROM credentials WHERE id = '${minted.id}'`)[0];
  assert.deepEqual(row, { org_id: fx.owner.org_id, revoked_at: null });
});

test("delete: soft, idempotent, permanent, and effective on the next request", async () => {
  const minted = (await v1("POST", "/v1/keys", { body: { name: "to-revoke", scheme: "id_secret" } })).body.data;
  assert.equal((await call(fx.server.origin, "GET", "/v1/whoami", { token: minted.plain_key })).status, 200);
  const first = await v1("DELETE", `/v1/keys/${minted.id}`);
  assert.equal(first.status, 200);
  assert.notEqual(first.body.data.revoked_at, null);
  assert.equal((await call(fx.server.origin, "GET", "/v1/whoami", { token: minted.plain_key })).status, 401);
  const second = await v1("DELETE", `/v1/keys/${minted.id}`);
  assert.equal(second.status, 200);
  assert.equal(second.body.data.revoked_at, first.body.data.revoked_at, "idempotent");
  const patch = await v1("PATCH", `/v1/keys/${minted.id}`, { body: { name: "back" } });
  assert.equal(patch.status, 409, "a revoked key cannot be changed");
  assert.equal(fx.server.sql(`SELECT count(*) AS n FROM credentials WHERE id = '${minted.id}'`)[0].n, 1, "row kept");
});

test("limits by role: members up to 60 rpm, owners up to 100,000", async () => {
  assert.equal((await v1("POST", "/v1/keys", { body: { name: "big", rate_limit_rpm: 100000 } })).status, 201);
  assert.equal((await v1("POST", "/v1/keys", { body: { name: "too-big", rate_limit_rpm: 100001 } })).status, 400);
  const member = seedOrg(fx.server, { name: "members", role: "member" });
  const m = await call(fx.server.origin, "POST", "/v1/keys", { token: member.key, body: { name: "m", rate_limit_rpm: 61 } });
  assert.equal(m.status, 400);
  assert.match(m.body.error.message, /between 1 and 60/);
  const audit = await call(fx.server.origin, "GET", "/v1/audit", { token: member.key });
  assert.equal(audit.status, 403);
  assert.match(audit.body.error.message, /permission/);
});

test("org isolation: another org's key ids answer 404 and change nothing", async () => {
  const other = seedOrg(fx.server, { name: "isolated" });
  for (const [method, body] of [["GET"], ["PATCH", { name: "stolen" }], ["DELETE"]]) {
    const r = await v1(method, `/v1/keys/${other.keyId}`, body ? { body } : {});
    assert.equal(r.status, 404, method);
    assert.equal(r.body.error.code, "not_found");
  }
  const row = fx.server.sql(`SELECT name, revoked_at FROM credentials WHERE id = '${other.keyId}'`)[0];
  assert.deepEqual(row, { name: "seeded", revoked_at: null });
  const theirs = await call(fx.server.origin, "GET", "/v1/keys", { token: other.key });
  assert.deepEqual(theirs.body.data.map((k) => k.id), [other.keyId]);
});

test("audit: owners read their org's events, filtered by event and key", async () => {
  const r = await v1("GET", "/v1/audit?event=key.minted&limit=100");
  assert.equal(r.status, 200);
  assert.ok(r.body.data.length >= 3);
  assert.ok(r.body.data.every((e) => e.event === "key.minted"));
  const one = r.body.data[0];
  const byKey = await v1("GET", `/v1/audit?key=${one.credential_id}`);
  assert.ok(byKey.body.data.every((e) => e.credential_id === one.credential_id));
  assert.ok(!r.text.includes("prim_") || r.body.data.every((e) => !e.key_prefix || e.key_prefix.length <= 12));
});

test("the worker's lookup hash equals node:crypto's PBKDF2 of the same key and secret", async () => {
  const minted = (await v1("POST", "/v1/keys", { body: { name: "hash-check" } })).body.data;
  const stored = fx.server.sql(`SELECT lookup_hash FROM credentials WHERE id = '${minted.id}'`)[0].lookup_hash;
  assert.equal(stored, fx.server.lookupHash(minted.plain_key));
});
