// Hostile input at the identity endpoints (SPEC §2, §4, §8): /entities, their
// credentials, /auth/*, /admin/signing-keys/rotate and /dev/outbox. Malformed, oversized,
// wrong-typed, mass-assigning, injected, cross-org and forged requests all get a 4xx in
// the bare family's shape, never a 5xx, and change nothing: the identity tables are read
// back and compared with a snapshot taken before the barrage. A second test checks that
// every kind of failed login answers the same bytes; a third that a signup refused for
// its address's spent email budget wrote nothing. KEYWARD_E2E_TRACE=1 prints each answer.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { bootstrap, call, keyward, seedOrg } from "./helpers.mjs";
import { bearer, changedTables, garbageCredentials, identitySnapshot, runBarrage, withoutRequestId } from "./barrage.mjs";

const fixtures = new URL("../../core/tests/fixtures/", import.meta.url);
const pem = (name) => readFileSync(new URL(name, fixtures), "utf8");
const CERT = pem("p256-service.pem"); // registered to `svc` in `before`
const CERT2 = pem("ed25519-device.pem"); // valid and unregistered: every use must fail elsewhere
const CERT_V1 = pem("rsa-v1.pem");

const b64 = (value) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
const unb64 = (text) => JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
const password = () => `kw-${randomBytes(8).toString("hex")}-pass`;

let server;
/** Fixtures: ids and credentials made through the API (and `seedOrg` for another org). */
const fx = {};

/** A request that must succeed while setting up; returns its JSON body. */
async function ok(status, method, pathname, opts) {
  const r = await call(server.origin, method, pathname, opts);
  assert.equal(r.status, status, `${method} ${pathname}: ${r.text}`);
  return r.body;
}

/** An entity made by the owner, with an `id_secret` key (rate 1,000/min) when `key`. */
async function entity(body, { key = false, secret } = {}) {
  const t = fx.owner.plain_key;
  const made = await ok(201, "POST", "/entities", { token: t, body });
  if (secret) await ok(201, "POST", `/entities/${made.id}/credentials/password`, { token: t, body: { password: secret } });
  if (key) {
    const k = await ok(201, "POST", `/entities/${made.id}/credentials/api-keys`, { token: t, body: { description: `${body.name} key`, rate_limit_rpm: 1000 } });
    made.key = k.key;
  }
  return made;
}

before(async () => {
  server = await keyward({ prefix: "atom" });
  fx.owner = await bootstrap(server);
  fx.other = seedOrg(server, { name: "victim" });
  fx.miaSecret = password();
  fx.mia = await entity({ kind: "human", name: "Mia Member", email: "mia@acme.example" }, { secret: fx.miaSecret });
  fx.svc = await entity({ kind: "service", name: "svc-member" }, { key: true });
  fx.admin = await entity({ kind: "service", name: "svc-admin", role: "admin" }, { key: true });
  fx.gone = await entity({ kind: "device", name: "gone" });
  await ok(200, "PATCH", `/entities/${fx.gone.id}`, { token: fx.owner.plain_key, body: { status: "deleted" } });
  fx.cert = await ok(201, "POST", `/entities/${fx.svc.id}/credentials/certificates`, { token: fx.owner.plain_key, body: { pem: CERT } });

  // A self-registered, verified user with a session.
  fx.samEmail = "sam@signup.example";
  fx.samSecret = password();
  await ok(202, "POST", "/auth/signup", { body: { name: "Sam Signup", email: fx.samEmail, password: fx.samSecret } });
  const mail = await ok(200, "GET", `/dev/outbox?to=${encodeURIComponent(fx.samEmail)}`, {});
  fx.verifyToken = /token=([A-Za-z0-9_-]+)/.exec(mail.items[0].text)[1];
  await ok(200, "GET", `/auth/email/verify?token=${fx.verifyToken}`, {});
  const signIn = () => ok(200, "POST", "/auth/login", { body: { identifier: fx.samEmail, secret: fx.samSecret } });
  ({ token: fx.jwt, entity_id: fx.samId } = await signIn());
  fx.loggedOut = (await signIn()).token;
  await ok(200, "POST", "/auth/logout", { token: fx.loggedOut });
  fx.jwk = (await ok(200, "GET", "/.well-known/jwks.json", {})).keys[0];
});
after(async () => {
  if (process.env.KEYWARD_E2E_LOG) console.log(server?.log());
  await server?.stop();
  server?.cleanup();
});

