// Session JWTs end to end (SPEC §3, §4, §5): a third-party verifier (jose) accepts
// Keyward's tokens with Keyward's JWKS; every classic forgery is refused by /v1/whoami
// with the uniform 401 and its precise reason in the audit log; logout and suspension
// take effect on the next request although the JWT still verifies; rotation keeps old
// tokens working and signs new ones with the new kid; a real token expires.
//
// The test knows the deployment's SIGNING_SECRET, so it can derive the signing key of a
// kid exactly as the worker does (`SigningKey::derive`: seed = HMAC-SHA256(secret,
// "keyward/jwt/ed25519/v1/" || kid)). That lets it send tokens carrying a *valid*
// signature with one bad claim or header, so each claim check is proved on its own,
// not hidden behind a signature failure.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { createHmac, createPrivateKey, createPublicKey, randomBytes, sign } from "node:crypto";
import * as jose from "jose";
import { bootstrap, call, keyward } from "./helpers.mjs";

const TTL_SHORT = 60; // SESSION_TTL_SECONDS of the second server (the minimum allowed)
const fx = { a: undefined, owner: undefined, b: undefined, bLogin: undefined };

/** A password no policy refuses. */
const password = () => `keyward e2e ${randomBytes(12).toString("hex")}`;

before(async () => {
  // The second server has 60-second sessions; its token is taken here and checked in
  // the last test, so the wait for its expiry overlaps the other tests.
  fx.a = await keyward({ vars: { ALLOW_UNVERIFIED_EMAIL_LOGIN: "true" } });
  fx.b = await keyward({ vars: { ALLOW_UNVERIFIED_EMAIL_LOGIN: "true", SESSION_TTL_SECONDS: String(TTL_SHORT) } });
  fx.owner = await bootstrap(fx.a);
  const bOwner = await bootstrap(fx.b);
  fx.bLogin = await user(fx.b, bOwner, "short");
}, { timeout: 400_000 });

after(async () => {
  for (const server of [fx.a, fx.b]) {
    if (process.env.KEYWARD_E2E_LOG) console.log(server?.log());
    await server?.stop();
    server?.cleanup();
  }
});

/** Creates a human entity with an email and a password (as the owner) and logs in. */
async function user(server, owner, name) {
  const email = `${name}@acme.example`;
  const created = await call(server.origin, "POST", "/entities", {
    token: owner.plain_key,
    body: { kind: "human", name, email },
  });
  assert.equal(created.status, 201, created.text);
  const secret = password();
  const pw = await call(server.origin, "POST", `/entities/${created.body.id}/credentials/password`, {
    token: owner.plain_key,
    body: { password: secret },
  });
  assert.equal(pw.status, 201, pw.text);
  return { id: created.body.id, email, secret, ...(await login(server, email, secret)) };
}

async function login(server, email, secret) {
  const r = await call(server.origin, "POST", "/auth/login", { body: { identifier: email, secret } });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

const whoami = (token, opts = {}) => call(fx.a.origin, "GET", "/v1/whoami", { token, ...opts });

// --- token building -------------------------------------------------------------------

/** base64url of a JSON value, or of a raw string (for hand-written JSON). */
const part = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

/** A compact JWS over `header.payload` with `signer(signingInput) -> Buffer`. */
function compact(header, payload, signer) {
  const input = `${part(header)}.${part(payload)}`;
  return `${input}.${Buffer.from(signer(input)).toString("base64url")}`;
}

const ed25519 = (privateKey) => (input) => sign(null, Buffer.from(input), privateKey);
const hmac = (alg, secret) => (input) => createHmac(alg, secret).update(input).digest();

/** The worker's signing key of `kid`, derived from the deployment's SIGNING_SECRET. */
function derivedKey(server, kid) {
  const seed = createHmac("sha256", Buffer.from(server.vars.SIGNING_SECRET, "utf8"))
    .update(`keyward/jwt/ed25519/v1/${kid}`)
    .digest();
  const pkcs8 = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);
  return createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
}

