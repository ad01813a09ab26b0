// The Atom seed's curl examples (shared/seeds/002), copied verbatim below and replayed
// literally against a server with KEY_PREFIX=atom: the seed's host is swapped for the
// test server, and $TOKEN, $ENTITY_ID, $CRED_ID and the seed's placeholders are filled
// in the way a reader of the document would fill them. Each answer must have the shape
// the document shows.
import { test } from "node:test";
import assert from "node:assert/strict";
import { call, useKeyward } from "./helpers.mjs";

const fx = useKeyward({ prefix: "atom" });

const SEED = String.raw`
curl -X POST http://localhost:8080/entities/$ENTITY_ID/credentials/password \
  -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' \
  -d '{"password": "s3cur3-p@ssw0rd"}'
---
curl -X POST http://localhost:8080/auth/login \
  -H 'Content-Type: application/json' \
  -d '{"identifier": "alice@example.com", "secret": "s3cur3-p@ssw0rd"}'
---
curl -X POST http://localhost:8080/auth/signup \
  -H 'Content-Type: application/json' \
  -d '{"name": "Alice", "email": "alice@example.com", "password": "s3cur3-p@ssw0rd"}'
---
curl 'http://localhost:8080/auth/email/verify?token=atomv_...'
---
curl -X POST http://localhost:8080/auth/email/resend \
  -H 'Content-Type: application/json' \
  -d '{"email": "alice@example.com"}'
---
curl -X POST http://localhost:8080/entities/$ENTITY_ID/credentials/api-keys \
  -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' \
  -d '{"description": "device-01 production key"}'
---
curl http://localhost:8080/entities/$ENTITY_ID \
  -H "Authorization: Bearer atom_<id>_<secret>"
---
curl http://localhost:8080/entities/$ENTITY_ID/credentials \
  -H "Authorization: Bearer $TOKEN"
---
curl -X DELETE \
  http://localhost:8080/entities/$ENTITY_ID/credentials/$CRED_ID \
  -H "Authorization: Bearer $TOKEN"
`.trim().split("\n---\n");

/** Splits a curl command line into words the way a POSIX shell would ($VARs expanded). */
function words(command, env) {
  const text = command.replace(/\\\n\s*/g, " ");
  const out = [];
  let word = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      word = (word ?? "") + text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      word = (word ?? "") + text.slice(i + 1, end).replace(/\$([A-Z_]+)/g, (_, v) => env[v]);
      i = end;
    } else if (c === "$") {
      const name = text.slice(i + 1).match(/^[A-Z_]+/)[0];
      word = (word ?? "") + env[name];
      i += name.length;
    } else if (c === " ") {
      if (word !== null) out.push(word);
      word = null;
    } else {
      word = (word ?? "") + c;
    }
  }
  if (word !== null) out.push(word);
  return out;
}

/** Runs seed example `n` with `env`, after the reader's substitutions `fill`. */
async function replay(n, env, fill = (s) => s) {
  const argv = words(fill(SEED[n]), env);
  assert.equal(argv.shift(), "curl");
  let method;
  let url;
  let body;
  const headers = {};
  while (argv.length) {
    const a = argv.shift();
    if (a === "-X") method = argv.shift();
    else if (a === "-H") {
      const [k, ...v] = argv.shift().split(":");
      headers[k.trim().toLowerCase()] = v.join(":").trim();
    } else if (a === "-d") body = argv.shift();
    else url = new URL(a);
  }
  method ??= body === undefined ? "GET" : "POST";
  const { authorization, ...rest } = headers;
  const token = authorization?.replace(/^Bearer /, "");
  return call(fx.server.origin, method, url.pathname + url.search, { token, headers: rest, raw: body });
}

const keysOf = (o) => Object.keys(o).sort();