/** Session JWTs forged from Sam's real one. */
function forgedJwts() {
  const [h, p, s] = fx.jwt.split(".");
  const header = unb64(h);
  const payload = unb64(p);
  const flip = (text, i) => `${text.slice(0, i)}${text[i] === "A" ? "B" : "A"}${text.slice(i + 1)}`;
  const hs256Header = b64({ ...header, alg: "HS256" });
  const hs256 = `${hs256Header}.${p}.${createHmac("sha256", Buffer.from(fx.jwk.x, "base64url")).update(`${hs256Header}.${p}`).digest("base64url")}`;
  return {
    "flipped signature": `${h}.${p}.${flip(s, 10)}`,
    "alg none": `${b64({ ...header, alg: "none" })}.${p}.`,
    "HMAC with the public key": hs256,
    "unknown kid": `${b64({ ...header, kid: "0123456789abcdef" })}.${p}.${s}`,
    "jku header": `${b64({ ...header, jku: "https://evil.example/jwks.json" })}.${p}.${s}`,
    "other org claims": `${h}.${b64({ ...payload, org: fx.other.org, sub: fx.other.entity })}.${s}`,
    "no exp": `${h}.${b64({ ...payload, exp: undefined })}.${s}`,
    "two parts": `${h}.${p}`,
    "kid path traversal": `${b64({ ...header, kid: "../../etc/passwd" })}.${p}.${s}`,
  };
}

/**
 * The barrage: `[method, path, opts, expect?]`. `expect` is an exact status, or
 * `{ status, message }` (a RegExp the error message must match); without it any 4xx.
 * `opts.raw` as a string starting with a method line is sent over a raw socket.
 */