/** Splits a real token into its decoded header and claims and its raw parts. */
function pieces(token) {
  const [h, p, s] = token.split(".");
  return { h, p, s, header: jose.decodeProtectedHeader(token), claims: jose.decodeJwt(token) };
}

async function jwks(server) {
  const r = await call(server.origin, "GET", "/.well-known/jwks.json");
  assert.equal(r.status, 200, r.text);
  return r.body;
}

/** jose's verification, against a fresh remote JWKS of the server. */
function joseVerify(server, token, { jwksSet } = {}) {
  const set = jwksSet ?? jose.createRemoteJWKSet(new URL(`${server.origin}/.well-known/jwks.json`));
  return jose.jwtVerify(token, set, { issuer: server.origin, audience: "keyward", algorithms: ["EdDSA"] });
}

// --- the 401 rule and the audit log ---------------------------------------------------

/** What a 401 looks like apart from its request id; returns the request id too. */
function shape401(r) {
  const requestId = r.headers.get("x-request-id");
  assert.ok(requestId?.startsWith("req_"), "X-Request-Id");
  return {
    requestId,
    look: {
      status: r.status,
      body: r.text.replaceAll(requestId, "REQ"),
      challenge: r.headers.get("www-authenticate"),
      type: r.headers.get("content-type"),
    },
  };
}

let baseline;
async function uniform401(token, name) {
  baseline ??= shape401(await whoami(undefined)).look;
  assert.equal(baseline.status, 401);
  const r = await whoami(token);
  const { requestId, look } = shape401(r);
  assert.deepEqual(look, baseline, `${name}: the uniform 401 (got ${r.status} ${r.text})`);
  return requestId;
}

/** auth.failed reasons by request id, read from D1 (waits for the after-answer writes). */
async function reasonsByRequest(server, requestIds) {
  for (let attempt = 0; ; attempt++) {
    const rows = server.sql("SELECT request_id, reason, org_id, actor_id, credential_id, key_prefix FROM audit_events WHERE event = 'auth.failed'");
    const byId = new Map(rows.map((r) => [r.request_id, r]));
    if (requestIds.every((id) => byId.has(id)) || attempt >= 5) return byId;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Every `auth.failed` entry of the caller's org through `GET /v1/audit`, all pages. */
async function auditFailures(server, key) {
  const items = [];
  let cursor;
  for (let page = 0; page < 50; page++) {
    const q = `/v1/audit?event=auth.failed&limit=100${cursor ? `&cursor=${cursor}` : ""}`;
    const r = await call(server.origin, "GET", q, { token: key });
    assert.equal(r.status, 200, r.text);
    items.push(...r.body.data);
    cursor = r.body.next_cursor;
    if (!cursor) return items;
  }
  assert.fail("audit paging did not end");
}

// --- the tests ------------------------------------------------------------------------

let alice; // the main user of server A

test("jose verifies a session token with Keyward's JWKS; its claims match login and whoami", async () => {
  alice = await user(fx.a, fx.owner, "alice");
  const { origin } = fx.a;
  const { token } = alice;
  assert.match(token, /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]{86}$/);
  assert.match(alice.session_id, /^[0-9a-f]{32}$/);

  const { payload, protectedHeader } = await joseVerify(fx.a, token);
  assert.deepEqual(Object.keys(protectedHeader).sort(), ["alg", "kid", "typ"]);
  assert.equal(protectedHeader.alg, "EdDSA");
  assert.equal(protectedHeader.typ, "JWT");
  assert.match(protectedHeader.kid, /^[0-9a-f]{16}$/);
  assert.deepEqual(Object.keys(payload).sort(), ["aud", "exp", "iat", "iss", "org", "sid", "sub"]);
  assert.equal(payload.iss, origin);
  assert.equal(payload.aud, "keyward");
  assert.equal(payload.sub, alice.entity_id);
  assert.equal(payload.sub, alice.id);
  assert.equal(payload.sid, alice.session_id);
  assert.equal(payload.org, fx.owner.org_id);
  assert.equal(payload.exp - payload.iat, 3600, "SESSION_TTL_SECONDS defaults to one hour");
  assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 120, "iat is now");
  assert.equal(new Date(alice.expires_at).getTime() / 1000, payload.exp, "expires_at is exp");

  const me = await whoami(token);
  assert.equal(me.status, 200, me.text);
  assert.equal(me.body.data.auth_method, "session");
  assert.equal(me.body.data.user_id, payload.sub);
  assert.equal(me.body.data.key_id, payload.sid);
  assert.equal(me.body.data.org_id, payload.org);
  assert.equal(me.body.data.role, "member");
  assert.equal(me.headers.get("ratelimit-limit"), null, "sessions are not rate-limited");

  // The owner's API key sees the same org.
  const ownerMe = await whoami(fx.owner.plain_key);
  assert.equal(ownerMe.body.data.org_id, payload.org);

  // The token is signed by the key the worker derives for its kid.
  const x = createPublicKey(derivedKey(fx.a, protectedHeader.kid)).export({ format: "jwk" }).x;
  assert.equal((await jwks(fx.a)).keys.find((k) => k.kid === protectedHeader.kid)?.x, x);
});

