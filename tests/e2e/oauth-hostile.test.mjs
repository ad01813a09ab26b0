// Hostile input at every OAuth endpoint (issue 9): POST /oauth/register (JSON),
// GET|POST /oauth/authorize (query / form), POST /oauth/token (authorization_code and
// refresh_token) and POST /oauth/revoke. Bad form encoding, repeated parameters, JSON
// where a form belongs and a form where JSON belongs, overlong values, wrong grant types,
// missing parameters, codes and tokens of the wrong shape, prefix or client, control
// characters, SQL, wrong methods, hostile redirect URIs and forged CSRF tokens, each sent
// as a near miss of the real fixtures built first: registered clients, a person signed in
// through the pages, a live grant (access and refresh token) and an unused code.
//
// Every JSON answer is a 4xx with exactly `{error, error_description}` (an RFC 6749 /
// 7591 / 7009 code) and `Cache-Control: no-store`; revocation answers 200 `{}` to tokens
// it does not know; the authorization endpoint answers with an HTML page (never a
// Location) or, once the client and redirect URI are known good, a 303 to that URI only.
// Nothing is written: the identity tables, `oauth_clients` and `grants` are read back and
// compared. Then the fixtures' live tokens are shown to still work, and a last test
// checks that a forged token naming a real grant cannot revoke it.
// KEYWARD_E2E_TRACE=1 prints each answer.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { bootstrap, call, client, keyward, seedOrg } from "./helpers.mjs";
import { changedTables, identitySnapshot, rawCall } from "./barrage.mjs";

const REDIRECT = "http://127.0.0.1:4567/callback";
const REDIRECT_B = "https://b.example/cb";
const FORM = "application/x-www-form-urlencoded";
const REQUEST_ID = /^req_[0-9a-f]{32}$/;
/** The `error` values RFC 6749 (§4.1.2.1, §5.2), RFC 7591 (§3.2.2), RFC 7009 (§2.2.1), RFC 8707 and RFC 8628's `slow_down` define. */
const OAUTH_ERRORS = new Set([
  "invalid_request",
  "invalid_client",
  "invalid_grant",
  "unauthorized_client",
  "unsupported_grant_type",
  "invalid_scope",
  "access_denied",
  "unsupported_response_type",
  "server_error",
  "temporarily_unavailable",
  "invalid_redirect_uri",
  "invalid_client_metadata",
  "invalid_software_statement",
  "unapproved_software_statement",
  "unsupported_token_type",
  "invalid_target",
  "slow_down",
]);

let server;
/** Fixtures: clients, a person, a signed-in and a signed-out browser, a live grant and an unused code. */
const fx = {};

let address = 0;
/** A client address of its own for each registration, so the per-address limit stays out of the way. */
const nextIp = () => `10.66.${Math.floor(address / 250)}.${(address++ % 250) + 1}`;

/** PKCE S256: a fresh verifier and its challenge. */
function pkce() {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

/** A form body: a string or Buffer as is, an object form-encoded (undefined values left out). */
function enc(body) {
  if (typeof body === "string" || Buffer.isBuffer(body)) return body;
  return new URLSearchParams(Object.entries(body).filter(([, v]) => v !== undefined)).toString();
}

const formOf = (html) =>
  Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
      m[1],
      m[2].replaceAll("&amp;", "&").replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&lt;", "<").replaceAll("&gt;", ">"),
    ]),
  );

/** A cookie-keeping browser over `call` that never follows redirects. */
function browser() {
  const b = {
    cookie: "",
    async go(method, pathname, form) {
      const headers = b.cookie ? { cookie: b.cookie } : {};
      const opts = { headers };
      if (form !== undefined) {
        headers["content-type"] = FORM;
        opts.raw = enc(form);
      }
      const r = await call(server.origin, method, pathname, opts);
      const set = r.headers.get("set-cookie");
      if (set) b.cookie = set.split(";")[0];
      return r;
    },
  };
  return b;
}

/** The authorization request's query, from `request()`'s pairs (undefined values left out). */
const authorizeUrl = (params) => `/oauth/authorize?${enc(params)}`;
/** A valid authorization request for client A, with `extra` changed. */
const request = (extra = {}) => ({
  client_id: fx.A,
  redirect_uri: REDIRECT,
  response_type: "code",
  code_challenge: fx.challenge,
  code_challenge_method: "S256",
  state: "st-1",
  ...extra,
});

async function register(body) {
  const r = await call(server.origin, "POST", "/oauth/register", { body, headers: { "cf-connecting-ip": nextIp() } });
  assert.equal(r.status, 201, `register: ${r.text}`);
  return r.body.client_id;
}

const tokenPost = (body) => call(server.origin, "POST", "/oauth/token", { raw: enc(body), headers: { "content-type": FORM } });

/** A code for client A, approved in Pat's signed-in browser. */
async function approve(clientId = fx.A) {
  const { verifier, challenge } = pkce();
  const page = await fx.pat.browser.go("GET", authorizeUrl(request({ client_id: clientId, code_challenge: challenge, state: "fixture" })));
  assert.match(page.text, /Allow access\?/, page.text.slice(0, 300));
  const r = await fx.pat.browser.go("POST", "/oauth/authorize", { ...formOf(page.text), action: "approve", org_id: fx.orgs[0] });
  assert.equal(r.status, 303, r.text);
  const back = new URL(r.headers.get("location"));
  assert.equal(`${back.origin}${back.pathname}`, REDIRECT);
  return { code: back.searchParams.get("code"), verifier };
}

async function exchange({ code, verifier }, clientId = fx.A) {
  const r = await tokenPost({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, client_id: clientId, code_verifier: verifier });
  assert.equal(r.status, 200, `exchange: ${r.text}`);
  return r.body;
}