function hostileCases() {
  const { owner, other, mia, svc, admin, gone } = fx;
  const t = owner.plain_key;
  const big = "x".repeat(70 * 1024);
  const huge = "h".repeat(60_000); // under the 64 KiB body limit: refused by each field's own rule
  const badUtf8 = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('","kind":"human"}')]);
  const deepArray = `${"[".repeat(5000)}${"]".repeat(5000)}`;
  const deepObject = `${'{"a":'.repeat(3000)}1${"}".repeat(3000)}`;
  const crlf = "x\r\nSet-Cookie: kw=1\r\nX-Injected: 1";
  const sqlEmail = "x'or'1'='1@acme.example";
  const sqlName = "x'); DROP TABLE entities;--";
  const zeroId = `ent_${"0".repeat(32)}`;
  const permission = { status: 403, message: /permission/ };
  const lastOwner = { status: 409, message: /at least one active owner/ };
  const json = { "content-type": "application/json" };
  const as = (token) => (method, path, body, expect) => [method, path, { token, body }, expect];
  const asOwner = as(t);
  const asMember = as(svc.key);
  const asAdmin = as(admin.key);
  // `token` null: no Authorization header (the public endpoints).
  const rawJson = (method, path, payload, token, expect) => [method, path, { ...(token ? { token } : {}), raw: payload, headers: json }, expect];
  const malformed = (method, path, token = t) =>
    ["{", '{"name": "x', "", "null", "[]", '"x"', badUtf8, deepArray, deepObject, '\ufeff{"name":"x"}', '{"name":"\\ud800"}', '{"name":1e400}'].map((p) => rawJson(method, path, p, token));
  const oversized = (method, path, token = t) => rawJson(method, path, big, token, 413);
  const privateKey = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" });
  const publicKey = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" });
  const certBody = CERT.trim().split("\n").slice(1, -1).join("\n");
  const cert = (body, id = svc.id, token = t, expect) => ["POST", `/entities/${id}/credentials/certificates`, { token, body }, expect];
  const apiKey = (body, id = svc.id, token = t, expect) => ["POST", `/entities/${id}/credentials/api-keys`, { token, body }, expect];
  const setPassword = (body, id = mia.id, token = t, expect) => ["POST", `/entities/${id}/credentials/password`, { token, body }, expect];
  const patch = (body, id = mia.id, token = t, expect) => ["PATCH", `/entities/${id}`, { token, body }, expect];
  const create = (body, token = t, expect) => ["POST", "/entities", { token, body }, expect];
  const login = (body, expect) => ["POST", "/auth/login", { body }, expect];
  const signup = (body) => ["POST", "/auth/signup", { body }];
  const resend = (body) => ["POST", "/auth/email/resend", { body }];
  const verify = (query, expect = 400) => ["GET", `/auth/email/verify${query}`, {}, expect];
  const forged = Object.values(forgedJwts());
  const garbageTokens = [
    ...garbageCredentials("atom", svc.key),
    { token: svc.key.replace(/^atom_/, "ptmc_") },
    { token: t.toUpperCase() },
    { token: server.vars.ADMIN_TOKEN },
    bearer(`Bearer ${t} ${t}`),
    bearer("Bearer \u00ff\u00fe%00;DROP TABLE entities"),
    ...forged.map((token) => ({ token })),
  ];
  const sqlIds = ["ent_'%20OR%20'1'%3D'1", "%27%3B%20DROP%20TABLE%20entities%3B--", "1%20OR%201%3D1"];
  return [
    // POST /entities: malformed, wrong types, enums, huge, control characters, injection
    ...malformed("POST", "/entities"),
    oversized("POST", "/entities"),
    create({}),
    create({ kind: "human" }),
    create({ name: "x" }),
    ...[5, null, ["human"], {}, "robot", "HUMAN", "human ", "human\u0000"].map((kind) => create({ kind, name: "x" })),
    ...["superadmin", "Owner", 1, ["admin"], "owner\r\n"].map((role) => create({ kind: "service", name: "x", role })),
    ...[5, null, {}, [], "", "   ", "n".repeat(101), huge, "evil\u0000name", crlf, "bell\u0007"].map((name) => create({ kind: "device", name })),
    ...[5, [], {}, "not-an-email", "a@b.example\r\nBcc: victim@evil.example", "nul\u0000@acme.example", huge, "@acme.example", "a@127.0.0.1"].map((email) =>
      create({ kind: "human", name: "x", email }),
    ),
    create({ kind: "human", name: "", email: sqlEmail }),
    create({ kind: "robot'; DROP TABLE entities;--", name: sqlName }),
    create({ kind: "human", name: "dup", email: "owner@acme.example" }, t, 409),
    create({ kind: "human", name: "dup", email: "MIA@acme.example" }, t, 409),
    create({ kind: "human", name: "dup", email: fx.samEmail }, t, 409), // emails are global login identifiers
    ...[
      { org_id: other.org },
      { id: zeroId },
      { email_verified_at: 1 },
      { version: 99 },
      { secret_phc: "$argon2id$v=19$m=8,t=1,p=1$AAAA$AAAA" },
      { revoked_at: null },
      { status: "active" },
      { created_at: 0 },
    ].map((extra) => create({ kind: "service", name: "mass", ...extra })),
    create({ kind: "service", name: "by-member" }, svc.key, permission),
    create({ kind: "service", name: "owner-by-admin", role: "owner" }, admin.key, permission),
    // GET /entities: permission, queries
    asMember("GET", "/entities", undefined, permission),
    ...["limit=0", "limit=abc", "limit=1%20OR%201%3D1", "limit=99999999999999999999", "cursor=%27%20OR%201%3D1--", `cursor=${b64("0:x' OR '1'='1")}`, `cursor=${"A".repeat(5000)}`].map((q) =>
      asOwner("GET", `/entities?${q}`),
    ),
    // GET /entities/{id}: other orgs, unknown, overlong, injection, traversal
    asOwner("GET", `/entities/${other.entity}`, undefined, 404),
    asAdmin("GET", `/entities/${other.entity}`, undefined, 404),
    as(fx.jwt)("GET", `/entities/${owner.entity_id}`, undefined, 404),
    as(other.key)("GET", `/entities/${mia.id}`, undefined, 404),
    asOwner("GET", `/entities/${zeroId}`, undefined, 404),
    asOwner("GET", `/entities/ent_${"a".repeat(5000)}`, undefined, 404),
    asOwner("GET", `/entities/${mia.id.toUpperCase()}`, undefined, 404),
    asOwner("GET", "/entities/..%2F..%2Fadmin%2Fbootstrap", undefined, 404),
    asOwner("GET", "/entities/%00", undefined, 404),
    ...sqlIds.map((id) => asOwner("GET", `/entities/${id}`, undefined, 404)),
    asMember("GET", `/entities/${owner.entity_id}`, undefined, permission),
    // PATCH /entities/{id}: mass assignment, enums, types, deleted, self, roles
    ...malformed("PATCH", `/entities/${mia.id}`).slice(0, 4),
    oversized("PATCH", `/entities/${mia.id}`),
    ...[
      { org_id: other.org },
      { id: zeroId },
      { email: "new@acme.example" },
      { email_verified_at: 1 },
      { version: 99 },
      { secret_phc: "$argon2id$" },
      { revoked_at: 1 },
      { kind: "device" },
      { created_at: 0 },
    ].map((body) => patch(body)),
    ...[{ role: "superadmin" }, { role: "OWNER" }, { role: 1 }, { status: "banned" }, { status: "DELETED" }, { status: 5 }, { status: ["suspended"] }, { role: null, status: "bogus" }].map(
      (body) => patch(body),
    ),
    ...[5, "", "evil\u0000", crlf, huge].map((name) => patch({ name })),
    patch({ name: sqlName, status: "nope" }),
    patch({ status: "suspended" }, other.entity, t, 404),
    patch({ status: "suspended" }, zeroId, t, 404),
    patch({ status: "active" }, gone.id, t, 409),
    patch({ name: "back" }, gone.id, t, 409),
    // The sole owner acting on themselves hears the rule that binds them.
    patch({ role: "member" }, owner.entity_id, t, lastOwner),
    patch({ status: "suspended" }, owner.entity_id, t, lastOwner),
    patch({ role: "owner" }, admin.id, admin.key, permission),
    patch({ status: "inactive" }, admin.id, admin.key, permission),
    patch({ status: "suspended" }, owner.entity_id, admin.key, permission),
    patch({ role: "owner" }, mia.id, admin.key, permission),
    patch({ role: "admin" }, svc.id, svc.key, permission),
    patch({ status: "suspended" }, mia.id, svc.key, permission),
    patch({ status: "suspended" }, mia.id, fx.jwt, 404),
    // GET /entities/{id}/credentials
    asOwner("GET", `/entities/${other.entity}/credentials`, undefined, 404),
    asOwner("GET", `/entities/${sqlIds[0]}/credentials`, undefined, 404),
    asMember("GET", `/entities/${owner.entity_id}/credentials`, undefined, permission),
    // POST …/credentials/password
    ...malformed("POST", `/entities/${mia.id}/credentials/password`).slice(0, 7),
    oversized("POST", `/entities/${mia.id}/credentials/password`),
    ...["short", "password", "Password1", 5, null, ["x"], {}, "nul\u0000-in-password", "crlf\r\n-in-password", "\t".repeat(10), "p".repeat(5000), huge].map((secret) =>
      setPassword({ password: secret }),
    ),
    setPassword({ password: password(), secret_phc: "$argon2id$" }),
    setPassword({ password: password(), entity_id: svc.id }),
    setPassword({ password: password() }, other.entity, t, 404),
    setPassword({ password: password() }, gone.id, t, 409),
    setPassword({ password: password() }, owner.entity_id, svc.key, permission),
    setPassword({ password: password() }, owner.entity_id, admin.key, permission),
    setPassword({ password: password() }, mia.id, svc.key, permission),
    setPassword({ password: password() }, mia.id, fx.jwt, 404),
    // POST …/credentials/api-keys
    ...malformed("POST", `/entities/${svc.id}/credentials/api-keys`).slice(0, 5),
    oversized("POST", `/entities/${svc.id}/credentials/api-keys`),
    ...[5, "", "evil\u0000", crlf, huge].map((description) => apiKey({ description })),
    ...["yesterday", "2020-01-01T00:00:00Z", "2099-02-30T00:00:00Z", 4102444800].map((expires_at) => apiKey({ expires_at })),
    ...[-1, 0, 1e10, "60", 1.5, 100001].map((rate_limit_rpm) => apiKey({ rate_limit_rpm })),
    ...[{ scheme: "lookup" }, { key: `atom_${"ab".repeat(16)}_${"cd".repeat(32)}` }, { revoked_at: null }, { org_id: other.org }, { namespaces: ["a"] }, { entity_id: owner.entity_id }].map(
      (body) => apiKey(body),
    ),
    apiKey({ rate_limit_rpm: 61 }, svc.id, svc.key),
    apiKey({}, other.entity, t, 404),
    apiKey({}, gone.id, t, 409),
    apiKey({}, owner.entity_id, svc.key, permission),
    apiKey({}, owner.entity_id, admin.key, permission),
    // POST …/credentials/certificates
    ...malformed("POST", `/entities/${svc.id}/credentials/certificates`).slice(0, 3),
    oversized("POST", `/entities/${svc.id}/credentials/certificates`),
    ...[
      "hello",
      "",
      5,
      null,
      [CERT],
      `-----BEGIN CERTIFICATE-----\nnot base64!!\n-----END CERTIFICATE-----`,
      `-----BEGIN CERTIFICATE-----\n${certBody.slice(0, 200)}\n-----END CERTIFICATE-----`,
      privateKey,
      `${CERT2}${privateKey}`,
      `${CERT2}${CERT_V1}`,
      `-----BEGIN CERTIFICATE-----\n${"QUFB".repeat(5 * 1024)}\n-----END CERTIFICATE-----`,
      publicKey,
      CERT_V1,
      `subject: me\n${CERT2}`,
      `${CERT2}`.replace("-----END", "\u0000-----END"),
      CERT2.replace("-----BEGIN CERTIFICATE-----", "-----BEGIN CERTIFICATE-----\r\nX-Injected: 1"),
    ].map((body) => cert({ pem: body })),
    cert({ pem: CERT }, svc.id, t, 409),
    cert({ pem: CERT }, fx.samId, fx.jwt, 409), // fingerprints are global too
    cert({ pem: CERT2, fingerprint: "00".repeat(32) }),
    cert({ pem: CERT2, description: "evil\u0000" }),
    cert({ pem: CERT2, description: huge.slice(0, 40_000) }),
    cert({ pem: CERT2 }, other.entity, t, 404),
    cert({ pem: CERT2 }, gone.id, t, 409),
    cert({ pem: CERT2 }, owner.entity_id, svc.key, permission),
    // DELETE …/credentials/{cred}
    asOwner("DELETE", `/entities/${svc.id}/credentials/${other.keyId}`, undefined, 404),
    asOwner("DELETE", `/entities/${svc.id}/credentials/${owner.key_id}`, undefined, 404),
    asOwner("DELETE", `/entities/${other.entity}/credentials/${other.keyId}`, undefined, 404),
    asOwner("DELETE", `/entities/${svc.id}/credentials/not-a-credential`, undefined, 404),
    asOwner("DELETE", `/entities/${svc.id}/credentials/${"f".repeat(5000)}`, undefined, 404),
    asOwner("DELETE", `/entities/${svc.id}/credentials/..%2F${fx.cert.credential_id}`, undefined, 404),
    asOwner("DELETE", `/entities/${svc.id}/credentials/${fx.cert.credential_id.toUpperCase()}`),
    ...sqlIds.map((id) => asOwner("DELETE", `/entities/${svc.id}/credentials/${id}`, undefined, 404)),
    asOwner("DELETE", `/entities/${gone.id}/credentials/${"0".repeat(32)}`, undefined, 409),
    asMember("DELETE", `/entities/${owner.entity_id}/credentials/${owner.key_id}`, undefined, permission),
    asAdmin("DELETE", `/entities/${owner.entity_id}/credentials/${owner.key_id}`, undefined, permission),
    as(fx.jwt)("DELETE", `/entities/${svc.id}/credentials/${fx.cert.credential_id}`, undefined, 404),
    // wrong methods and paths under /entities
    asOwner("PUT", `/entities/${mia.id}/credentials/password`, { password: password() }, 405),
    asOwner("GET", `/entities/${svc.id}/credentials/api-keys`, undefined, 405),
    asOwner("DELETE", `/entities/${mia.id}`, undefined, 405),
    asOwner("POST", `/entities/${mia.id}/credentials/passwords`, { password: password() }, 404),
    // forged and garbage credentials on the protected endpoints: the one 401
    ...garbageTokens.map((opts) => ["GET", "/entities", opts, 401]),
    ...garbageTokens.slice(0, 6).map((opts) => ["PATCH", `/entities/${mia.id}`, { ...opts, body: { status: "suspended" } }, 401]),
    ["POST", `/entities/${mia.id}/credentials/password`, { body: { password: password() } }, 401],
    ["POST", `/entities/${mia.id}/credentials/password`, { token: fx.loggedOut, body: { password: password() } }, 401],
    ["GET", "/entities", { token: fx.loggedOut }, 401],
    ["POST", "/auth/logout", { token: fx.loggedOut }, 401],
    ["DELETE", `/entities/${svc.id}/credentials/${fx.cert.credential_id}`, { token: forged[0] }, 401],
    ["POST", "/entities", { raw: big, headers: json }, 401],
    // POST /auth/login
    ...malformed("POST", "/auth/login", null),
    oversized("POST", "/auth/login", null),
    rawJson("POST", "/auth/login", `{"identifier":"${fx.samEmail}","secret":"a","secret":"${fx.samSecret}"}`, null),
    ...[5, null, [fx.samEmail], {}, "sam", owner.entity_id, "' OR 1=1--", `${fx.samEmail}\r\nX-Injected: 1`, `sam\u0000@signup.example`, huge].map((identifier) =>
      login({ identifier, secret: "x" }),
    ),
    ...[5, null, [fx.samSecret], { $ne: "" }, "s".repeat(5000)].map((secret) => login({ identifier: fx.samEmail, secret })),
    login({ identifier: fx.samEmail }),
    login({ secret: fx.samSecret }),
    login({ identifier: fx.samEmail, secret: fx.samSecret, org_id: other.org }),
    login({ identifier: fx.samEmail, secret: fx.samSecret, remember: true }),
    login({ identifier: fx.samEmail, secret: `${fx.samSecret}\u0000` }, 401),
    login({ identifier: sqlEmail, secret: "' OR '1'='1" }, 401),
    login({ identifier: "nobody@acme.example", secret: "x" }, 401),
    login({ identifier: "mia@acme.example", secret: fx.miaSecret }, 403),
    ["GET", "/auth/login", {}, 405],
    // POST /auth/logout
    ...garbageTokens.slice(0, 4).map((opts) => ["POST", "/auth/logout", opts, 401]),
    ...forged.slice(0, 5).map((token) => ["POST", "/auth/logout", { token }, 401]),
    ["POST", "/auth/logout", { token: t }, 400],
    ["POST", "/auth/logout", { raw: big, headers: json }, 401],
    ["GET", "/auth/logout", { token: fx.jwt }, 405],
    // POST /auth/signup: every body fails one rule before anything is written
    ...malformed("POST", "/auth/signup", null).slice(0, 7),
    oversized("POST", "/auth/signup", null),
    ...[
      { name: 5, email: "s1@acme.example", password: password() },
      { name: "x", email: ["s2@acme.example"], password: password() },
      { name: "x", email: "s3@acme.example", password: {} },
      { name: "x", email: "s4@acme.example", password: null },
      { name: "x", email: "s5@acme.example" },
      { name: "x", email: "s6@acme.example", password: password(), org_id: other.org },
      { name: "x", email: "s7@acme.example", password: password(), role: "owner" },
      { name: "x", email: "s8@acme.example", password: password(), email_verified_at: 1 },
      { name: huge, email: "s9@acme.example", password: password() },
      { name: "x", email: huge, password: password() },
      { name: "x", email: "s10@acme.example", password: huge },
      { name: "evil\u0000", email: "s11@acme.example", password: password() },
      { name: crlf, email: "s12@acme.example", password: password() },
      { name: "x", email: "s13@acme.example\r\nBcc: victim@evil.example", password: password() },
      { name: "x", email: "s14@acme.example", password: "nul\u0000-in-password" },
      { name: "x", email: "s15@acme.example", password: "short" },
      { name: "x", email: "s16@acme.example", password: "password" },
      { name: "x", email: sqlEmail, password: "short" },
      { name: sqlName, email: "' OR 1=1--", password: password() },
    ].map(signup),
    ["GET", "/auth/signup", {}, 405],
    // GET /auth/email/verify
    verify(""),
    verify("?token="),
    verify("?token=garbage"),
    verify(`?token=${fx.verifyToken}`),
    verify(`?token=ptmcv_${randomBytes(32).toString("base64url")}`),
    verify(`?token=atomv_${randomBytes(32).toString("base64url")}`),
    verify(`?token=atom_${randomBytes(32).toString("base64url")}`),
    verify(`?token=${fx.verifyToken}x`),
    verify("?token=atomv_%27%20OR%20%271%27%3D%271"),
    verify(`?token=atomv_${"A".repeat(5000)}`),
    verify(`?token=${fx.verifyToken}%0D%0ASet-Cookie:%20kw=1`),
    verify(`?token=${fx.verifyToken.slice(0, -1)}%00`),
    ["POST", `/auth/email/verify?token=${fx.verifyToken}`, {}, 405],
    // POST /auth/email/resend: bad addresses fail before anything is sent
    ...malformed("POST", "/auth/email/resend", null).slice(0, 7),
    oversized("POST", "/auth/email/resend", null),
    ...[5, null, [fx.samEmail], {}, "not-an-email", "@acme.example", "a@-bad-.example", "a@127.0.0.1", "' OR 1=1--", `${fx.samEmail}\r\nBcc: victim@evil.example`, "nul\u0000@acme.example", huge].map(
      (email) => resend({ email }),
    ),
    resend({}),
    resend({ email: fx.samEmail, entity_id: owner.entity_id }),
    ["GET", "/auth/email/resend", {}, 405],
    // POST /admin/signing-keys/rotate
    ...garbageTokens.slice(0, 5).map((opts) => ["POST", "/admin/signing-keys/rotate", opts, 401]),
    ["POST", "/admin/signing-keys/rotate", { token: t }, 401],
    ["POST", "/admin/signing-keys/rotate", { token: fx.jwt }, 401],
    ["POST", "/admin/signing-keys/rotate", { token: server.vars.ADMIN_TOKEN.toUpperCase() }, 401],
    ["POST", "/admin/signing-keys/rotate", { token: `${server.vars.ADMIN_TOKEN}=` }, 401],
    ["POST", "/admin/signing-keys/rotate", { token: server.vars.ADMIN_TOKEN.slice(0, -1) }, 401],
    ["POST", "/admin/signing-keys/rotate", { raw: big, headers: json }, 401],
    ["GET", "/admin/signing-keys/rotate", { token: server.vars.ADMIN_TOKEN }, 405],
    ["POST", "/entities/../admin/signing-keys/rotate", { token: t }],
    // GET /dev/outbox
    ...["limit=0", "limit=abc", "limit=1;DROP%20TABLE%20outbox", "limit=101", "limit=-1"].map((q) => ["GET", `/dev/outbox?${q}`, {}, 400]),
    ["POST", "/dev/outbox", { body: { to: "x@acme.example" } }, 405],
    ["DELETE", "/dev/outbox", {}, 405],
    // a /v1 path with a forged session (the /v1 envelope)
    ["GET", "/v1/whoami", { token: forged[0] }, 401],
    // over a raw socket: what Node's http will not send
    ...rawCases(),
  ];
}