test("the JWKS publishes public Ed25519 keys only", async () => {
  const r = await call(fx.a.origin, "GET", "/.well-known/jwks.json");
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type"), /^application\/json/);
  assert.deepEqual(Object.keys(r.body), ["keys"]);
  assert.ok(r.body.keys.length >= 1);
  const kids = new Set();
  for (const jwk of r.body.keys) {
    assert.deepEqual(Object.keys(jwk).sort(), ["alg", "crv", "kid", "kty", "use", "x"], "no private d, nothing else");
    assert.equal(jwk.kty, "OKP");
    assert.equal(jwk.crv, "Ed25519");
    assert.equal(jwk.alg, "EdDSA");
    assert.equal(jwk.use, "sig");
    assert.match(jwk.kid, /^[0-9a-f]{16}$/);
    assert.match(jwk.x, /^[\w-]{43}$/);
    assert.equal(Buffer.from(jwk.x, "base64url").length, 32);
    assert.equal(jwk.d, undefined);
    kids.add(jwk.kid);
    // jose imports it as a public key.
    const key = await jose.importJWK(jwk, "EdDSA");
    assert.equal(key.type, "public");
  }
  assert.equal(kids.size, r.body.keys.length, "kids are unique");
  assert.ok(kids.has(jose.decodeProtectedHeader(alice.token).kid));
});