test("the Atom seed's curl examples, replayed literally with KEY_PREFIX=atom", async () => {
  const owner = fx.owner.plain_key;
  // An entity for Alice, as an admin would create it before the seed's first example.
  const alice = (await call(fx.server.origin, "POST", "/entities", { token: owner, body: { kind: "human", name: "Alice", email: "alice@example.com" } })).body;
  const env = { TOKEN: owner, ENTITY_ID: alice.id };

  const setPassword = await replay(0, env);
  assert.equal(setPassword.status, 201, setPassword.text);

  // Signup of the same address: the same accepted answer, nothing changes (an entity
  // with this identifier exists; its owner gets a notice instead of a link).
  const signup = await replay(2, env);
  assert.equal(signup.status, 202);
  assert.equal(signup.body.email, "alice@example.com");

  // The address was created by an admin, so it is unverified: login says so.
  const unverified = await replay(1, env);
  assert.equal(unverified.status, 403);
  assert.equal(unverified.body.error.code, "email_not_verified");
  assert.deepEqual(keysOf(unverified.body.error), ["code", "message", "request_id"]);

  // Resend sends Alice a link; the seed's `atomv_...` placeholder is that link's token.
  const resend = await replay(4, env);
  assert.equal(resend.status, 202);
  let link;
  for (let i = 0; i < 40 && !link; i++) {
    const box = await call(fx.server.origin, "GET", "/dev/outbox?to=alice@example.com");
    link = box.body.items.find((m) => m.subject === "Verify your email address")?.text.match(/token=(atomv_\S+)/)?.[1];
    if (!link) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(link, "a verification link in the outbox");
  const placeholder = await replay(3, env);
  assert.equal(placeholder.status, 400, "the literal placeholder is not a token");
  const verify = await replay(3, env, (s) => s.replace("atomv_...", link));
  assert.equal(verify.status, 200, verify.text);

  const login = await replay(1, env);
  assert.equal(login.status, 200, login.text);
  assert.deepEqual(keysOf(login.body), ["entity_id", "expires_at", "session_id", "token"]);
  assert.match(login.body.token, /^eyJ/);
  assert.equal(login.body.entity_id, alice.id);
  assert.match(login.body.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

  const minted = await replay(5, env);
  assert.equal(minted.status, 201, minted.text);
  assert.deepEqual(keysOf(minted.body), ["credential_id", "expires_at", "key"]);
  assert.match(minted.body.key, /^atom_[0-9a-f]{32}_[0-9a-f]{64}$/);
  assert.equal(minted.body.key.split("_")[1], minted.body.credential_id, "the credential id is embedded");
  assert.equal(minted.body.expires_at, null);

  // "You can set an expiry": the seed's date (2026-01-01) is already past, so the literal
  // body is refused; the same body a year ahead is accepted.
  const withExpiry = (date) => (s) => s.replace(`'{"description": "device-01 production key"}'`, `'{"expires_at": "${date}", "description": "temporary key"}'`);
  assert.equal((await replay(5, env, withExpiry("2026-01-01T00:00:00Z"))).status, 400);
  const future = `${new Date().getUTCFullYear() + 1}-01-01T00:00:00Z`;
  const expiring = await replay(5, env, withExpiry(future));
  assert.equal(expiring.status, 201);
  assert.equal(expiring.body.expires_at, future);

  const used = await replay(6, env, (s) => s.replace("atom_<id>_<secret>", minted.body.key));
  assert.equal(used.status, 200);
  assert.equal(used.body.id, alice.id);

  const listed = await replay(7, env);
  assert.equal(listed.status, 200);
  assert.deepEqual(keysOf(listed.body), ["items"]);
  for (const item of listed.body.items) {
    assert.deepEqual(keysOf(item), ["created_at", "expires_at", "id", "identifier", "kind", "status"]);
  }
  const apiKey = listed.body.items.find((c) => c.id === minted.body.credential_id);
  assert.equal(apiKey.kind, "api_key");
  assert.equal(apiKey.identifier, `${minted.body.key.slice(0, 12)}...`);
  assert.equal(apiKey.status, "active");
  assert.ok(!listed.text.includes(minted.body.key.split("_")[2]), "no secret in the listing");
  assert.ok(!listed.text.includes("$argon2"), "no hash in the listing");

  const revoked = await replay(8, { ...env, CRED_ID: minted.body.credential_id });
  assert.equal(revoked.status, 200);
  assert.equal(revoked.body.status, "revoked");
  const after = await replay(6, env, (s) => s.replace("atom_<id>_<secret>", minted.body.key));
  assert.equal(after.status, 401, "rejected on the very next request");
});