before(async () => {
  server = await keyward({ prefix: "prim" });
  fx.owner = await bootstrap(server);
  fx.victim = seedOrg(server, { name: "victim" }); // an org Pat is not in

  // Clients: A (the fixtures'), B (another redirect URI), C (two URIs: a request must name
  // one), N (no refresh tokens) and three spares that absorb the generic token cases.
  fx.A = await register({ redirect_uris: [REDIRECT], client_name: "Hostile <Suite> & co", token_endpoint_auth_method: "none" });
  fx.B = await register({ redirect_uris: [REDIRECT_B], token_endpoint_auth_method: "none" });
  fx.C = await register({ redirect_uris: [REDIRECT, REDIRECT_B], token_endpoint_auth_method: "none" });
  fx.N = await register({ redirect_uris: [REDIRECT], grant_types: ["authorization_code"], token_endpoint_auth_method: "none" });
  fx.spares = [];
  for (let i = 0; i < 3; i++) fx.spares.push(await register({ redirect_uris: [`https://spare${i}.example/cb`] }));
  fx.challenge = pkce().challenge;

  // Pat: signed up, verified, a member of acme too, with a session JWT.
  const email = `pat-${randomBytes(4).toString("hex")}@example.com`;
  const password = `pat-${randomBytes(6).toString("hex")}-pass`;
  assert.equal((await call(server.origin, "POST", "/auth/signup", { body: { name: "Pat", email, password } })).status, 202);
  server.sql(`UPDATE accounts SET email_verified_at = 1 WHERE email = '${email}'`);
  assert.equal((await client(server.origin, fx.owner.plain_key).post("/v1/members", { email, role: "member" })).status, 202);
  const login = await call(server.origin, "POST", "/auth/login", { body: { identifier: email, secret: password } });
  assert.equal(login.status, 200, login.text);
  fx.pat = { email, password, jwt: login.body.token, browser: browser() };

  // Pat signs in through the pages; the consent form of a pending request is kept.
  const signIn = await fx.pat.browser.go("GET", authorizeUrl(request()));
  assert.equal(signIn.status, 200, signIn.text.slice(0, 300));
  const signedIn = await fx.pat.browser.go("POST", "/oauth/authorize", { ...formOf(signIn.text), action: "signin", email, password });
  assert.equal(signedIn.status, 303, signedIn.text.slice(0, 300));
  const consent = await fx.pat.browser.go("GET", signedIn.headers.get("location"));
  assert.match(consent.text, /Allow access\?/);
  fx.orgs = [...consent.text.matchAll(/name="org_id" value="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(fx.orgs.length, 2, "Pat's personal org and acme");
  fx.consent = formOf(consent.text);
  assert.ok(fx.consent.csrf);

  // A signed-out browser with its own sign-in form.
  fx.anon = browser();
  const anonPage = await fx.anon.go("GET", authorizeUrl(request()));
  assert.equal(anonPage.status, 200);
  fx.anonForm = formOf(anonPage.text);
  assert.ok(fx.anon.cookie && fx.anonForm.csrf && fx.anonForm.csrf !== fx.consent.csrf);

  // A live grant (its first access and refresh token) and an unused code.
  const tokens = await exchange(await approve());
  fx.at = tokens.access_token;
  fx.rt = tokens.refresh_token;
  assert.match(fx.at, /^prim_oat_[A-Za-z0-9_-]{64}$/);
  assert.match(fx.rt, /^prim_ort_[A-Za-z0-9_-]{64}$/);
  fx.unused = await approve();
  assert.match(fx.unused.code, /^[A-Za-z0-9_-]{64}$/);
});
after(async () => {
  if (process.env.KEYWARD_E2E_LOG) console.log(server?.log());
  await server?.stop();
  server?.cleanup();
});

/** The tables compared before and after: the identity tables, the clients and the grants. */
function snapshot() {
  return {
    ...identitySnapshot(server),
    oauth_clients: server.sql("SELECT * FROM oauth_clients ORDER BY id"),
    grants: server.sql("SELECT * FROM grants ORDER BY id"),
  };
}

// What an answer must be. `json(status, error)`: an OAuth error body (`status` null: any
// 4xx; `error` undefined: any registered code). `page(status)`: an HTML page without a
// Location. `redirect(error, base)`: a 303 to `base` (a registered URI) carrying `error`,
// `iss` and the request's state. `revoked()`: 200 `{}`.
const json = (status, error) => ({ kind: "json", status, error });
const page = (status) => ({ kind: "page", status });
const redirect = (error, base = REDIRECT, state = "st-1") => ({ kind: "redirect", error, base, state });
const revoked = () => ({ kind: "revoked" });

const keys = (object) => Object.keys(object ?? {}).sort().join(",");

/** What is wrong with one answer (empty when nothing is). */
function problems(label, path, r, expect, secrets) {
  const out = [];
  const ct = r.headers.get("content-type") ?? "";
  const where = r.headers.get("location");
  if (r.status >= 500) out.push(`${label} → ${r.status} ${r.text.slice(0, 200)}`);
  if (!REQUEST_ID.test(r.headers.get("x-request-id") ?? "")) out.push(`${label} → X-Request-Id ${r.headers.get("x-request-id")}`);
  if (secrets.some((s) => r.text.includes(s) || where?.includes(s))) out.push(`${label} echoed a secret: ${r.text.slice(0, 200)}`);
  if (expect.kind === "json") {
    if (r.status < 400 || r.status >= 500 || (expect.status && r.status !== expect.status)) out.push(`${label} → ${r.status}, expected ${expect.status ?? "a 4xx"}: ${r.text.slice(0, 200)}`);
    const shaped = keys(r.body) === "error,error_description" && typeof r.body.error === "string" && typeof r.body.error_description === "string";
    if (!shaped) out.push(`${label} → not {error, error_description}: ${r.text.slice(0, 200)}`);
    else if (!OAUTH_ERRORS.has(r.body.error)) out.push(`${label} → error ${JSON.stringify(r.body.error)} is no registered OAuth code`);
    if (expect.error && r.body?.error !== expect.error) out.push(`${label} → error ${JSON.stringify(r.body?.error)}, expected ${expect.error}: ${r.text.slice(0, 200)}`);
    if (r.status === 429 && r.body?.error !== "slow_down") out.push(`${label} → 429 without slow_down`);
    if (!/^application\/json/.test(ct)) out.push(`${label} → Content-Type ${ct}`);
    if (r.headers.get("cache-control") !== "no-store") out.push(`${label} → Cache-Control ${r.headers.get("cache-control")}`);
    if (where) out.push(`${label} → a Location on a JSON error: ${where}`);
  } else if (expect.kind === "page") {
    if (r.status !== expect.status) out.push(`${label} → ${r.status}, expected the ${expect.status} page: ${r.text.slice(0, 200)}`);
    if (where !== null) out.push(`${label} → redirected to ${where}`);
    if (!/^text\/html/.test(ct)) out.push(`${label} → Content-Type ${ct}: ${r.text.slice(0, 200)}`);
    if (!/<!doctype html>/i.test(r.text)) out.push(`${label} → not a page: ${r.text.slice(0, 200)}`);
    if (r.headers.get("x-frame-options") !== "DENY") out.push(`${label} → X-Frame-Options ${r.headers.get("x-frame-options")}`);
    if (!/frame-ancestors 'none'/.test(r.headers.get("content-security-policy") ?? "")) out.push(`${label} → CSP ${r.headers.get("content-security-policy")}`);
    if (r.headers.get("cache-control") !== "no-store") out.push(`${label} → Cache-Control ${r.headers.get("cache-control")}`);
    if (/<script/i.test(r.text)) out.push(`${label} → the page carries a script`);
  } else if (expect.kind === "redirect") {
    if (r.status !== 303 || !where) out.push(`${label} → ${r.status}, expected a 303 with ${expect.error}: ${r.text.slice(0, 200)}`);
    else {
      const back = new URL(where);
      if (`${back.origin}${back.pathname}` !== new URL(expect.base).href.replace(/\?.*$/, "")) out.push(`${label} → redirected to ${where}, not ${expect.base}`);
      if (back.searchParams.get("error") !== expect.error) out.push(`${label} → error ${back.searchParams.get("error")}, expected ${expect.error}`);
      if (back.searchParams.get("iss") !== server.origin) out.push(`${label} → iss ${back.searchParams.get("iss")}`);
      if (back.searchParams.get("state") !== expect.state) out.push(`${label} → state ${JSON.stringify(back.searchParams.get("state"))}`);
      if (back.searchParams.has("code")) out.push(`${label} → a code in an error redirect`);
      if (/[\r\n]/.test(where)) out.push(`${label} → a line break in Location`);
    }
    if (r.headers.get("set-cookie")) out.push(`${label} → an error redirect set a cookie`);
  } else if (expect.kind === "revoked") {
    if (r.status !== 200 || r.text !== "{}") out.push(`${label} → ${r.status} ${r.text.slice(0, 200)}, expected 200 {}`);
    if (r.headers.get("cache-control") !== "no-store") out.push(`${label} → Cache-Control ${r.headers.get("cache-control")}`);
  }
  return out;
}

/**
 * The barrage: `{ label, method, path, opts, expect }`. `opts.raw` as a string with a
 * request line goes over a raw socket; anything else through `call`.
 */
function hostileCases() {
  const { A, B, C, N, spares, pat, victim } = fx;
  const cases = [];
  let spare = 0;
  const S = () => spares[spare++ % spares.length];
  const add = (label, method, path, opts, expect) => cases.push({ label, method, path, opts, expect });
  const formCase = (label, path, body, expect, headers = {}) => add(label, "POST", path, { raw: enc(body), headers: { "content-type": FORM, ...headers } }, expect);
  const host = `Host: ${new URL(server.origin).host}\r\nConnection: close\r\n`;
  const rawRequest = (line, headers, body = "") => ({ raw: `${line} HTTP/1.1\r\n${host}${headers}\r\n${body}` });

  const big = "x".repeat(70 * 1024);
  const long10k = "A".repeat(10_000);
  const crlf = "x\r\nSet-Cookie: kw=1\r\nLocation: https://evil.example/";
  const sql = "' OR '1'='1' --";
  const sqlDrop = "x'); DROP TABLE grants;--";
  const ctl = "a\u0000b\u0007c\u007f";
  const badUtf8 = (before, after = "") => Buffer.concat([Buffer.from(before), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(after)]);
  const zeroClient = `cli_${"0".repeat(32)}`;
  const randomBody = () => randomBytes(48).toString("base64url");
  const body = (token) => token.replace(/^prim_o[ar]t_/, "");
  const tail = (token) => `${token.slice(0, -4)}${token.endsWith("AAAA") ? "BBBB" : "AAAA"}`;
  const apiKey = fx.owner.plain_key;
  const jwt = pat.jwt;
  const { code, verifier } = fx.unused;

  // ---- POST /oauth/register: every body is refused (a valid one would register). ----
  const reg = (label, payload, expect, contentType = "application/json") =>
    add(`register ${label}`, "POST", "/oauth/register", { raw: typeof payload === "string" || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload), headers: { "content-type": contentType, "cf-connecting-ip": nextIp() } }, expect);
  const meta = json(400, "invalid_client_metadata");
  const badUri = json(400, "invalid_redirect_uri");
  const uris = ["http://127.0.0.1/cb"];
  reg("a form body", "redirect_uris=http%3A%2F%2F127.0.0.1%2Fcb&token_endpoint_auth_method=none", meta, FORM);
  reg("a form body, JSON content type", "redirect_uris=http%3A%2F%2F127.0.0.1%2Fcb", meta);
  reg("truncated JSON", '{"redirect_uris":["http://127.0.0.1/cb"]', meta);
  reg("an empty body", "", meta);
  reg("null", "null", meta);
  reg("an array", "[]", meta);
  reg("a string", '"x"', meta);
  reg("invalid UTF-8", badUtf8('{"redirect_uris":["http://127.0.0.1/cb"],"client_name":"', '"}'), meta);
  reg("a BOM", '\ufeff{"redirect_uris":["http://127.0.0.1/cb"]}', meta);
  reg("a lone surrogate", '{"redirect_uris":["http://127.0.0.1/cb"],"client_name":"\\ud800"}', meta);
  reg("1e400", '{"redirect_uris":["http://127.0.0.1/cb"],"client_name":1e400}', meta);
  reg("5,000 nested arrays", `{"redirect_uris":${"[".repeat(5000)}${"]".repeat(5000)}}`, meta);
  reg("a repeated member", '{"redirect_uris":["http://127.0.0.1/cb"],"redirect_uris":["https://evil.example/cb"]}', meta);
  reg("70 KB", JSON.stringify({ redirect_uris: uris, client_name: big }), json(413, "invalid_client_metadata"));
  reg("{}", {}, badUri);
  reg("no redirect URI", { redirect_uris: [] }, badUri);
  reg("javascript:", { redirect_uris: ["javascript:alert(1)"] }, badUri);
  reg("CRLF in a URI", { redirect_uris: [`http://127.0.0.1/cb${crlf}`] }, badUri);
  reg("SQL in a URI", { redirect_uris: [`http://127.0.0.1/cb${sqlDrop}`] }, badUri);
  reg("a NUL in a URI", { redirect_uris: ["http://127.0.0.1/cb\u0000"] }, badUri);
  reg("a good and a bad URI", { redirect_uris: [REDIRECT, "https://evil.example/cb#x"] }, badUri);
  reg("21 URIs", { redirect_uris: Array.from({ length: 21 }, (_, i) => `https://app.example/${i}`) }, badUri);
  reg("a 10,000-character URI", { redirect_uris: [`https://app.example/${long10k}`] }, badUri);
  reg("a URI that is a number", { redirect_uris: [5] }, meta);
  reg("a URI that is null", { redirect_uris: [null] }, meta);
  reg("redirect_uris an object", { redirect_uris: { 0: uris[0] } }, meta);
  reg("redirect_uris a string", { redirect_uris: uris[0] }, meta);
  reg("SQL in client_name and grant type password", { redirect_uris: uris, client_name: sqlDrop, grant_types: ["password"] }, meta);
  reg("a NUL in client_name", { redirect_uris: uris, client_name: "a\u0000b" }, meta);
  reg("CRLF in client_name", { redirect_uris: uris, client_name: crlf }, meta);
  reg("a 10,000-character client_name", { redirect_uris: uris, client_name: long10k }, meta);
  reg("client_name a number", { redirect_uris: uris, client_name: 5 }, meta);
  reg("a confidential client", { redirect_uris: uris, token_endpoint_auth_method: "client_secret_post" }, meta);
  reg("grant type implicit", { redirect_uris: uris, grant_types: ["implicit"] }, meta);
  reg("grant_types a string", { redirect_uris: uris, grant_types: "authorization_code" }, meta);
  reg("response type code token", { redirect_uris: uris, response_types: ["code token"] }, meta);
  reg("an unknown scope", { redirect_uris: uris, scope: "keyward:api admin" }, meta);
  reg("SQL in scope", { redirect_uris: uris, scope: sql }, meta);
  for (const method of ["GET", "PUT", "PATCH", "DELETE"]) {
    add(`register by ${method}`, method, "/oauth/register", { body: { redirect_uris: uris }, headers: { "cf-connecting-ip": nextIp() } }, json(405, "invalid_request"));
  }

  // ---- POST /oauth/token ----
  const tok = (label, payload, expect, headers) => formCase(`token ${label}`, "/oauth/token", payload, expect, headers);
  const invalidRequest = json(400, "invalid_request");
  const invalidClient = json(401, "invalid_client");
  const invalidGrant = json(400, "invalid_grant");
  const unsupported = json(400, "unsupported_grant_type");
  const invalidScope = json(400, "invalid_scope");
  const exchangeOf = (extra) => ({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, client_id: A, code_verifier: verifier, ...extra });
  const refreshOf = (extra) => ({ grant_type: "refresh_token", refresh_token: fx.rt, client_id: A, ...extra });
  // Bad encoding and repeated parameters: refused before anything is read.
  tok("%zz", `grant_type=authorization_code&client_id=${A}&code=%zz`, invalidRequest);
  tok("%2", `grant_type=refresh_token&client_id=${A}&refresh_token=${fx.rt}%2`, invalidRequest);
  tok("a bare %", `grant_type=refresh_token&client_id=${A}&refresh_token=%`, invalidRequest);
  tok("invalid UTF-8 bytes", badUtf8(`grant_type=refresh_token&client_id=${A}&refresh_token=`), invalidRequest);
  tok("invalid UTF-8 escapes", `grant_type=refresh_token&client_id=${A}&refresh_token=%ff%fe%c3`, invalidRequest);
  tok("a repeated grant_type", `grant_type=refresh_token&grant_type=authorization_code&client_id=${A}&refresh_token=${fx.rt}`, invalidRequest);
  tok("a repeated client_id (A, B)", `${enc(refreshOf())}&client_id=${B}`, invalidRequest);
  tok("a repeated refresh_token", `${enc(refreshOf())}&refresh_token=${fx.rt}`, invalidRequest);
  tok("a repeated code", `${enc(exchangeOf())}&code=${code}`, invalidRequest);
  tok("a repeated code_verifier", `${enc(exchangeOf())}&code_verifier=${verifier}`, invalidRequest);
  tok("a repeated redirect_uri", `${enc(exchangeOf())}&redirect_uri=${encodeURIComponent(REDIRECT_B)}`, invalidRequest);
  tok("a repeated empty name", `${enc(refreshOf({ scope: "admin" }))}&=&=`, invalidRequest);
  tok("a JSON body", JSON.stringify(refreshOf({ scope: "admin" })), json(null), { "content-type": "application/json" });
  tok("a JSON body as a form", JSON.stringify(exchangeOf({ code_verifier: "x" })), json(null));
  tok("multipart", `--b\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\nrefresh_token\r\n--b--\r\n`, json(null), { "content-type": "multipart/form-data; boundary=b" });
  tok("70 KB", `${enc(refreshOf({ scope: "admin" }))}&pad=${big}`, json(413, "invalid_request"));
  // Missing and unknown clients.
  tok("an empty body", "", invalidClient);
  tok("no client_id", { grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier }, invalidClient);
  tok("an empty client_id", exchangeOf({ client_id: "" }), invalidClient);
  tok("an unknown client", refreshOf({ client_id: zeroClient }), invalidClient);
  tok("SQL as client_id", refreshOf({ client_id: sql }), invalidClient);
  tok("DROP TABLE as client_id", exchangeOf({ client_id: sqlDrop }), invalidClient);
  tok("a 10,000-character client_id", refreshOf({ client_id: long10k }), invalidClient);
  tok("CRLF in client_id", refreshOf({ client_id: `${A}${crlf}` }), invalidClient);
  tok("a NUL after client_id", refreshOf({ client_id: `${A}\u0000` }), invalidClient);
  tok("client_id upper-cased", refreshOf({ client_id: A.toUpperCase() }), invalidClient);
  tok("client_id with a leading space", refreshOf({ client_id: ` ${A}` }), invalidClient);
  tok("client_id with a trailing tab", exchangeOf({ client_id: `${A}\t` }), invalidClient);
  tok("client_id of a LIKE wildcard", refreshOf({ client_id: "cli_%" }), invalidClient);
  // Grant types.
  tok("no grant_type", { client_id: S(), code }, invalidRequest);
  tok("an empty grant_type", { grant_type: "", client_id: S(), code }, invalidRequest);
  for (const grant of ["password", "client_credentials", "implicit", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer", "Authorization_Code", "REFRESH_TOKEN", "authorization_code ", "authorization_code\u0000", `refresh_token${crlf}`, sql, long10k]) {
    tok(`grant_type ${JSON.stringify(grant).slice(0, 40)}`, { grant_type: grant, client_id: S(), code, refresh_token: fx.rt, username: pat.email, password: pat.password, assertion: jwt }, unsupported);
  }
  // authorization_code: missing parameters and codes of the wrong shape or client.
  tok("no code", exchangeOf({ code: undefined }), invalidRequest);
  tok("an empty code", exchangeOf({ code: "" }), invalidRequest);
  tok("the code as refresh_token", { grant_type: "authorization_code", refresh_token: code, client_id: A, redirect_uri: REDIRECT, code_verifier: verifier }, invalidRequest);
  tok("the real code, no verifier", exchangeOf({ code_verifier: undefined }), invalidGrant);
  tok("the real code, another verifier", exchangeOf({ code_verifier: pkce().verifier }), invalidGrant);
  tok("the real code, the challenge as verifier", exchangeOf({ code_verifier: fx.challenge }), invalidGrant);
  tok("the real code, a 10,000-character verifier", exchangeOf({ code_verifier: long10k }), invalidGrant);
  tok("the real code, control characters as verifier", exchangeOf({ code_verifier: `${verifier}${ctl}` }), invalidGrant);
  tok("the real code, SQL as verifier", exchangeOf({ code_verifier: sql }), invalidGrant);
  tok("the real code, no redirect_uri", exchangeOf({ redirect_uri: undefined }), invalidGrant);
  tok("the real code, another redirect_uri", exchangeOf({ redirect_uri: REDIRECT_B }), invalidGrant);
  tok("the real code, redirect_uri with a slash", exchangeOf({ redirect_uri: `${REDIRECT}/` }), invalidGrant);
  tok("the real code, CRLF in redirect_uri", exchangeOf({ redirect_uri: `${REDIRECT}${crlf}` }), invalidGrant);
  tok("the real code, client B", exchangeOf({ client_id: B }), invalidGrant);
  tok("the real code, client C (same redirect URI)", exchangeOf({ client_id: C }), invalidGrant);
  tok("the real code, client N", exchangeOf({ client_id: N }), invalidGrant);
  tok("the real code, its tail changed", exchangeOf({ code: tail(code) }), invalidGrant);
  tok("the real code and a character more", exchangeOf({ code: `${code}A` }), invalidGrant);
  tok("the real code cut short", exchangeOf({ code: code.slice(0, -1) }), invalidGrant);
  tok("the real code upper-cased", exchangeOf({ code: code.toUpperCase() }), invalidGrant);
  tok("the real code in standard base64", exchangeOf({ code: code.replaceAll("-", "+").replaceAll("_", "/") + "=" }), invalidGrant);
  tok("the real code with a space", exchangeOf({ code: ` ${code}` }), invalidGrant);
  tok("a 10,000-character code", exchangeOf({ code: long10k }), invalidGrant);
  tok("the refresh token as code", exchangeOf({ code: fx.rt }), invalidGrant);
  tok("the refresh token's body as code", exchangeOf({ code: body(fx.rt) }), invalidGrant);
  tok("the access token as code", exchangeOf({ code: fx.at }), invalidGrant);
  tok("a session JWT as code", exchangeOf({ code: jwt }), invalidGrant);
  tok("an API key as code", exchangeOf({ code: apiKey }), invalidGrant);
  tok("SQL as code", exchangeOf({ code: sqlDrop }), invalidGrant);
  tok("CRLF in code", exchangeOf({ code: `${code}${crlf}` }), invalidGrant);
  tok("a NUL in code", exchangeOf({ code: `${code.slice(0, 32)}\u0000${code.slice(33)}` }), invalidGrant);
  tok("an unknown grant's code", exchangeOf({ code: randomBody(), client_id: S() }), invalidGrant);
  tok("the code with grant_type refresh_token", { grant_type: "refresh_token", code, client_id: A }, invalidRequest);
  // refresh_token: missing parameters and tokens of the wrong shape, prefix or client.
  tok("no refresh_token", refreshOf({ refresh_token: undefined }), invalidRequest);
  tok("an empty refresh_token", refreshOf({ refresh_token: "" }), invalidRequest);
  tok("the real refresh token, client B", refreshOf({ client_id: B }), invalidGrant);
  tok("the real refresh token, client N", refreshOf({ client_id: N }), invalidGrant);
  tok("the real refresh token, a spare client", refreshOf({ client_id: S() }), invalidGrant);
  tok("the real refresh token, its tail changed", refreshOf({ refresh_token: tail(fx.rt) }), invalidGrant);
  tok("the access token as refresh token", refreshOf({ refresh_token: fx.at }), invalidGrant);
  tok("prim_ort_ + the access token's body", refreshOf({ refresh_token: `prim_ort_${body(fx.at)}` }), invalidGrant);
  tok("prim_oat_ + the refresh token's body", refreshOf({ refresh_token: `prim_oat_${body(fx.rt)}` }), invalidGrant);
  tok("the refresh token and a character more", refreshOf({ refresh_token: `${fx.rt}A` }), invalidGrant);
  tok("the refresh token cut short", refreshOf({ refresh_token: fx.rt.slice(0, -1) }), invalidGrant);
  tok("the refresh token with another prefix", refreshOf({ refresh_token: `ptmc_ort_${body(fx.rt)}` }), invalidGrant);
  tok("the refresh token's prefix upper-cased", refreshOf({ refresh_token: `PRIM_ORT_${body(fx.rt)}` }), invalidGrant);
  tok("the refresh token's body alone", refreshOf({ refresh_token: body(fx.rt) }), invalidGrant);
  tok("a 600-character refresh token", refreshOf({ refresh_token: `prim_ort_${"A".repeat(600)}` }), invalidGrant);
  tok("a 10,000-character refresh token", refreshOf({ refresh_token: long10k }), invalidGrant);
  tok("the code as refresh token", refreshOf({ refresh_token: code }), invalidGrant);
  tok("a session JWT as refresh token", refreshOf({ refresh_token: jwt }), invalidGrant);
  tok("an API key as refresh token", refreshOf({ refresh_token: apiKey }), invalidGrant);
  tok("SQL as refresh token", refreshOf({ refresh_token: sql }), invalidGrant);
  tok("CRLF after the refresh token", refreshOf({ refresh_token: `${fx.rt}${crlf}` }), invalidGrant);
  tok("Bearer + the refresh token", refreshOf({ refresh_token: `Bearer ${fx.rt}` }), invalidGrant);
  tok("an unknown grant's refresh token", refreshOf({ refresh_token: `prim_ort_${randomBody()}`, client_id: S() }), invalidGrant);
  tok("the real refresh token, scope admin", refreshOf({ scope: "admin" }), invalidScope);
  tok("the real refresh token, a wider scope", refreshOf({ scope: "keyward:api keyward:admin" }), invalidScope);
  tok("the real refresh token, SQL as scope", refreshOf({ scope: sql }), invalidScope);
  tok("the real refresh token, CRLF in scope", refreshOf({ scope: `keyward:api${crlf}` }), invalidScope);
  tok("the real refresh token, a 10,000-character scope", refreshOf({ scope: long10k }), invalidScope);
  tok("the refresh token with grant_type authorization_code", { grant_type: "authorization_code", refresh_token: fx.rt, client_id: A }, invalidRequest);
  for (const method of ["GET", "PUT", "PATCH", "DELETE"]) {
    add(`token by ${method}`, method, `/oauth/token?${enc(refreshOf())}`, { raw: enc(refreshOf()), headers: { "content-type": FORM } }, json(405, "invalid_request"));
  }
  add(
    "token chunked, 80 KB",
    "POST",
    "/oauth/token",
    rawRequest("POST /oauth/token", `Content-Type: ${FORM}\r\nTransfer-Encoding: chunked\r\n`, `${Array.from({ length: 5 }, () => `4000\r\n${"x".repeat(0x4000)}\r\n`).join("")}0\r\n\r\n`),
    json(413, "invalid_request"),
  );

  // ---- POST /oauth/revoke: no live token is sent with its own client's id. ----
  const rev = (label, payload, expect) => formCase(`revoke ${label}`, "/oauth/revoke", payload, expect);
  rev("%zz", `token=%zz&client_id=${A}`, invalidRequest);
  rev("%2", `token=${fx.at}%2&client_id=${B}`, invalidRequest);
  rev("invalid UTF-8 bytes", badUtf8(`client_id=${A}&token=`), invalidRequest);
  rev("invalid UTF-8 escapes", `client_id=${A}&token=%c3%28`, invalidRequest);
  rev("a repeated token", `token=${fx.at}&token=${fx.rt}&client_id=${B}`, invalidRequest);
  rev("a repeated client_id", `token=prim_oat_${randomBody()}&client_id=${B}&client_id=${A}`, invalidRequest);
  rev("a JSON body", JSON.stringify({ token: fx.at, client_id: B }), json(null));
  rev("an empty body", "", invalidRequest);
  rev("an empty token", { token: "", client_id: A }, invalidRequest);
  rev("no token", { client_id: A, token_type_hint: "access_token" }, invalidRequest);
  rev("70 KB", `token=${big}&client_id=${B}`, json(413, "invalid_request"));
  rev("an unknown access token", { token: `prim_oat_${randomBody()}`, client_id: A }, revoked());
  rev("an unknown refresh token", { token: `prim_ort_${randomBody()}`, client_id: A }, revoked());
  rev("garbage", { token: "garbage", client_id: A }, revoked());
  rev("a 600-character token", { token: `prim_oat_${"A".repeat(600)}`, client_id: A }, revoked());
  rev("a 10,000-character token", { token: long10k, client_id: A }, revoked());
  rev("SQL", { token: sqlDrop, client_id: A }, revoked());
  rev("CRLF", { token: crlf, client_id: A }, revoked());
  rev("control characters", { token: ctl, client_id: A }, revoked());
  rev("a session JWT", { token: jwt, client_id: A }, revoked());
  rev("an API key", { token: apiKey, client_id: A }, revoked());
  rev("the unused code", { token: code, client_id: A }, revoked());
  rev("the access token, client B", { token: fx.at, client_id: B }, revoked());
  rev("the refresh token, client B", { token: fx.rt, client_id: B }, revoked());
  rev("the access token, client C", { token: fx.at, client_id: C }, revoked());
  rev("the access token, no client_id", { token: fx.at }, revoked());
  rev("the refresh token, an empty client_id", { token: fx.rt, client_id: "" }, revoked());
  rev("the access token, an unknown client", { token: fx.at, client_id: zeroClient }, revoked());
  rev("the access token, client_id upper-cased", { token: fx.at, client_id: A.toUpperCase() }, revoked());
  rev("the refresh token, client_id with a space", { token: fx.rt, client_id: `${A} ` }, revoked());
  rev("the access token, SQL as client_id", { token: fx.at, client_id: `${A}' OR '1'='1` }, revoked());
  rev("the access token, a hint, client B", { token: fx.at, client_id: B, token_type_hint: "access_token" }, revoked());
  rev("an unknown token, a hostile hint", { token: `prim_oat_${randomBody()}`, client_id: A, token_type_hint: sqlDrop }, revoked());
  rev("the access token with another prefix", { token: `ptmc_oat_${body(fx.at)}`, client_id: A }, revoked());
  rev("the access token's prefix upper-cased", { token: `PRIM_OAT_${body(fx.at)}`, client_id: A }, revoked());
  rev("the access token and a character more", { token: `${fx.at}A`, client_id: A }, revoked());
  rev("the refresh token cut short", { token: fx.rt.slice(0, -1), client_id: A }, revoked());
  rev("the access token after a space", { token: ` ${fx.at}`, client_id: A }, revoked());
  rev("Bearer + the refresh token", { token: `Bearer ${fx.rt}`, client_id: A }, revoked());
  for (const method of ["GET", "PUT", "PATCH", "DELETE"]) {
    add(`revoke by ${method}`, method, `/oauth/revoke?${enc({ token: fx.at, client_id: A })}`, { raw: enc({ token: fx.at, client_id: A }), headers: { "content-type": FORM } }, json(405, "invalid_request"));
  }

  // ---- GET /oauth/authorize: pages for anything not known good, redirects only to A's URI. ----
  const get = (label, query, expect) => add(`authorize GET ${label}`, "GET", typeof query === "string" ? `/oauth/authorize?${query}` : authorizeUrl(query), {}, expect);
  const good = enc(request());
  get("no query", "", page(400));
  get("%zz", `${good}&x=%zz`, page(400));
  get("%2", `${good}&state=%2`, page(400));
  get("invalid UTF-8 escapes", `client_id=%ff%fe&redirect_uri=${encodeURIComponent(REDIRECT)}`, page(400));
  get("a repeated client_id", `${good}&client_id=${B}`, page(400));
  get("redirect_uri twice (good, evil)", `${good}&redirect_uri=${encodeURIComponent("https://evil.example/cb")}`, page(400));
  get("redirect_uri twice (evil, good)", `redirect_uri=${encodeURIComponent("https://evil.example/cb")}&${good}`, page(400));
  get("redirect_uri twice (good, good)", `${good}&redirect_uri=${encodeURIComponent(REDIRECT)}`, page(400));
  get("a repeated state", `${good}&state=again`, page(400));
  get("a repeated response_type", `${good}&response_type=token`, page(400));
  get("no client_id", request({ client_id: undefined }), page(400));
  get("an empty client_id", request({ client_id: "" }), page(400));
  get("an unknown client", request({ client_id: zeroClient }), page(400));
  get("SQL as client_id", request({ client_id: sql }), page(400));
  get("CRLF in client_id", request({ client_id: `${A}${crlf}` }), page(400));
  get("a 10,000-character client_id", request({ client_id: long10k }), page(400));
  get("client B with A's redirect URI", request({ client_id: B }), page(400));
  get("client C without a redirect URI", request({ client_id: C, redirect_uri: undefined }), page(400));
  for (const evil of [
    "https://evil.example/cb",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    `${REDIRECT}#frag`,
    `${REDIRECT}/../x`,
    `${REDIRECT}/`,
    `${REDIRECT}?next=https://evil.example`,
    `${REDIRECT}\r\nLocation: https://evil.example/`,
    `${REDIRECT}\u0000`,
    `${REDIRECT} `,
    "http://evil.example@127.0.0.1:4567/callback",
    "http://127.0.0.1:4567@evil.example/callback",
    "http://127.0.0.1:4567\\@evil.example/callback",
    "http://127.0.0.1.evil.example:4567/callback",
    "http://localhost:4567/callback",
    "http://[::1]:4567/callback",
    "//evil.example/callback",
    "/callback",
    "http://127.0.0.1:4567/CALLBACK",
    "http://127.0.0.1:4567/%63allback",
    REDIRECT_B,
    "",
    `${REDIRECT}${"a".repeat(10_000)}`,
  ]) {
    get(`redirect_uri ${JSON.stringify(evil).slice(0, 60)}`, request({ redirect_uri: evil, response_type: "token" }), page(400));
  }
  get("a 2,000-byte state", request({ state: "s".repeat(2000) }), page(400));
  get("a 10,000-character code_challenge", request({ code_challenge: long10k }), page(400));
  // Known client and redirect URI: the error goes back there, with state and iss.
  get("response_type token", request({ response_type: "token" }), redirect("unsupported_response_type"));
  get("response_type code token", request({ response_type: "code token" }), redirect("unsupported_response_type"));
  get("response_type SQL", request({ response_type: sql }), redirect("unsupported_response_type"));
  get("no response_type", request({ response_type: undefined }), redirect("invalid_request"));
  get("no code_challenge", request({ code_challenge: undefined }), redirect("invalid_request"));
  get("an empty code_challenge", request({ code_challenge: "" }), redirect("invalid_request"));
  get("code_challenge_method plain", request({ code_challenge_method: "plain" }), redirect("invalid_request"));
  get("no code_challenge_method", request({ code_challenge_method: undefined }), redirect("invalid_request"));
  get("code_challenge_method s256", request({ code_challenge_method: "s256" }), redirect("invalid_request"));
  get("a 42-character code_challenge", request({ code_challenge: fx.challenge.slice(0, 42) }), redirect("invalid_request"));
  get("SQL as code_challenge", request({ code_challenge: sql }), redirect("invalid_request"));
  get("scope admin", request({ scope: "admin" }), redirect("invalid_scope"));
  get("SQL as scope", request({ scope: sql }), redirect("invalid_scope"));
  get("resource elsewhere", request({ resource: "https://evil.example/" }), redirect("invalid_target"));
  get("CRLF in state, response_type token", request({ response_type: "token", state: crlf }), redirect("unsupported_response_type", REDIRECT, crlf));
  get("no redirect_uri (one registered), response_type token", request({ redirect_uri: undefined, response_type: "token" }), redirect("unsupported_response_type"));
  get("redirect_uri with an upper-case scheme, response_type token", request({ redirect_uri: "HTTP://127.0.0.1:4567/callback", response_type: "token" }), redirect("unsupported_response_type"));
  get("loopback on another port (RFC 8252), response_type token", request({ redirect_uri: "http://127.0.0.1:9999/callback", response_type: "token" }), redirect("unsupported_response_type", "http://127.0.0.1:9999/callback"));
  // Hostile but harmless values: the sign-in page, escaped.
  get("a script as state", request({ state: "<script>alert(1)</script>" }), page(200));
  get("SQL in an unknown parameter", `${good}&${enc({ prompt: sqlDrop, nonce: crlf })}`, page(200));
  for (const method of ["PUT", "PATCH", "DELETE", "OPTIONS"]) {
    add(`authorize by ${method}`, method, authorizeUrl(request()), { raw: enc({ ...fx.consent, action: "approve", org_id: fx.orgs[0] }), headers: { "content-type": FORM, cookie: pat.browser.cookie } }, json(405, "invalid_request"));
  }
  add("authorize GET raw bytes in the query", "GET", "/oauth/authorize?client_id=\xff", rawRequest(`GET /oauth/authorize?client_id=${A}\xff\xfe&redirect_uri=${encodeURIComponent(REDIRECT)}`, ""), page(400));

  // ---- POST /oauth/authorize ----
  // Body-level refusals (encoding, repeats, size) answer in the /oauth/* JSON family: the
  // form is refused before it is read as an authorization request.
  const approveForm = (extra = {}) => ({ ...fx.consent, action: "approve", org_id: fx.orgs[0], ...extra });
  const postAs = (label, cookie, payload, expect, contentType = FORM) =>
    add(`authorize POST ${label}`, "POST", "/oauth/authorize", { raw: enc(payload), headers: { "content-type": contentType, ...(cookie ? { cookie } : {}) } }, expect);
  const asPat = (label, payload, expect, contentType) => postAs(label, pat.browser.cookie, payload, expect, contentType);
  const [cookieName] = pat.browser.cookie.split("=");
  asPat("no csrf", approveForm({ csrf: undefined }), page(403));
  asPat("an empty csrf", approveForm({ csrf: "" }), page(403));
  asPat("another browser's csrf", approveForm({ csrf: fx.anonForm.csrf }), page(403));
  asPat("csrf with its tail changed", approveForm({ csrf: tail(fx.consent.csrf) }), page(403));
  asPat("csrf and a character more", approveForm({ csrf: `${fx.consent.csrf}A` }), page(403));
  asPat("CRLF as csrf", approveForm({ csrf: crlf }), page(403));
  asPat("SQL as csrf", approveForm({ csrf: sql }), page(403));
  asPat("a 10,000-character csrf", approveForm({ csrf: long10k }), page(403));
  postAs("approve without a cookie", "", approveForm(), page(403));
  postAs("approve with a forged cookie", `${cookieName}=${randomBytes(48).toString("base64url")}`, approveForm(), page(403));
  postAs("approve with Pat's cookie altered", tail(pat.browser.cookie), approveForm(), page(403));
  postAs("approve with the signed-out browser's cookie", fx.anon.cookie, approveForm(), page(403));
  postAs("approve signed out (its own csrf)", fx.anon.cookie, { ...fx.anonForm, action: "approve", org_id: fx.orgs[0] }, page(403));
  asPat("a repeated csrf", `${enc(approveForm())}&csrf=${fx.consent.csrf}`, invalidRequest);
  asPat("a repeated org_id", `${enc(approveForm())}&org_id=${victim.org}`, invalidRequest);
  asPat("a repeated action", `${enc(approveForm({ action: "deny" }))}&action=approve`, invalidRequest);
  asPat("%zz", `${enc(approveForm())}&x=%zz`, invalidRequest);
  asPat("%2", `${enc(approveForm())}&org_id2=%2`, invalidRequest);
  asPat("invalid UTF-8 bytes", badUtf8(`${enc(approveForm({ org_id: undefined }))}&org_id=`), invalidRequest);
  asPat("70 KB", `${enc(approveForm())}&pad=${big}`, json(413, "invalid_request"));
  asPat("a JSON body", JSON.stringify(approveForm()), page(400), "application/json");
  postAs("an empty body", "", "", page(400));
  asPat("approve into an org Pat is not in", approveForm({ org_id: victim.org }), page(200));
  asPat("approve with SQL as org_id", approveForm({ org_id: `${fx.orgs[0]}' OR '1'='1` }), page(200));
  asPat("approve without org_id", approveForm({ org_id: undefined }), page(200));
  asPat("approve with a 10,000-character org_id", approveForm({ org_id: long10k }), page(200));
  asPat("action APPROVE", approveForm({ action: "APPROVE" }), page(400));
  asPat("action approve + CRLF", approveForm({ action: "approve\r\n" }), page(400));
  asPat("no action", approveForm({ action: undefined }), page(400));
  asPat("action SQL", approveForm({ action: sql }), page(400));
  asPat("deny", approveForm({ action: "deny" }), redirect("access_denied"));
  asPat("approve for an evil redirect_uri", approveForm({ redirect_uri: "https://evil.example/cb" }), page(400));
  asPat("approve for client B", approveForm({ client_id: B }), page(400));
  asPat("approve for an unknown client", approveForm({ client_id: zeroClient }), page(400));
  asPat("approve without client_id", approveForm({ client_id: undefined }), page(400));
  asPat("approve with a 2,000-byte state", approveForm({ state: "s".repeat(2000) }), page(400));
  asPat("approve with response_type token", approveForm({ response_type: "token" }), redirect("unsupported_response_type"));
  asPat("approve with code_challenge_method plain", approveForm({ code_challenge_method: "plain" }), redirect("invalid_request"));
  asPat("approve without code_challenge", approveForm({ code_challenge: undefined }), redirect("invalid_request"));
  asPat("approve with scope admin", approveForm({ scope: "admin" }), redirect("invalid_scope"));
  asPat("approve with resource elsewhere", approveForm({ resource: "https://evil.example/" }), redirect("invalid_target"));
  const anonSignin = (label, extra, expect) => postAs(`signin ${label}`, fx.anon.cookie, { ...fx.anonForm, action: "signin", ...extra }, expect);
  anonSignin("SQL as email", { email: `${sql}@example.com`, password: "x" }, page(401));
  anonSignin("CRLF in email", { email: `${pat.email}${crlf}`, password: pat.password.replace(/.$/, "!") }, page(401));
  anonSignin("a 10,000-character email", { email: `${long10k}@example.com`, password: "x" }, page(401));
  anonSignin("no password", { email: pat.email }, page(401));
  anonSignin("Pat's email, a wrong password", { email: pat.email, password: `${pat.password}-wrong` }, page(401));
  anonSignin("an unknown email, a 10,000-character password", { email: `nobody-${randomBytes(4).toString("hex")}@example.com`, password: long10k }, page(401));
  anonSignin("without csrf", { csrf: undefined, email: pat.email, password: pat.password }, page(403));
  return cases;
}

/** Sends one case: a raw socket for `opts.raw` strings with a request line, `call` otherwise. */
function send(method, path, opts) {
  return typeof opts.raw === "string" && / HTTP\/1\.1\r\n/.test(opts.raw) ? rawCall(server.origin, opts.raw) : call(server.origin, method, path, opts);
}

const secrets = () => [fx.at, fx.rt, fx.unused.code, fx.unused.verifier, fx.pat.password, fx.pat.jwt, fx.owner.plain_key, server.vars.ADMIN_TOKEN, server.vars.HASH_SECRET];

test("hostile requests at /oauth/register, /oauth/authorize, /oauth/token and /oauth/revoke: 4xx in the OAuth shape or an HTML page, never 5xx, nothing written", async () => {
  const cases = hostileCases();
  assert.ok(cases.length >= 150, `${cases.length} cases`);
  const before = snapshot();
  const failures = [];
  let fivexx = 0;
  for (const { label, method, path, opts, expect } of cases) {
    let r;
    try {
      r = await send(method, path, opts);
    } catch (error) {
      failures.push(`${label} → ${error.message}`);
      continue;
    }
    if (r.status >= 500) fivexx += 1;
    if (process.env.KEYWARD_E2E_TRACE) console.log(`# ${r.status} ${r.body?.error ?? r.headers.get("location") ?? ""} ${label}`);
    failures.push(...problems(label, path, r, expect, secrets()));
  }
  console.log(`# oauth-hostile: ${cases.length} requests, ${fivexx} 5xx`);
  const after = snapshot();
  failures.push(...changedTables(before, after).map((table) => `table changed: ${table}`));
  assert.deepEqual(failures, []);
  assert.equal(fivexx, 0);
  assert.deepEqual(after, before, "nothing written");
});

test("the fixtures the barrage sent with flaws still work: the access token, one refresh, and the unused code", async () => {
  const me = await call(server.origin, "GET", "/v1/whoami", { token: fx.at });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.body.data.auth_method, "oauth");
  assert.equal(me.body.data.client_id, fx.A);
  const refreshed = await tokenPost({ grant_type: "refresh_token", refresh_token: fx.rt, client_id: fx.A });
  assert.equal(refreshed.status, 200, refreshed.text);
  assert.equal(refreshed.headers.get("cache-control"), "no-store");
  assert.match(refreshed.body.refresh_token, /^prim_ort_/);
  assert.notEqual(refreshed.body.refresh_token, fx.rt);
  assert.equal((await call(server.origin, "GET", "/v1/whoami", { token: refreshed.body.access_token })).status, 200);
  const exchanged = await tokenPost({ grant_type: "authorization_code", code: fx.unused.code, redirect_uri: REDIRECT, client_id: fx.A, code_verifier: fx.unused.verifier });
  assert.equal(exchanged.status, 200, `the unused code survived the barrage: ${exchanged.text}`);
  assert.equal((await call(server.origin, "GET", "/v1/whoami", { token: exchanged.body.access_token })).status, 200);
});

test("a forged token that names a real grant, sent with the grant's own client_id, revokes nothing (RFC 7009: an invalid token is a no-op)", async () => {
  const grantIdOf = (token) => Buffer.from(token.replace(/^prim_o[ar]t_/, ""), "base64url").subarray(0, 16);
  const forgeries = {
    "the refresh token with its tail changed": (t) => `${t.refresh_token.slice(0, -4)}${t.refresh_token.endsWith("AAAA") ? "BBBB" : "AAAA"}`,
    "the access token with its tail changed": (t) => `${t.access_token.slice(0, -4)}${t.access_token.endsWith("AAAA") ? "BBBB" : "AAAA"}`,
    "prim_oat_ + the refresh token's body": (t) => `prim_oat_${t.refresh_token.slice("prim_ort_".length)}`,
    "the grant id (whoami's key_id) and 32 zero bytes": (t) => `prim_ort_${Buffer.concat([grantIdOf(t.access_token), Buffer.alloc(32)]).toString("base64url")}`,
  };
  const ended = [];
  for (const [name, forge] of Object.entries(forgeries)) {
    const tokens = await exchange(await approve());
    const me = await call(server.origin, "GET", "/v1/whoami", { token: tokens.access_token });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.data.key_id, grantIdOf(tokens.access_token).toString("hex"), "the grant id is the token's first 16 bytes");
    const forged = forge(tokens);
    assert.notEqual(forged, tokens.access_token);
    assert.notEqual(forged, tokens.refresh_token);
    const r = await call(server.origin, "POST", "/oauth/revoke", { raw: enc({ token: forged, client_id: fx.A }), headers: { "content-type": FORM } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, "{}");
    const [row] = server.sql(`SELECT ended_at, ending FROM grants WHERE id = '${me.body.data.key_id}'`);
    const still = await call(server.origin, "GET", "/v1/whoami", { token: tokens.access_token });
    if (row.ended_at !== null || still.status !== 200) ended.push(`${name}: POST /oauth/revoke token=${forged.slice(0, 24)}…&client_id=${fx.A} → 200 {}, and the grant ended (${row.ending}); whoami → ${still.status}`);
  }
  assert.deepEqual(ended, [], "a token the server never issued ended a live grant");
});