test("forged, tampered and malformed JWTs get the uniform 401, each with its precise audited reason", async (t) => {
  const { origin } = fx.a;
  const real = pieces(alice.token);
  const kid = real.header.kid;
  const ours = derivedKey(fx.a, kid);
  const jwk = (await jwks(fx.a)).keys.find((k) => k.kid === kid);
  const publicBytes = Buffer.from(jwk.x, "base64url");
  const attacker = await jose.generateKeyPair("Ed25519", { extractable: true });
  const attackerJwk = await jose.exportJWK(attacker.publicKey);
  const attackerKid = randomBytes(8).toString("hex");
  const now = Math.floor(Date.now() / 1000);
  const claims = real.claims;
  const brief = { sub: claims.sub, sid: claims.sid, exp: claims.exp };
  const header = { alg: "EdDSA", typ: "JWT", kid };
  const withOurs = (h, p) => compact(h, p, ed25519(ours));
  const byAttacker = (h, p) => new jose.SignJWT(p).setProtectedHeader(h).sign(attacker.privateKey);

  // A loopback "attacker" server: a jku / x5u pointing here must never be fetched.
  let fetched = 0;
  const trap = http.createServer((req, res) => {
    fetched++;
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ keys: [{ ...attackerJwk, kid: attackerKid, alg: "EdDSA", use: "sig" }] }));
  });
  await new Promise((r) => trap.listen(0, "127.0.0.1", r));
  const trapUrl = `http://127.0.0.1:${trap.address().port}/jwks.json`;

  // Sanity: our derivation really is the worker's key, so the claim cases below carry
  // a valid signature and are refused for the claim alone.
  const resigned = withOurs(header, claims);
  assert.equal(resigned, alice.token, "re-signing the real header and claims gives the real token (Ed25519 is deterministic)");

  // The real signature, malleated: s + L (a non-canonical s, refused by verify_strict).
  const sig = Buffer.from(real.s, "base64url");
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]);
  s += L;
  const malleated = Buffer.from(sig);
  for (let i = 32; i < 64; i++) {
    malleated[i] = Number(s & 0xffn);
    s >>= 8n;
  }
  // The last base64url character of a 64-byte signature carries 4 unused bits.
  const lastChar = real.s.at(-1);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const nonCanonical = `${real.h}.${real.p}.${real.s.slice(0, -1)}${alphabet[alphabet.indexOf(lastChar) | 1]}`;

  const cases = {
    // alg confusion
    "alg none, empty signature": [`${part({ alg: "none", typ: "JWT" })}.${part(claims)}.`, "malformed_jwt"],
    "alg none with our kid and the real signature": [`${part({ alg: "none", typ: "JWT", kid })}.${real.p}.${real.s}`, "jwt_alg_not_allowed"],
    "alg none signed by nothing, signature 'AA'": [`${part({ alg: "none", kid })}.${real.p}.AA`, "jwt_alg_not_allowed"],
    "alg eddsa (case variant), our key": [withOurs({ ...header, alg: "eddsa" }, claims), "jwt_alg_not_allowed"],
    "alg Ed25519 (fully specified), our key": [withOurs({ ...header, alg: "Ed25519" }, claims), "jwt_alg_not_allowed"],
    "header without alg, our key": [withOurs({ typ: "JWT", kid }, claims), "jwt_alg_not_allowed"],
    "HS256 keyed with the public key bytes": [compact({ ...header, alg: "HS256" }, claims, hmac("sha256", publicBytes)), "jwt_alg_not_allowed"],
    "HS256 keyed with the JWK x string": [compact({ ...header, alg: "HS256" }, claims, hmac("sha256", jwk.x)), "jwt_alg_not_allowed"],
    "HS256 keyed with the JWK JSON": [compact({ ...header, alg: "HS256" }, claims, hmac("sha256", JSON.stringify(jwk))), "jwt_alg_not_allowed"],
    "HS512 keyed with the public key bytes": [compact({ ...header, alg: "HS512" }, claims, hmac("sha512", publicBytes)), "jwt_alg_not_allowed"],
    "HS256 by jose with the public key bytes": [await new jose.SignJWT(claims).setProtectedHeader({ ...header, alg: "HS256" }).sign(publicBytes), "jwt_alg_not_allowed"],
    // other keys and kids
    "EdDSA by another key, our kid": [await byAttacker(header, claims), "jwt_bad_signature"],
    "EdDSA by another key, unknown kid": [await byAttacker({ ...header, kid: attackerKid }, claims), "jwt_unknown_kid"],
    "kid that is not 16 hex digits": [await byAttacker({ ...header, kid: "'OR'1'='1" }, claims), "jwt_unknown_kid"],
    "kid with a path": [await byAttacker({ ...header, kid: "../../jwks.json" }, claims), "jwt_unknown_kid"],
    "kid in upper case, our key": [withOurs({ ...header, kid: kid.toUpperCase() }, claims), "jwt_unknown_kid"],
    "no kid, our key": [withOurs({ alg: "EdDSA", typ: "JWT" }, claims), "jwt_missing_kid"],
    "empty kid": [await byAttacker({ ...header, kid: "" }, claims), "jwt_missing_kid"],
    "numeric kid": [await byAttacker({ ...header, kid: 1 }, claims), "jwt_missing_kid"],
    // headers that point at keys or change processing
    "jku at a loopback JWKS, attacker key": [await byAttacker({ ...header, kid: attackerKid, jku: trapUrl }, claims), "jwt_forbidden_header"],
    "jku, otherwise valid (our key)": [withOurs({ ...header, jku: trapUrl }, claims), "jwt_forbidden_header"],
    // Short claims, so that the header is what refuses them (not the 512-character cap).
    "embedded jwk, attacker key": [await byAttacker({ ...header, kid: attackerKid, jwk: attackerJwk }, brief), "jwt_forbidden_header"],
    "embedded jwk (ours), otherwise valid": [withOurs({ ...header, jwk: { kty: "OKP", crv: "Ed25519", x: jwk.x } }, brief), "jwt_forbidden_header"],
    "x5u at a loopback URL": [await byAttacker({ ...header, x5u: trapUrl }, claims), "jwt_forbidden_header"],
    "x5c": [withOurs({ ...header, x5c: ["MIIB"] }, claims), "jwt_forbidden_header"],
    "crit": [withOurs({ ...header, crit: ["exp"] }, claims), "jwt_forbidden_header"],
    "typ at+jwt, our key": [withOurs({ ...header, typ: "at+jwt" }, claims), "jwt_typ_not_allowed"],
    // tampered claims under the real signature
    "exp extended by a year": [`${real.h}.${part({ ...claims, exp: claims.exp + 365 * 86400 })}.${real.s}`, "jwt_bad_signature"],
    "exp in the past (tampered)": [`${real.h}.${part({ ...claims, exp: now - 10 })}.${real.s}`, "jwt_bad_signature"],
    "iss changed": [`${real.h}.${part({ ...claims, iss: "https://evil.example" })}.${real.s}`, "jwt_bad_signature"],
    "aud changed": [`${real.h}.${part({ ...claims, aud: "https://evil.example" })}.${real.s}`, "jwt_bad_signature"],
    "sub changed to the owner": [`${real.h}.${part({ ...claims, sub: fx.owner.entity_id })}.${real.s}`, "jwt_bad_signature"],
    "exp removed (tampered)": [`${real.h}.${part({ ...claims, exp: undefined })}.${real.s}`, "jwt_bad_signature"],
    "malleated signature (s + L)": [`${real.h}.${real.p}.${malleated.toString("base64url")}`, "jwt_bad_signature"],
    "truncated signature": [`${real.h}.${real.p}.${sig.subarray(0, 63).toString("base64url")}`, "jwt_bad_signature"],
    "signature of another token": [`${real.h}.${real.p}.${withOurs(header, { ...claims, iat: claims.iat - 1 }).split(".")[2]}`, "jwt_bad_signature"],
    "non-canonical base64url signature": [nonCanonical, "malformed_jwt"],
    // valid signature (our key), one bad claim
    "expired (our key)": [withOurs(header, { ...claims, iat: now - 7200, exp: now - 3600 }), "jwt_expired"],
    "expires this second (our key)": [withOurs(header, { ...claims, iat: now - 60, exp: now - 1 }), "jwt_expired"],
    "no exp (our key)": [withOurs(header, { ...claims, exp: undefined }), "jwt_missing_exp"],
    "exp as a string (our key)": [withOurs(header, { ...claims, exp: String(claims.exp) }), "jwt_malformed"],
    "iat in the future (our key)": [withOurs(header, { ...claims, iat: now + 3600, exp: now + 7200 }), "jwt_not_yet_valid"],
    "nbf in the future (our key)": [withOurs(header, { ...claims, nbf: now + 3600 }), "jwt_not_yet_valid"],
    "wrong iss (our key)": [withOurs(header, { ...claims, iss: "https://evil.example" }), "jwt_wrong_issuer"],
    "iss with a trailing slash (our key)": [withOurs(header, { ...claims, iss: `${origin}/` }), "jwt_wrong_issuer"],
    "wrong aud (our key)": [withOurs(header, { ...claims, aud: "https://evil.example" }), "jwt_wrong_audience"],
    "aud as an array (our key)": [withOurs(header, { ...claims, aud: ["keyward"] }), "jwt_malformed"],
    "no sid (our key)": [withOurs(header, { ...claims, sid: undefined }), "jwt_malformed"],
    "duplicate alg in the header (our key)": [withOurs(`{"alg":"EdDSA","typ":"JWT","kid":"${kid}","alg":"none"}`, claims), "jwt_malformed"],
    "duplicate sub in the claims (our key)": [withOurs(header, `${JSON.stringify(claims).slice(0, -1)},"sub":"${fx.owner.entity_id}"}`), "jwt_malformed"],
    "header is an array (not eyJ: not routed as a JWT)": [withOurs(`["EdDSA"]`, claims), "unknown_token_shape"],
    "trailing bytes after the header object (our key)": [withOurs(`{"alg":"EdDSA","typ":"JWT","kid":"${kid}"}}`, claims), "jwt_malformed"],
    "unknown sid (our key)": [withOurs(header, { ...claims, sid: randomBytes(16).toString("hex") }), "session_unknown"],
    "real sid, another sub (our key)": [withOurs(header, { ...claims, sub: `ent_${randomBytes(16).toString("hex")}` }), "session_unknown"],
    "real sid, another org (our key)": [withOurs(header, { ...claims, org: `org_${randomBytes(16).toString("hex")}` }), "session_unknown"],
    // garbage
    "3-part garbage": [`${part('{"not json')}.${part("x")}.${part("y")}`, "jwt_malformed"],
    "3-part non-canonical garbage": ["eyJ.eyJ.eyJ", "malformed_jwt"],
    "header without kid (auth401's sample)": ["eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln", "jwt_missing_kid"],
    "4 parts": [`${real.h}.${part({ sub: claims.sub })}.${real.s}.${real.s}`, "malformed_jwt"],
    "2 parts": [`${real.h}.${real.p}`, "malformed_jwt"],
    "padding inside the token": [`${real.h}==.${real.p}.${real.s}`, "invalid_characters"],
    "padded signature": [`${real.h}.${real.p}.${real.s}==`, "malformed_jwt"],
    "longer than 512 characters": [withOurs(header, { ...claims, pad: "x".repeat(1200) }), "token_too_long"],
  };

  const expected = new Map();
  try {
    for (const [name, [token, reason]] of Object.entries(cases)) {
      const requestId = await uniform401(token, name);
      expected.set(requestId, { name, reason });
    }
  } finally {
    trap.close();
  }
  assert.equal(fetched, 0, "the worker never fetched a jku / x5u URL");

  // The real token still works: nothing above disturbed the session.
  assert.equal((await whoami(alice.token)).status, 200);

  const rows = await reasonsByRequest(fx.a, [...expected.keys()]);
  const wrong = [];
  for (const [requestId, { name, reason }] of expected) {
    const got = rows.get(requestId)?.reason;
    if (got !== reason) wrong.push(`${name}: expected ${reason}, audited ${got}`);
  }
  assert.deepEqual(wrong, [], "each refusal's audited reason");
  const reasons = new Set([...expected.keys()].map((id) => rows.get(id).reason));
  t.diagnostic(`audited reasons: ${[...reasons].sort().join(", ")}`);
  assert.ok([...reasons].filter((r) => r.startsWith("jwt_")).length >= 10);

  // No audit entry holds a token beyond its 12-character prefix.
  const logged = JSON.stringify(fx.a.sql("SELECT * FROM audit_events"));
  assert.ok(!logged.includes(real.s), "no signature in the audit log");
  assert.ok(!logged.includes(real.p), "no claims in the audit log");
  // Unverified tokens are not attributed to any org (their claims cannot be trusted).
  assert.equal(rows.get([...expected].find(([, v]) => v.reason === "jwt_bad_signature")[0]).org_id, null);
});