/** Requests Node's http refuses to build: bare bytes in paths and headers, chunked uploads. */
function rawCases() {
  const host = `Host: ${new URL(server.origin).host}\r\nConnection: close\r\n`;
  const auth = `Authorization: Bearer ${fx.owner.plain_key}\r\n`;
  const chunk = "x".repeat(16 * 1024);
  const chunked = `${Array.from({ length: 5 }, () => `${(chunk.length).toString(16)}\r\n${chunk}\r\n`).join("")}0\r\n\r\n`;
  const login = JSON.stringify({ identifier: "raw@acme.example", secret: "x" });
  const request = (line, headers, body = "") => ({ raw: `${line} HTTP/1.1\r\n${host}${headers}\r\n${body}` });
  return [
    ["GET", "/entities/ent_\u00e9\u00ff", request("GET /entities/ent_\xc3\xa9\xff", auth), 404],
    ["GET", "/entities", request("GET /entities", "Authorization: Bearer \xff\xfe\x80\r\n"), 401],
    ["GET", "/entities", request("GET /entities", `Authorization: Bearer abc\r\n${auth}`), 401],
    ["GET", "/entities", request("GET /entities", "Authorization: Bearer abc\r\n X-Folded: 1\r\n")],
    ["POST", "/auth/login", request("POST /auth/login", "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", chunked), 413],
    ["POST", "/entities", request("POST /entities", `${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n`, chunked), 413],
    ["POST", "/auth/login", request("POST /auth/login", `Content-Type: application/json\r\nContent-Length: ${login.length}\r\nX-Request-Id: req_forged\r\n`, login), 401],
  ];
}

