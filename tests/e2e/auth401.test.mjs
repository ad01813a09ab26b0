// The 401 rule (SPEC §4): every authentication failure answers the same bytes (request
// id aside) and the same challenge; the precise reasons reach the audit log only.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { call, useKeyward, seedOrg } from "./helpers.mjs";

const fx = useKeyward({ prefix: "ptmc" });

async function mint(body) {
  const r = await call(fx.server.origin, "POST", "/v1/keys", { token: fx.owner.plain_key, body });
  assert.equal(r.status, 201, r.text);
  return r.body.data;
}

test("sixteen kinds of failure give byte-identical 401s, with eight-plus distinct audited reasons", async () => {
  const revoked = await mint({ name: "revoked" });
  await call(fx.server.origin, "DELETE", `/v1/keys/${revoked.id}`, { token: fx.owner.plain_key });
  const revokedIdSecret = await mint({ name: "revoked-ids", scheme: "id_secret" });
  await call(fx.server.origin, "DELETE", `/v1/keys/${revokedIdSecret.id}`, { token: fx.owner.plain_key });
  const expiring = await mint({ name: "expiring", expires_at: new Date(Date.now() + 2000).toISOString() });
  const deleted = seedOrg(fx.server, { name: "gone", entityStatus: "deleted" });
  const suspended = seedOrg(fx.server, { name: "paused", entityStatus: "suspended" });
  const idSecret = await mint({ name: "ids", scheme: "id_secret" });
  await new Promise((r) => setTimeout(r, 2500)); // let `expiring` expire

  const unknownKey = `ptmc_${randomBytes(32).toString("base64url")}`;
  const cases = {
    "missing header": {},
    "Basic scheme": { headers: { authorization: "Basic dXNlcjpwYXNz" } },
    "empty bearer": { headers: { authorization: "Bearer " } },
    "unknown key": { token: unknownKey },
    "wrong-length key": { token: unknownKey.slice(0, -3) },
    "non-canonical key": { token: `${unknownKey.slice(0, -1)}${unknownKey.endsWith("A") ? "B" : "A"}` },
    "revoked key": { token: revoked.plain_key },
    "revoked id_secret key": { token: revokedIdSecret.plain_key },
    "expired key": { token: expiring.plain_key },
    "key of a soft-deleted entity": { token: deleted.key },
    "key of a suspended entity": { token: suspended.key },
    "id_secret with a wrong secret": { token: `${idSecret.plain_key.slice(0, -4)}0000` },
    "id_secret with an unknown id": { token: `ptmc_${"ab".repeat(16)}_${"cd".repeat(32)}` },
    "garbage bytes": { headers: { authorization: "Bearer \u00ff\u00fe%00;DROP TABLE" } },
    "another deployment's prefix": { token: `prim_${randomBytes(32).toString("base64url")}` },
    "overlong token": { token: `ptmc_${"a".repeat(600)}` },
    "JWT-shaped token": { token: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln" },
  };
  const seen = new Map();
  for (const [name, opts] of Object.entries(cases)) {
    const r = await call(fx.server.origin, "GET", "/v1/whoami", opts);
    assert.equal(r.status, 401, name);
    const requestId = r.headers.get("x-request-id");
    assert.equal(r.body.error.request_id, requestId, name);
    seen.set(name, {
      body: r.text.replace(requestId, "REQ"),
      challenge: r.headers.get("www-authenticate"),
      type: r.headers.get("content-type"),
      retryAfter: r.headers.get("retry-after"),
    });
  }
  const distinct = new Set([...seen.values()].map((v) => JSON.stringify(v)));
  assert.equal(distinct.size, 1, `all 401s identical, got ${[...distinct].join("\n")}`);
  const one = [...seen.values()][0];
  assert.match(one.challenge, /^Bearer realm="Keyward API", resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource"$/);
  assert.equal(one.retryAfter, null);

  await new Promise((r) => setTimeout(r, 500)); // audit writes run after the answer
  const reasons = new Set(fx.server.sql("SELECT reason FROM audit_events WHERE event = 'auth.failed'").map((r) => r.reason));
  for (const expected of ["missing_header", "not_bearer_scheme", "empty_token", "unknown_key", "malformed_key", "revoked", "expired", "entity_deleted", "entity_suspended", "wrong_secret", "invalid_characters", "unknown_token_shape", "token_too_long"]) {
    assert.ok(reasons.has(expected), `audit log holds ${expected}; has ${[...reasons].join(", ")}`);
  }
  const logged = JSON.stringify(fx.server.sql("SELECT * FROM audit_events"));
  for (const secret of [revoked.plain_key, idSecret.plain_key, unknownKey]) {
    assert.ok(!logged.includes(secret.slice(12)), "no secret beyond the 12-character prefix in the audit log");
  }
});

test("public routes need no credential and unknown routes are 404 in the right family", async () => {
  assert.equal((await call(fx.server.origin, "GET", "/health")).status, 200);
  const v1 = await call(fx.server.origin, "GET", "/v1/nope", { token: fx.owner.plain_key });
  assert.equal(v1.status, 404);
  assert.equal(v1.body.success, false);
  const bare = await call(fx.server.origin, "GET", "/nope");
  assert.equal(bare.status, 404);
  assert.equal(bare.body.error.code, "not_found");
  assert.equal(bare.body.success, undefined);
});

test("the challenge's resource_metadata URL serves the RFC 9728 document, with the offered scopes", async () => {
  const r = await call(fx.server.origin, "GET", "/v1/whoami");
  const url = r.headers.get("www-authenticate").match(/resource_metadata="([^"]+)"/)[1];
  const doc = await call(fx.server.origin, "GET", new URL(url).pathname);
  assert.equal(doc.status, 200);
  assert.deepEqual(doc.body, {
    resource: fx.server.origin,
    authorization_servers: [fx.server.origin],
    bearer_methods_supported: ["header"],
    scopes_supported: ["keyward:api"],
    resource_name: "Keyward API",
  });
});