test("a logged-out session's token is refused although it still verifies; so is a suspended entity's", async (t) => {
  const carol = await user(fx.a, fx.owner, "carol");
  assert.equal((await whoami(carol.token)).status, 200);
  const out = await call(fx.a.origin, "POST", "/auth/logout", { token: carol.token });
  assert.equal(out.status, 200, out.text);
  assert.deepEqual(out.body, { session_id: carol.session_id, revoked: true });
  const loggedOut = await uniform401(carol.token, "logged-out session");
  // Cryptographically nothing changed: jose still accepts it. The refusal is the live
  // session check.
  const { payload } = await joseVerify(fx.a, carol.token);
  assert.equal(payload.sid, carol.session_id);
  assert.ok(payload.exp > Date.now() / 1000 + 3000);

  const bob = await user(fx.a, fx.owner, "bob");
  assert.equal((await whoami(bob.token)).status, 200);
  const patch = await call(fx.a.origin, "PATCH", `/entities/${bob.id}`, { token: fx.owner.plain_key, body: { status: "suspended" } });
  assert.equal(patch.status, 200, patch.text);
  assert.equal(patch.body.status, "suspended");
  const suspended = await uniform401(bob.token, "suspended entity");
  await joseVerify(fx.a, bob.token);
  // A suspended entity cannot log in again either (the login family's 401).
  const again = await call(fx.a.origin, "POST", "/auth/login", { body: { identifier: bob.email, secret: bob.secret } });
  assert.equal(again.status, 401, again.text);

  const rows = await reasonsByRequest(fx.a, [loggedOut, suspended]);
  assert.equal(rows.get(loggedOut)?.reason, "session_revoked");
  assert.equal(rows.get(suspended)?.reason, "session_entity_suspended");
  // These two name a real session, so they are the org's entries, visible to its owner
  // through GET /v1/audit, with the session as the credential.
  const failures = await auditFailures(fx.a, fx.owner.plain_key);
  const mine = new Map(failures.map((e) => [e.request_id, e]));
  assert.equal(mine.get(loggedOut)?.reason, "session_revoked");
  assert.equal(mine.get(loggedOut)?.credential_id, carol.session_id);
  assert.equal(mine.get(loggedOut)?.actor_id, carol.id);
  assert.equal(mine.get(suspended)?.reason, "session_entity_suspended");
  assert.equal(mine.get(suspended)?.actor_id, bob.id);
  assert.ok(failures.every((e) => e.event === "auth.failed"));
  const viaApi = new Set(failures.map((e) => e.reason));
  t.diagnostic(`reasons in GET /v1/audit?event=auth.failed: ${[...viaApi].sort().join(", ")}`);
});