/**
 * Deliberate 2xx controls, run with the barrage and inside the snapshot: answers that
 * must not tell anything or change anything. `[method, path, opts, status, check]`.
 */
function controlCases() {
  const noItems = (r) => (r.body?.items?.length === 0 ? [] : [`matched ${r.body?.items?.length} messages`]);
  const accepted = (email) => (r) => (r.body?.status === "verification_sent" && r.body.email === email ? [] : ["not the one signup/resend answer"]);
  return [
    // Signing up with a taken address (another spelling): the same 202, and the batch
    // that would have made a second org and entity rolls back whole.
    ["POST", "/auth/signup", { body: { name: "Impostor", email: "SAM@Signup.Example", password: password() } }, 202, accepted(fx.samEmail)],
    ["POST", "/auth/email/resend", { body: { email: "nobody@acme.example" } }, 202, accepted("nobody@acme.example")],
    ["GET", `/dev/outbox?to=${encodeURIComponent("' OR '1'='1")}`, {}, 200, noItems],
    ["GET", `/dev/outbox?to=${encodeURIComponent("x@acme.example' OR to_addr LIKE '%")}`, {}, 200, noItems],
  ];
}

test("at least 70 hostile requests at the identity endpoints: all 4xx in the bare shape, none 5xx, nothing changed", async () => {
  const cases = hostileCases();
  assert.ok(cases.length >= 70, `${cases.length} cases`);
  const foreignIds = [fx.other.org, fx.other.entity, fx.other.keyId];
  const { failures, before, after } = await runBarrage({ server, cases, controls: controlCases(), label: "identity hostile", foreignIds });
  assert.deepEqual(failures, []);
  assert.deepEqual(after, before, "no identity table changed");
});