test("logout twice answers 401; logout with an API key answers 400; without a credential 401", async () => {
  const dave = await user(fx.a, fx.owner, "dave");
  assert.equal((await call(fx.a.origin, "POST", "/auth/logout", { token: dave.token })).status, 200);
  const twice = await call(fx.a.origin, "POST", "/auth/logout", { token: dave.token });
  assert.equal(twice.status, 401, twice.text);
  assert.equal(twice.body.error.code, "unauthorized");
  assert.match(twice.headers.get("www-authenticate"), /^Bearer realm=/);
  const byKey = await call(fx.a.origin, "POST", "/auth/logout", { token: fx.owner.plain_key });
  assert.equal(byKey.status, 400, byKey.text);
  assert.equal(byKey.body.error.code, "invalid_request");
  assert.equal((await whoami(fx.owner.plain_key)).status, 200, "the key was not revoked");
  const bare = await call(fx.a.origin, "POST", "/auth/logout");
  assert.equal(bare.status, 401, bare.text);
  // Another session of the same user is untouched by dave's logout.
  const other = await login(fx.a, dave.email, dave.secret);
  assert.equal((await whoami(other.token)).status, 200);
});

test("rotation: both kids published, the old token keeps working, new tokens carry the new kid", async () => {
  const oldKid = jose.decodeProtectedHeader(alice.token).kid;
  const cached = jose.createRemoteJWKSet(new URL(`${fx.a.origin}/.well-known/jwks.json`));
  await joseVerify(fx.a, alice.token, { jwksSet: cached });

  const noAuth = await call(fx.a.origin, "POST", "/admin/signing-keys/rotate");
  assert.equal(noAuth.status, 401);
  const byOwnerKey = await call(fx.a.origin, "POST", "/admin/signing-keys/rotate", { token: fx.owner.plain_key });
  assert.equal(byOwnerKey.status, 401, "an org owner's API key is not the admin token");
  const bySession = await call(fx.a.origin, "POST", "/admin/signing-keys/rotate", { token: alice.token });
  assert.equal(bySession.status, 401);

  const rotated = await call(fx.a.origin, "POST", "/admin/signing-keys/rotate", { token: fx.a.vars.ADMIN_TOKEN });
  assert.equal(rotated.status, 201, rotated.text);
  const newKid = rotated.body.kid;
  assert.match(newKid, /^[0-9a-f]{16}$/);
  assert.notEqual(newKid, oldKid);

  const set = await jwks(fx.a);
  const kids = set.keys.map((k) => k.kid);
  assert.ok(kids.includes(oldKid), `old kid still published: ${kids}`);
  assert.ok(kids.includes(newKid), `new kid published: ${kids}`);
  const newX = createPublicKey(derivedKey(fx.a, newKid)).export({ format: "jwk" }).x;
  assert.equal(set.keys.find((k) => k.kid === newKid).x, newX, "the new key is derived from SIGNING_SECRET and its kid");

  const old = await whoami(alice.token);
  assert.equal(old.status, 200, old.text);
  assert.equal(old.body.data.auth_method, "session");
  await joseVerify(fx.a, alice.token);

  const fresh = await login(fx.a, alice.email, alice.secret);
  const header = jose.decodeProtectedHeader(fresh.token);
  assert.equal(header.kid, newKid);
  assert.equal(header.alg, "EdDSA");
  const { payload } = await joseVerify(fx.a, fresh.token);
  assert.equal(payload.sid, fresh.session_id);
  assert.equal((await whoami(fresh.token)).body.data.key_id, fresh.session_id);
  // A verifier that fetched the set before the rotation refreshes on the unknown kid
  // (jose refetches after its cooldown; 0 here).
  const warm = jose.createRemoteJWKSet(new URL(`${fx.a.origin}/.well-known/jwks.json`), { cooldownDuration: 0 });
  await joseVerify(fx.a, alice.token, { jwksSet: warm });
  await joseVerify(fx.a, fresh.token, { jwksSet: warm });

  // A token naming the new kid but signed with the retired key is refused.
  const oldKey = derivedKey(fx.a, oldKid);
  const swapped = compact({ ...header }, jose.decodeJwt(fresh.token), ed25519(oldKey));
  const requestId = await uniform401(swapped, "new kid, old key");
  const rows = await reasonsByRequest(fx.a, [requestId]);
  assert.equal(rows.get(requestId)?.reason, "jwt_bad_signature");
});

test("a real session token expires at its exp (SESSION_TTL_SECONDS=60 server)", { timeout: 150_000 }, async () => {
  const { b, bLogin } = fx;
  const { payload } = await joseVerify(b, bLogin.token);
  assert.equal(payload.exp - payload.iat, TTL_SHORT);
  const wait = payload.exp * 1000 - Date.now();
  if (wait > 0) {
    // Still valid before exp (checked only when there is time to spare).
    if (wait > 3000) assert.equal((await call(b.origin, "GET", "/v1/whoami", { token: bLogin.token })).status, 200);
    await new Promise((r) => setTimeout(r, payload.exp * 1000 - Date.now() + 1500));
  }
  const r = await call(b.origin, "GET", "/v1/whoami", { token: bLogin.token });
  assert.equal(r.status, 401, r.text);
  const bare = await call(b.origin, "GET", "/v1/whoami");
  assert.equal(r.text.replace(r.headers.get("x-request-id"), "REQ"), bare.text.replace(bare.headers.get("x-request-id"), "REQ"));
  assert.equal(r.headers.get("www-authenticate"), bare.headers.get("www-authenticate"));
  await assert.rejects(joseVerify(b, bLogin.token), (e) => e.code === "ERR_JWT_EXPIRED");
  const rows = await reasonsByRequest(b, [r.headers.get("x-request-id")]);
  assert.equal(rows.get(r.headers.get("x-request-id"))?.reason, "jwt_expired");
  // Logging out an expired session is refused like any expired credential.
  assert.equal((await call(b.origin, "POST", "/auth/logout", { token: bLogin.token })).status, 401);
});