test("every failed login answers byte-identical bodies, request id aside", async () => {
  const t = fx.owner.plain_key;
  const secret = password();
  const suspended = await entity({ kind: "human", name: "Sue Suspended", email: "sue@acme.example" }, { secret });
  await ok(200, "PATCH", `/entities/${suspended.id}`, { token: t, body: { status: "suspended" } });
  const deleted = await entity({ kind: "human", name: "Dee Deleted", email: "dee@acme.example" }, { secret });
  await ok(200, "PATCH", `/entities/${deleted.id}`, { token: t, body: { status: "deleted" } });
  await entity({ kind: "human", name: "Nia Nopass", email: "nia@acme.example" });
  const attempts = {
    "unknown identifier": { identifier: `nobody-${randomBytes(4).toString("hex")}@acme.example`, secret },
    "wrong password (verified)": { identifier: fx.samEmail, secret: `${fx.samSecret}-wrong` },
    "wrong password (unverified)": { identifier: "MIA@acme.example", secret: "not her password" },
    "entity without a password": { identifier: "nia@acme.example", secret },
    "suspended entity, right password": { identifier: "sue@acme.example", secret },
    "suspended entity, wrong password": { identifier: "sue@acme.example", secret: `${secret}-wrong` },
    "deleted entity, right password": { identifier: "dee@acme.example", secret },
  };
  const bodies = new Map();
  for (const [name, body] of Object.entries(attempts)) {
    const r = await call(server.origin, "POST", "/auth/login", { body });
    assert.equal(r.status, 401, `${name}: ${r.text}`);
    assert.equal(r.body.error.code, "invalid_credentials", name);
    assert.equal(r.body.error.request_id, r.headers.get("x-request-id"), name);
    bodies.set(name, withoutRequestId(r));
  }
  assert.equal(new Set(bodies.values()).size, 1, JSON.stringify(Object.fromEntries(bodies), null, 2));
});

test("a signup after the address's verification emails are spent is accepted whole, never refused after its write", async () => {
  // Anyone may spend an address's budget of verification emails (3 a minute) with
  // resends; a signup for that address still answers 202 and creates the whole account
  // (account, password, org, membership, token) while the link waits for a later resend.
  const email = `victim-${randomBytes(4).toString("hex")}@acme.example`;
  for (let i = 0; i < 3; i += 1) await ok(202, "POST", "/auth/email/resend", { body: { email } });
  const before = identitySnapshot(server);
  const r = await call(server.origin, "POST", "/auth/signup", { body: { name: "Victim", email, password: password() } });
  assert.equal(r.status, 202, r.text);
  const grew = (table) => `${table}: ${before[table].length} → ${before[table].length + 1} rows`;
  assert.deepEqual(
    changedTables(before, identitySnapshot(server)).sort(),
    ["accounts", "email_verifications", "entities", "orgs", "passwords"].map(grew),
  );
  await new Promise((resolve) => setTimeout(resolve, 500)); // mail goes out after the answer
  const mail = await ok(200, "GET", `/dev/outbox?to=${encodeURIComponent(email)}`, {});
  assert.deepEqual(mail.items, [], "resends do not mail an address without an account, and the spent budget skipped the link");
});
