// Hostile input at every namespace endpoint (issue 11): POST and GET /v1/namespaces,
// DELETE /v1/namespaces/{ns}, PUT|GET|DELETE /v1/namespaces/{ns}/keys/{key} and GET
// /v1/namespaces/{ns}/keys. Malformed, wrong-typed, mass-assigning and oversized create
// bodies; names off the rule; keys that are empty, too long, with control characters,
// badly percent-encoded or not UTF-8; double-encoded keys (literal names: 404, never
// another key's value); values over 1 MiB, with and without Content-Length; bad limits,
// prefixes and forged, garbled or foreign cursors; wrong methods; bad credentials (401
// "authentication") and keys without access (403 "permission", for namespaces that exist
// and that do not alike); raw requests with `..`, `%2e%2e`, backslashes and NUL bytes in
// the path. Every answer is a 4xx in the /v1 family's shape, or, for a path the runtime
// normalises into the caller's own namespace, provably that namespace's; none is a 5xx,
// and none carries the canaries: values in a namespace the attacking keys may not use and
// in another org's namespace of the same name as theirs.
//
// Nothing is written: the identity tables and `namespaces` in D1 are read back and
// compared (the barrage's snapshot), and so is every namespace's listing and every value's
// SHA-256, read through the API with all-namespaces keys of both orgs.
//
// Findings are kept as failing assertions, each in a test of its own after the barrage:
// two for the server (methods the router does not know are served as GET; a JSON array
// is taken for the `{name}` object), and two `todo` tests for what the `wrangler dev`
// runtime does before or around the worker (see their comments).
// KEYWARD_E2E_TRACE=1 prints each answer.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { bootstrap, call, keyward, seedOrg } from "./helpers.mjs";
import { bearer, garbageCredentials, rawCall, runBarrage } from "./barrage.mjs";

const MiB = 1 << 20;
const hex = (n) => randomBytes(n).toString("hex");
const b64 = (value) => Buffer.from(value).toString("base64url");
const enc = encodeURIComponent;
/** In org A's `vault`, which no attacking key may use. */
const CANARY_A = `canary-a-${hex(12)}`;
/** In org B's `mine`, the same name as the attacking keys' own namespace. */
const CANARY_B = `canary-b-${hex(12)}`;
const VAULT_KEY = `vault-key-${hex(6)}`;
const B_KEY = `b-key-${hex(6)}`;
/** What org A's `mine` (the attacking keys' namespace) holds, key → value. */
const OWN = {
  "%2e": "own:percent-2e",
  "../vault/keys/k": "own:dot-dot",
  "a/b": "own:a/b",
  "item/1": "own:item/1",
  "item/2": "own:item/2",
  "item/3": "own:item/3",
  k: "own:k",
};
const OWN_KEYS = Object.keys(OWN).sort();

let server;
/** Fixtures: keys of org A (all, attacker, member, none, revoked, expired), org B, cursors. */
const fx = {};
let sent = 0;

/** A request that must succeed while setting up; returns its JSON body. */
async function ok(status, method, pathname, opts = {}) {
  const r = await call(server.origin, method, pathname, opts);
  sent += 1;
  assert.equal(r.status, status, `${method} ${pathname}: ${r.text}`);
  return r.body;
}
const put = (token, ns, key, value) => ok(200, "PUT", `/v1/namespaces/${ns}/keys/${enc(key)}`, { token, raw: Buffer.from(value) });

/** The bytes of a value, exactly (fetch, not `call`'s UTF-8 text). */
async function valueBytes(token, ns, key) {
  const r = await fetch(`${server.origin}/v1/namespaces/${ns}/keys/${enc(key)}`, { headers: { authorization: `Bearer ${token}` } });
  sent += 1;
  assert.equal(r.status, 200, `${ns}/${key}`);
  return Buffer.from(await r.arrayBuffer());
}

/**
 * What both orgs keep in KV, through the API with all-namespaces keys: which namespaces
 * exist, and each one's keys with every value's size and SHA-256 (a listing alone would
 * miss an overwrite).
 */
async function kvState() {
  const state = {};
  for (const [org, token] of [
    ["A", fx.all],
    ["B", fx.b.key],
  ]) {
    const names = (await ok(200, "GET", "/v1/namespaces?limit=100", { token })).data.map((n) => n.name);
    state[`org ${org} namespaces`] = names;
    for (const name of names) {
      const keys = [];
      let cursor;
      do {
        const page = await ok(200, "GET", `/v1/namespaces/${name}/keys?limit=1000${cursor ? `&cursor=${enc(cursor)}` : ""}`, { token });
        keys.push(...page.data.map((k) => k.key));
        cursor = page.next_cursor;
      } while (cursor);
      const values = [];
      for (const key of keys) {
        const bytes = await valueBytes(token, name, key);
        values.push([key, bytes.length, createHash("sha256").update(bytes).digest("hex")]);
      }
      state[`org ${org} ${name}`] = values;
    }
  }
  return state;
}

before(async () => {
  server = await keyward({ prefix: "ptmc" });
  fx.owner = await bootstrap(server);
  const t = fx.owner.plain_key;
  const mint = async (name, namespaces) => (await ok(201, "POST", "/v1/keys", { token: t, body: { name, namespaces, rate_limit_rpm: 100_000 } })).data;

  // Org A: `mine` (the attackers'), `vault` (the canary's). Keys minted by the owner are
  // owners' keys: the attacker may create and delete the namespaces it reaches (so the
  // barrage never asks it to do so with a valid request).
  fx.all = (await mint("all", ["*"])).plain_key;
  for (const name of ["mine", "vault"]) await ok(201, "POST", "/v1/namespaces", { token: fx.all, body: { name } });
  for (const [key, value] of Object.entries(OWN)) await put(fx.all, "mine", key, value);
  await put(fx.all, "vault", "k", CANARY_A);
  await put(fx.all, "vault", VAULT_KEY, CANARY_A);
  fx.attacker = (await mint("attacker", ["mine", "ghost"])).plain_key; // `ghost` does not exist
  fx.none = (await mint("none", [])).plain_key;
  const svc = await ok(201, "POST", "/entities", { token: t, body: { kind: "service", name: "svc-member", role: "member" } });
  const memberKey = await ok(201, "POST", `/entities/${svc.id}/credentials/api-keys`, { token: t, body: { description: "member key", rate_limit_rpm: 100_000 } });
  await ok(200, "PATCH", `/v1/keys/${memberKey.credential_id}`, { token: t, body: { namespaces: ["mine"] } });
  fx.member = memberKey.key;
  const revoked = await mint("revoked", ["mine"]);
  await ok(200, "DELETE", `/v1/keys/${revoked.id}`, { token: t });
  fx.revoked = revoked.plain_key;
  const expired = await mint("expired", ["mine"]);
  server.sql(`UPDATE credentials SET expires_at = 1 WHERE id = '${expired.id}'`);
  fx.expired = expired.plain_key;
  for (const token of [fx.revoked, fx.expired]) await ok(401, "GET", "/v1/whoami", { token });

  // Org B: its own `mine` (the same name, another namespace) and `bonly`.
  fx.b = seedOrg(server, { name: "orgb", namespaces: ["*"] });
  server.sql(`UPDATE credentials SET rate_limit_rpm = 100000 WHERE id = '${fx.b.keyId}'`);
  for (const name of ["mine", "bonly"]) await ok(201, "POST", "/v1/namespaces", { token: fx.b.key, body: { name } });
  await put(fx.b.key, "mine", "k", CANARY_B);
  await put(fx.b.key, "mine", B_KEY, CANARY_B);
  await put(fx.b.key, "bonly", "k", CANARY_B);

  // Cursors: the attacker's own, another namespace's of the org, org B's `mine`'s, and a
  // namespace-listing cursor.
  const next = async (token, pathname) => (await ok(200, "GET", pathname, { token })).next_cursor;
  fx.mineCursor = await next(fx.attacker, "/v1/namespaces/mine/keys?limit=1");
  fx.itemCursor = await next(fx.attacker, "/v1/namespaces/mine/keys?prefix=item%2F&limit=1");
  fx.vaultCursor = await next(fx.all, "/v1/namespaces/vault/keys?limit=1");
  fx.bCursor = await next(fx.b.key, "/v1/namespaces/mine/keys?limit=1");
  fx.nameCursor = await next(fx.all, "/v1/namespaces?limit=1");
  for (const c of ["mineCursor", "itemCursor", "vaultCursor", "bCursor", "nameCursor"]) assert.ok(fx[c], c);
  fx.namespaceIds = server.sql("SELECT id FROM namespaces ORDER BY id").map((r) => r.id);
  assert.equal(fx.namespaceIds.length, 4);
});
after(async () => {
  console.log(`# namespaces-hostile: ${sent} requests in all`);
  if (process.env.KEYWARD_E2E_LOG) console.log(server?.log());
  await server?.stop();
  server?.cleanup();
});

const invalidRequest = { status: 400, code: "invalid_request" };
const invalidNamespace = { status: 400, code: "invalid_namespace" };
const invalidKey = { status: 400, code: "invalid_key" };
const invalidPrefix = { status: 400, code: "invalid_prefix" };
const unauthorized = { status: 401, code: "unauthorized", message: /authentication/ };
const permission = { status: 403, code: "forbidden", message: /permission/ };
const notFound = { status: 404, code: "not_found" };
const notAllowed = { status: 405, code: "method_not_allowed" };
const conflict = { status: 409, code: "conflict" };
const tooLarge = { status: 413, code: "payload_too_large" };

/**
 * For a case whose answer may come from the runtime or land in the caller's own
 * namespace: a 4xx, or a 2xx that is provably `mine`'s (one of its values, a listing of
 * its keys, an answer naming it, a namespace listing of what the attacker may use).
 */
function refusedOrOwn(r) {
  if (r.status >= 400 && r.status < 500) return [];
  if (r.status < 200 || r.status >= 300) return ["neither a 4xx nor a 2xx"];
  if (!r.body) return Object.values(OWN).includes(r.text) ? [] : [`a value that is not mine's: ${JSON.stringify(r.text.slice(0, 80))}`];
  const data = r.body.data;
  const mine = (item) => (item?.key !== undefined ? OWN_KEYS.includes(item.key) : ["mine", "ghost"].includes(item?.name));
  const fine = r.body.success === true && (Array.isArray(data) ? data.every(mine) : data?.namespace === "mine");
  return fine ? [] : [`not provably inside mine: ${r.text.slice(0, 200)}`];
}
/** Answered `status` by the runtime (no worker) or the worker. */
const fromRuntime = (status) => (r) => (r.status === status ? [] : [`expected ${status}`]);
/** A DELETE of the literal key `key` in `mine`: 200, naming that key (it was absent). */
const deletedLiteral = (key) => (r) =>
  r.status === 200 && r.body?.data?.namespace === "mine" && r.body.data.key === key && r.body.data.deleted === true ? [] : [`not a delete of the literal ${JSON.stringify(key)}: ${r.text.slice(0, 200)}`];

/**
 * The barrage: `[method, path, opts, expect]` (see barrage.mjs). Nothing here may write:
 * a body that would pass has a flaw that refuses it first, and no valid create or delete
 * is sent with a key that could carry it out.
 */
function hostileCases() {
  const A = fx.attacker;
  const M = fx.member;
  const N = fx.none;
  const ALL = fx.all;
  const B = fx.b.key;
  const value = (ns, key) => `/v1/namespaces/${ns}/keys/${key}`; // `key` as the path segment sent
  const list = (ns, query) => `/v1/namespaces/${ns}/keys${query === undefined ? "" : `?${query}`}`;
  const small = Buffer.from("hostile bytes");
  const overMiB = Buffer.alloc(MiB + 1, 0x61);
  const octets = { "content-type": "application/octet-stream" };
  const get = (token, path, expect) => ["GET", path, { token }, expect];
  const del = (token, path, expect) => ["DELETE", path, { token }, expect];
  const putBytes = (token, path, raw, expect) => ["PUT", path, { token, raw, headers: octets }, expect];
  const json = { "content-type": "application/json" };
  const create = (body, token, expect) => ["POST", "/v1/namespaces", { token, body }, expect];
  const createRaw = (payload, token, expect) => ["POST", "/v1/namespaces", { token, raw: payload, headers: json }, expect];
  const garbage = [
    ...garbageCredentials("ptmc", A),
    { token: fx.revoked },
    { token: fx.expired },
    { token: A.toUpperCase() },
    { token: `${A}x` },
    { token: A.slice(0, -1) },
    { token: B.replace(/^ptmc_/, "atom_") },
    bearer(`Bearer ${A} ${A}`),
    bearer(`Token ${A}`),
    bearer(A),
  ];

  // POST /v1/namespaces {name}
  const deepArray = `${"[".repeat(5000)}${"]".repeat(5000)}`;
  const deepObject = `${'{"a":'.repeat(3000)}1${"}".repeat(3000)}`;
  const badUtf8 = Buffer.concat([Buffer.from('{"name":"fr'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('esh"}')]);
  const badNames = [
    "",
    "A",
    "Mine",
    "MINE",
    ".a",
    "-a",
    "_a",
    ".",
    "..",
    "a".repeat(64),
    "ä",
    "ñame",
    "ｍine",
    "*",
    "a*",
    "mine*",
    "a b",
    " mine",
    "mine ",
    "mine\u0000",
    "vault\u0000",
    "mine\n",
    "mine\t",
    "a/b",
    "../vault",
    "a%2Fb",
    "%2e%2e",
    "a\\b",
    "a:b",
    "a@b",
    "a?b",
    "a#b",
    "a+b",
    "a,b",
    "a'b",
    "<b>",
    "\u0130",
    "\u212a",
    "mine\u200b",
    "\u{1f600}",
  ];
  const creates = [
    ...[
      "{",
      '{"name": "fresh',
      "",
      "null",
      "[]",
      "0",
      "true",
      '"fresh"',
      '["fresh", "extra"]',
      '{"name":"fresh",}',
      '{"name":"fresh"} x',
      '{"name":"fresh"}{"name":"other"}',
      '{"name":"fresh"/* c */}',
      "{'name':'fresh'}",
      '{name:"fresh"}',
      '{"name":"fresh"\u0000}',
      `\ufeff{"name":"fresh"}`,
      '{"name":"\\ud800"}',
      '{"name":1e400}',
      deepArray,
      deepObject,
      badUtf8,
    ].map((payload) => createRaw(payload, ALL, invalidRequest)),
    ...[5, 1.5, null, true, [], ["fresh"], {}, { name: "fresh" }].map((name) => create({ name }, ALL, invalidRequest)),
    create({}, ALL, invalidRequest),
    ...[
      { Name: "fresh" },
      { name: "fresh", extra: 1 },
      { name: "fresh", org_id: fx.b.org },
      { name: "fresh", id: `nsp_${"0".repeat(32)}` },
      { name: "fresh", created_by: fx.b.entity },
      { name: "fresh", created_at: 0 },
      { name: "fresh", namespaces: ["*"] },
    ].map((body) => create(body, ALL, invalidRequest)),
    createRaw('{"name":"fresh","__proto__":{"admin":true}}', ALL, invalidRequest),
    createRaw('{"name":"fresh","name":"Bad"}', ALL, invalidRequest),
    createRaw('{"name":"Bad","name":"fresh"}', ALL, invalidRequest),
    createRaw(`{"name":"fresh","pad":"${"x".repeat(70 * 1024)}"}`, ALL, tooLarge),
    createRaw(`{"name":"fresh"}${" ".repeat(70 * 1024)}`, ALL, tooLarge), // valid JSON, were it not too large
    createRaw(`{"name":"${"a".repeat(70 * 1024)}"}`, ALL, tooLarge),
    ...badNames.map((name) => create({ name }, ALL, invalidNamespace)),
    ...badNames.slice(0, 8).map((name) => create({ name }, M, invalidNamespace)), // the name is checked before who asks
    create({ name: "mine" }, ALL, conflict),
    create({ name: "vault" }, ALL, conflict),
    create({ name: "mine" }, A, conflict),
    create({ name: "mine" }, B, conflict),
    create({ name: "vault" }, A, permission),
    create({ name: "nowhere" }, A, permission),
    create({ name: "mine" }, M, permission),
    create({ name: "ghost" }, M, permission),
    create({ name: "nowhere" }, M, permission),
    create({ name: "mine" }, N, permission),
    create({ name: "nowhere" }, N, permission),
    ...garbage.map((opts) => ["POST", "/v1/namespaces", { ...opts, body: { name: "fresh" } }, unauthorized]),
  ];

  // GET /v1/namespaces?limit=&cursor=
  const names = [
    ...["limit=0", "limit=-1", "limit=101", "limit=1001", "limit=abc", "limit=1e2", "limit=1.5", "limit=", "limit=%00", "limit=99999999999999999999", "limit=0x10", "limit=0&limit=5"].map((q) =>
      get(A, `/v1/namespaces?${q}`, invalidRequest),
    ),
    ...[
      "",
      "%25%25%25",
      "A".repeat(5000),
      b64("A"),
      b64(".."),
      b64("../vault"),
      b64("vault\u0000"),
      b64("a".repeat(64)),
      `${b64("mine")}==`,
      enc(fx.mineCursor),
      "%FF",
      `${b64("mine")}.${b64("x")}`,
      b64("' OR 1=1 --"),
    ].map((c) => get(A, `/v1/namespaces?cursor=${c}`, invalidRequest)),
    ...garbage.map((opts) => ["GET", "/v1/namespaces", opts, unauthorized]),
  ];

  // DELETE /v1/namespaces/{ns}
  const deletes = [
    ...["", "MINE", "Mine", ".mine", "-mine", "_mine", "a".repeat(64), "%C3%A4", "*", "%2A", "mine%2F", "mine%2Fkeys", "mine%00", "%00", "mine%20", "%20mine", "mine%0A", "mine%2F..%2Fvault", "..%2Fvault", "vault%00", "%6Dine"].map(
      (ns) => del(ALL, `/v1/namespaces/${ns}`, invalidNamespace),
    ),
    del(ALL, "/v1/namespaces/%2e%2e", notFound), // normalised to /v1/ by the runtime
    ...[
      [A, "vault"],
      [A, "nowhere"],
      [M, "mine"],
      [M, "vault"],
      [M, "nowhere"],
      [N, "mine"],
      [N, "vault"],
      [N, "nowhere"],
    ].map(([token, ns]) => del(token, `/v1/namespaces/${ns}`, permission)),
    del(A, "/v1/namespaces/ghost", notFound),
    del(ALL, "/v1/namespaces/nowhere", notFound),
    del(ALL, "/v1/namespaces/mine.", notFound),
    del(B, "/v1/namespaces/vault", notFound), // org B has no vault: org A's is out of its reach
    del(B, "/v1/namespaces/ghost", notFound),
    ...["GET", "PUT", "POST", "PATCH"].map((m) => [m, "/v1/namespaces/mine", { token: A }, notAllowed]),
    ...["PUT", "PATCH", "DELETE"].map((m) => [m, "/v1/namespaces", { token: A }, notAllowed]),
    ...garbage.map((opts) => ["DELETE", "/v1/namespaces/mine", opts, unauthorized]),
  ];

  // PUT|GET|DELETE /v1/namespaces/{ns}/keys/{key}
  const invalidKeys = [
    "",
    "x".repeat(401),
    "%78".repeat(401),
    "%C3%A9".repeat(201),
    "%F0%9F%98%80".repeat(101),
    "%00",
    "k%00",
    "%00k",
    "%0A",
    "a%0Ab",
    "%0D",
    "%09",
    "%1F",
    "%1B%5B31m",
    "%7F",
    "%C2%80",
    "%C2%85",
    "%C2%9F",
    "%",
    "%2",
    "%zz",
    "k%",
    "%G0",
    "%%41",
    "%-1",
    "%+1",
    "%FF",
    "%C3",
    "%C3%28",
    "%ED%A0%80",
    "%F4%90%80%80",
    "%C0%AF",
    "%E0%80%AF",
    "%F8%88%80%80%80",
    "%80",
    "%BF",
    ".", // a dot segment: the runtime normalises it away, the key is empty
    "%2E",
    "%2e",
  ];
  // Valid keys `mine` lacks, many of them one decoding away from one it has.
  const literalKeys = [
    "a%252Fb",
    "a%252fb",
    "%256B",
    "item%252F1",
    "%252e%252e",
    "%252E",
    "%2500",
    "%250A",
    "%257F",
    "%25C2%2585",
    "%25FF",
    "%25zz",
    "%25",
    "%2525",
    "%25252e",
    "k+",
    "+k",
    "a+b",
    "%20k",
    "k%20",
    "K",
    "%E2%80%A8",
    "%EF%BB%BFk",
    "%E2%80%AEk",
    "..%2F..%2Fvault%2Fkeys%2Fk",
    "%2e%2e%2f%2e%2e%2fvault%2fkeys%2fk",
    "..%5C..%5Cvault%5Ckeys%5Ck",
    "x".repeat(400),
    "%C3%A9".repeat(200),
    enc(VAULT_KEY),
    enc(B_KEY),
    "item",
    "item%2F",
    "item%2F4",
    "%2Fk",
    "k%2F",
    "a%2F%2Fb",
    "a%2F.%2Fb",
    "%3Fk",
    "%23k",
    "k;x",
    "'%20OR%20'1'%3D'1",
  ];
  const values = [
    ...invalidKeys.flatMap((key) => [get(A, value("mine", key), invalidKey), putBytes(A, value("mine", key), small, invalidKey), del(A, value("mine", key), invalidKey)]),
    ...invalidKeys.slice(5, 12).map((key) => get(A, value("vault", key), invalidKey)), // the key is checked before who asks: nothing is learned
    ...literalKeys.map((key) => get(A, value("mine", key), notFound)),
    ...literalKeys.slice(0, 6).map((key) => get(M, value("mine", key), notFound)),
    ["GET", "/v1/namespaces/mine/keys/item/1", { token: A }, notFound], // a raw slash is no part of a key
    ["GET", "/v1/namespaces/mine/keys/k/", { token: A }, notFound],
    ["GET", "/v1/namespaces/mine%2Fkeys/k", { token: A }, notFound],
    get(A, value("a%2Fb", "k"), invalidNamespace),
    get(A, value("mine%00", "k"), invalidNamespace),
    get(A, value("%6Dine", "k"), invalidNamespace),
    get(A, value("MINE", "k"), invalidNamespace),
    get(A, value("", "k"), invalidNamespace),
    get(A, value("..%2Fvault", "k"), invalidNamespace),
    // Double-encoded keys are deleted as the literal names they are, never as the key one
    // more decoding would name (the KV state below shows a/b, k and item/1 survive).
    ...[
      ["a%252Fb", "a%2Fb"],
      ["%256B", "%6B"],
      ["item%252F1", "item%2F1"],
    ].map(([segment, key]) => del(A, value("mine", segment), deletedLiteral(key))),
    // Values over 1 MiB: refused, nothing stored, an existing value left as it was.
    putBytes(A, value("mine", "big"), overMiB, tooLarge),
    putBytes(A, value("mine", "k"), overMiB, tooLarge),
    putBytes(A, value("mine", "a%252Fb"), overMiB, tooLarge),
    putBytes(A, value("mine", "big"), Buffer.alloc(1.25 * MiB, 0x62), tooLarge),
    ["PUT", value("mine", "big"), { token: A, raw: overMiB, headers: json }, tooLarge],
    ["PUT", value("mine", "big"), { token: M, raw: overMiB }, tooLarge],
    putBytes(A, value("vault", "k"), overMiB, permission),
    putBytes(A, value("mine", "%00"), overMiB, invalidKey),
    putBytes(B, value("vault", "k"), overMiB, notFound),
    ["PUT", value("mine", "big"), { raw: overMiB }, unauthorized],
    // Wrong methods, on a namespace the key may use and on one it may not.
    ...["POST", "PATCH", "OPTIONS"].map((m) => [m, value("mine", "k"), { token: A, raw: small }, notAllowed]),
    ...["POST", "PATCH"].map((m) => [m, value("vault", "k"), { token: A, raw: small }, notAllowed]),
    ["POST", value("mine", "k"), { token: A, raw: small, headers: { "x-http-method-override": "PUT" } }, notAllowed],
    ["POST", value("mine", "k"), { token: A, headers: { "x-http-method-override": "DELETE" } }, notAllowed],
    // Credentials in the query are no credentials; a forged request id is not echoed.
    ...["access_token", "token", "api_key", "key"].map((q) => ["GET", `${value("mine", "k")}?${q}=${A}`, {}, unauthorized]),
    ["GET", value("vault", "k"), { token: A, headers: { "x-request-id": "req_forged" } }, permission],
    ...garbage.flatMap((opts) => [
      ["GET", value("mine", "k"), opts, unauthorized],
      ["PUT", value("mine", "k"), { ...opts, raw: small }, unauthorized],
      ["DELETE", value("mine", "k"), opts, unauthorized],
    ]),
  ];

  // 403 before 404: a namespace the key may not use is refused whether it exists or not.
  const forbidden = [
    [A, "vault"],
    [A, "nowhere"],
    [M, "vault"],
    [M, "nowhere"],
    [M, "ghost"],
    [N, "mine"],
    [N, "vault"],
    [N, "nowhere"],
  ].flatMap(([token, ns]) => [
    ...["k", enc(VAULT_KEY), "new-key"].flatMap((key) => [get(token, value(ns, key), permission), putBytes(token, value(ns, key), small, permission), del(token, value(ns, key), permission)]),
    get(token, list(ns), permission),
    get(token, list(ns, "prefix=k&limit=1"), permission),
    get(token, list(ns, `cursor=${enc(fx.vaultCursor)}`), permission),
  ]);
  // Another org's namespaces are out of reach by any name: org B's key reaches only org B's.
  const crossOrg = [
    get(B, value("vault", "k"), notFound),
    get(B, value("vault", enc(VAULT_KEY)), notFound),
    putBytes(B, value("vault", "k"), small, notFound),
    del(B, value("vault", "k"), notFound),
    get(B, list("vault"), notFound),
    get(B, value("mine", enc(VAULT_KEY)), notFound),
    get(A, value("mine", enc(B_KEY)), notFound),
    get(A, value("bonly", "k"), permission),
    get(ALL, value("bonly", "k"), notFound),
    get(ALL, list("bonly"), notFound),
  ];

  // GET /v1/namespaces/{ns}/keys?prefix=&cursor=&limit=
  const [body, mac] = fx.mineCursor.split(".");
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const flip = (s, i) => s.slice(0, i) + alphabet[alphabet.indexOf(s[i]) ^ 1] + s.slice(i + 1);
  const otherSecretMac = b64(createHmac("sha256", randomBytes(32)).update(Buffer.from(body, "base64url")).digest().subarray(0, 16));
  const forged = [
    "",
    ".",
    "..",
    body,
    `${body}.`,
    `.${mac}`,
    `${body}.${b64(Buffer.alloc(16))}`,
    `${body}.${mac.slice(0, -1)}`,
    `${body}.${mac}A`,
    `${flip(body, 0)}.${mac}`,
    `${flip(body, 5)}.${mac}`,
    `${body}.${flip(mac, 0)}`,
    `${body}.${flip(mac, mac.length - 2)}`,
    `${body}.${flip(mac, mac.length - 1)}`, // only the unused bits of the last character
    `${b64("not-a-kv-cursor")}.${mac}`,
    `${body}.${mac}.${mac}`,
    `${body}=.${mac}`,
    `${body.slice(0, -2)}.${mac}`,
    `${body}.${mac}`.toUpperCase(),
    `${mac}.${body}`,
    `${body}.${otherSecretMac}`,
    `${body}.${b64(Buffer.alloc(32))}`,
    `${body}.${mac}\u0000`,
    `${body}.${mac}\n`,
    `\uffff${body}.${mac}`,
    `${b64(Buffer.from([0xff, 0xfe]))}.${mac}`,
    `${body.replaceAll("-", "+").replaceAll("_", "/")}.${mac}`,
    "A".repeat(4097),
    "A".repeat(5000),
    b64("\u0000"),
    `${b64("' OR 1=1 --")}.${mac}`,
  ].filter((c) => c !== fx.mineCursor);
  const listings = [
    ...[
      "limit=0",
      "limit=1001",
      "limit=-1",
      "limit=1e3",
      "limit=abc",
      "limit=",
      "limit=1.5",
      "limit=%00",
      "limit=99999999999999999999",
      "limit=18446744073709551617",
      "limit=0x10",
      "limit=%201",
      "limit=1%20",
      "limit=0&limit=10",
      "limit=1001&limit=1",
    ].map((q) => get(A, list("mine", q), invalidRequest)),
    ...[
      "%00",
      "a%00",
      "%0A",
      "%0D",
      "%09",
      "%1B",
      "%7F",
      "%C2%85",
      "%C2%80",
      "x".repeat(401),
      "%C3%A9".repeat(201),
      "%F0%9F%98%80".repeat(101),
    ].map((p) => get(A, list("mine", `prefix=${p}`), invalidPrefix)),
    // The query is decoded strictly: a repeated parameter is refused, whatever it holds.
    get(A, list("mine", "prefix=%00&prefix=a"), invalidRequest),
    ...forged.map((c) => get(A, list("mine", `cursor=${enc(c)}`), invalidRequest)),
    get(A, list("mine", `cursor=${enc(fx.vaultCursor)}`), invalidRequest), // another namespace of the org
    get(A, list("mine", `limit=1&cursor=${enc(fx.vaultCursor)}`), invalidRequest),
    get(A, list("mine", `cursor=${enc(fx.bCursor)}`), invalidRequest), // org B's `mine`: the same name, another namespace
    get(A, list("mine", `cursor=${enc(fx.nameCursor)}`), invalidRequest), // a namespace-listing cursor
    get(ALL, list("vault", `cursor=${enc(fx.mineCursor)}`), invalidRequest),
    get(B, list("mine", `cursor=${enc(fx.mineCursor)}`), invalidRequest), // org A's cursor in org B's `mine`
    get(B, list("bonly", `cursor=${enc(fx.bCursor)}`), invalidRequest),
    get(A, list("ghost", `cursor=${enc(fx.mineCursor)}`), notFound),
    get(A, list("vault", `cursor=${enc(fx.mineCursor)}`), permission),
    get(A, list("vault", "limit=0"), invalidRequest), // the query is checked before who asks: nothing is learned
    get(A, list("vault", "prefix=%00"), invalidPrefix),
    // Odd or refused: a 400 (bad encoding, a repeated parameter) or `mine`'s own keys.
    ...[
      "prefix=..%2F",
      "prefix=..%2F..%2F",
      `prefix=${enc("../vault/")}`,
      "prefix=%FF",
      "prefix=%zz",
      "prefix=+",
      "prefix=%2e%2e%2f",
      `prefix=${"x".repeat(400)}`,
      "limit=10&limit=0",
      "limit=1&limit=1001",
      "prefix=item&prefix=%00",
      `cursor=${enc(fx.mineCursor)}&cursor=garbage`,
      `cursor=${enc(fx.itemCursor)}&prefix=zzz`,
      `cursor=${enc(fx.itemCursor)}`,
    ].map((q) => get(A, list("mine", q), refusedOrOwn)),
    ...[`cursor=${b64("a")}`, `cursor=${b64("mine")}`, `cursor=${b64("vault")}`, "limit=100"].map((q) => get(A, `/v1/namespaces?${q}`, refusedOrOwn)),
    ...["PUT", "POST", "PATCH", "DELETE"].map((m) => [m, list("mine"), { token: A, raw: small }, notAllowed]),
    ...garbage.map((opts) => ["GET", list("mine"), opts, unauthorized]),
  ];

  return [...creates, ...names, ...deletes, ...values, ...forbidden, ...crossOrg, ...listings, ...rawCases()];
}

/**
 * Requests Node's http will not send, over a raw socket: dot segments (plain, encoded,
 * with backslashes) that the runtime normalises before routing, NUL and other bare bytes
 * in the path, and chunked uploads without Content-Length.
 */
function rawCases() {
  const A = fx.attacker;
  const host = `Host: ${new URL(server.origin).host}\r\nConnection: close\r\n`;
  /** `body` goes with a Content-Length, `chunks` (already chunked) without. */
  const request = (method, target, { token = A, headers = "", body, chunks = "", hostLine = host } = {}) => ({
    raw: `${method} ${target} HTTP/1.1\r\n${hostLine}${token ? `Authorization: Bearer ${token}\r\n` : ""}${headers}${body === undefined ? "" : `Content-Length: ${Buffer.byteLength(body, "latin1")}\r\n`}\r\n${body ?? chunks}`,
  });
  /** `path` is what the label shows (bare bytes escaped); the family is the /v1 one. */
  const raw = (method, target, expect, opts) => [method, target.replace(/[^\x21-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`), request(method, target, opts), expect];
  const chunk = "y".repeat(64 * 1024);
  const chunked = (count) => `${Array.from({ length: count }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join("")}0\r\n\r\n`;
  const chunkedHeaders = "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n";
  return [
    // Dot segments, normalised by the runtime: to another namespace (403), or inside `mine`.
    raw("GET", "/v1/namespaces/mine/keys/../../vault/keys/k", permission),
    raw("GET", "/v1/namespaces/mine/keys/%2e%2e/%2e%2e/vault/keys/k", permission),
    raw("GET", "/v1/namespaces/mine/keys/%2E%2E/%2E%2E/vault/keys/k", permission),
    raw("GET", "/v1/namespaces/mine/keys/.%2e/%2e./vault/keys/k", permission),
    raw("GET", "/v1/namespaces/mine/keys/..\\..\\vault\\keys\\k", permission),
    raw("GET", "/v1/namespaces/mine/%2e%2e/vault/keys/k", permission),
    raw("GET", "/v1/namespaces/%2e%2e/namespaces/vault/keys/k", permission),
    raw("GET", "/v1/%2e%2e/v1/namespaces/vault/keys/k", permission),
    raw("GET", "/v1/namespaces/mine/keys/../../../../v1/namespaces/vault/keys/k", permission),
    raw("GET", "/v1/namespaces/mine/keys/../../vault/keys", permission),
    raw("GET", "/v1/namespaces/mine/keys/%2e%2e/%2e%2e/vault/keys?prefix=", permission),
    raw("GET", "/v1/namespaces/mine/keys/..%2F..%2Fvault%2Fkeys%2Fk", notFound),
    raw("GET", "/v1/namespaces/mine/keys/%2e%2e%2f%2e%2e%2fvault%2fkeys%2fk", notFound),
    raw("GET", "/v1/namespaces/mine/keys/..%5C..%5Cvault%5Ckeys%5Ck", notFound),
    raw("GET", "/v1/namespaces/mine/keys/%2e%2e", notFound),
    raw("GET", "/v1/namespaces/mine/keys/..", notFound),
    raw("GET", "/v1/namespaces/mine/keys/.", invalidKey),
    raw("GET", "/v1/namespaces/mine/keys/a/../k", refusedOrOwn),
    raw("GET", "/v1/namespaces/mine/keys/./k", refusedOrOwn),
    raw("GET", "/v1/namespaces/mine/keys/%2e/k", refusedOrOwn),
    raw("GET", "/v1/namespaces/mine/keys/x/%2e%2e/k", refusedOrOwn),
    raw("GET", "//v1/namespaces/vault/keys/k", refusedOrOwn),
    raw("GET", "//v1/namespaces/mine/keys/k", refusedOrOwn),
    raw("GET", "/v1/namespaces/mine/keys/%2e%2e/%2e%2e/%2e%2e/%2e%2e/admin/bootstrap", refusedOrOwn),
    raw("GET", "/v1/namespaces/vault?/keys/k", notAllowed),
    raw("GET", "/v1/namespaces/mine/keys/k#/../../vault/keys/k", refusedOrOwn),
    raw("GET", "/v1/namespaces/vault/keys/k", permission, { hostLine: "Host: evil.example\r\nConnection: close\r\n" }),
    // Bare bytes: NUL (refused by the runtime), invalid UTF-8, tabs, non-ASCII names.
    raw("GET", "/v1/namespaces/mine/keys/k\x00", fromRuntime(400)),
    raw("GET", "/v1/namespaces/mine/keys/\x00", fromRuntime(400)),
    raw("GET", "/v1/namespaces/mine\x00/keys/k", fromRuntime(400)),
    raw("GET", "/v1/namespaces/vault\x00/keys/k", fromRuntime(400)),
    raw("DELETE", "/v1/namespaces/mine\x00", fromRuntime(400)),
    raw("GET", "/v1/namespaces/mine/keys/%00", invalidKey),
    raw("GET", "/v1/namespaces/mine/keys/\xff\xfe", refusedOrOwn),
    raw("GET", "/v1/namespaces/mine/keys/\xc3\x28", refusedOrOwn),
    raw("GET", "/v1/namespaces/vault/keys/\xff", permission),
    raw("GET", "/v1/namespaces/m\xc3\xa4ne/keys/k", invalidNamespace),
    raw("GET", "/v1/namespaces/mine/keys/a\tb", refusedOrOwn),
    // Writes and deletes whose paths normalise elsewhere: never outside `mine`, and never
    // onto `mine` itself (DELETE /v1/namespaces/mine/keys/.. is /v1/namespaces/mine/).
    raw("DELETE", "/v1/namespaces/mine/keys/../../vault", permission),
    raw("DELETE", "/v1/namespaces/mine/keys/%2e%2e/%2e%2e/vault", permission),
    raw("DELETE", "/v1/namespaces/mine/keys/%2e%2e/%2e%2e/vault/keys/k", permission),
    raw("DELETE", "/v1/namespaces/mine/keys/..", notFound),
    raw("DELETE", "/v1/namespaces/mine/keys/%2e%2e/%2e%2e", invalidNamespace),
    raw("DELETE", "/v1/namespaces/mine/keys/absent/../absent-too", refusedOrOwn),
    raw("PUT", "/v1/namespaces/mine/keys/../../vault/keys/k", permission, { body: "overwrite" }),
    raw("PUT", "/v1/namespaces/mine/keys/%2e%2e/%2e%2e/vault/keys/k", permission, { body: "overwrite" }),
    raw("PUT", "/v1/namespaces/mine/keys/..\\..\\vault\\keys\\k", permission, { body: "overwrite" }),
    raw("PUT", "/v1/namespaces/mine/keys/%2e%2e", notFound, { body: "overwrite" }),
    // Chunked uploads (no Content-Length) over 1 MiB: 413, nothing stored, nothing changed.
    raw("PUT", "/v1/namespaces/mine/keys/chunky", tooLarge, { headers: chunkedHeaders, chunks: chunked(17) }),
    raw("PUT", "/v1/namespaces/mine/keys/k", tooLarge, { headers: chunkedHeaders, chunks: chunked(17) }),
    raw("PUT", "/v1/namespaces/mine/keys/%2500", tooLarge, { headers: chunkedHeaders, chunks: chunked(17) }),
    raw("PUT", "/v1/namespaces/vault/keys/k", permission, { headers: chunkedHeaders, chunks: chunked(1) }),
    raw("PUT", "/v1/namespaces/mine/keys/%00", invalidKey, { headers: chunkedHeaders, chunks: chunked(1) }),
  ];
}

/** 2xx controls, run inside the snapshot: what the keys may see, they see, and only that. */
function controlCases() {
  const A = fx.attacker;
  const list = (ns, query) => `/v1/namespaces/${ns}/keys${query === undefined ? "" : `?${query}`}`;
  const value = (ns, key) => `/v1/namespaces/${ns}/keys/${key}`;
  const names = (want) => (r) => {
    const got = r.body?.data?.map((n) => n.name);
    return JSON.stringify(got) === JSON.stringify(want) ? [] : [`names ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`];
  };
  const keysAre = (want) => (r) => {
    const got = r.body?.data?.map((k) => k.key);
    return JSON.stringify(got) === JSON.stringify(want) ? [] : [`keys ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`];
  };
  const bodyIs = (want) => (r) => (r.text === want ? [] : [`body ${JSON.stringify(r.text.slice(0, 80))}, expected ${JSON.stringify(want)}`]);
  return [
    ["GET", "/v1/namespaces", { token: A }, 200, names(["mine"])],
    ["GET", `/v1/namespaces?cursor=${b64("a")}`, { token: A }, 200, names(["mine"])],
    ["GET", `/v1/namespaces?cursor=${b64("mine")}`, { token: A }, 200, names([])],
    ["GET", "/v1/namespaces", { token: fx.member }, 200, names(["mine"])],
    ["GET", "/v1/namespaces", { token: fx.none }, 200, names([])],
    ["GET", "/v1/namespaces", { token: fx.b.key }, 200, names(["bonly", "mine"])],
    ["GET", "/v1/namespaces", { token: fx.all }, 200, names(["mine", "vault"])],
    ["GET", list("mine", "limit=1000"), { token: A }, 200, keysAre(OWN_KEYS)],
    ["GET", list("mine", `cursor=${enc(fx.mineCursor)}`), { token: A }, 200, keysAre(OWN_KEYS.slice(1))],
    ["GET", list("mine", "prefix=..%2F"), { token: A }, 200, keysAre(["../vault/keys/k"])],
    ["GET", value("mine", "k"), { token: A }, 200, bodyIs(OWN.k)], // not org B's mine/k
    ["GET", value("mine", "k"), { token: fx.member }, 200, bodyIs(OWN.k)],
    ["GET", value("mine", "a%2Fb"), { token: A }, 200, bodyIs(OWN["a/b"])],
    ["GET", value("mine", "a%2fb"), { token: A }, 200, bodyIs(OWN["a/b"])],
    ["GET", value("mine", "%252e"), { token: A }, 200, bodyIs(OWN["%2e"])], // decoded once: the key `%2e`
    ["GET", value("mine", "..%2Fvault%2Fkeys%2Fk"), { token: A }, 200, bodyIs(OWN["../vault/keys/k"])],
    ["GET", value("mine", "item%2F1"), { token: A }, 200, bodyIs(OWN["item/1"])],
    ["GET", value("mine", "k"), { token: fx.b.key }, 200, bodyIs(CANARY_B)], // org B's own
    ["GET", value("vault", "k"), { token: fx.all }, 200, bodyIs(CANARY_A)], // the canary is where it should be
  ];
}

test("hostile requests at every namespace endpoint: all 4xx in the /v1 shape (or inside the caller's own namespace), none 5xx, no canary, nothing written", async () => {
  const cases = hostileCases();
  assert.ok(cases.length >= 300, `${cases.length} cases`);
  const foreignIds = [fx.b.org, fx.b.entity, fx.b.keyId, ...fx.namespaceIds];
  const secrets = [CANARY_A, CANARY_B, VAULT_KEY, B_KEY, fx.all, fx.b.key, fx.owner.plain_key, server.vars.ADMIN_TOKEN, server.vars.HASH_SECRET];
  const controls = controlCases();
  const started = Date.now();
  const { failures, fivexx, stateBefore, stateAfter } = await runBarrage({
    server,
    cases,
    controls,
    label: "namespaces-hostile",
    foreignIds,
    secrets,
    families: ["v1"],
    state: kvState,
  });
  sent += cases.length + controls.length;
  console.log(`# namespaces-hostile: barrage ${Date.now() - started} ms`);
  assert.deepEqual(failures, []);
  assert.equal(fivexx, 0);
  assert.deepEqual(stateAfter, stateBefore, "KV: every namespace's keys and values as they were");
  assert.deepEqual(stateAfter["org A mine"].map(([key]) => key), OWN_KEYS);
});

// A server finding: the router takes the method from workers-rs's `Method`, which maps
// every method it does not know to GET. So PURGE, PROPFIND, COPY, MOVE, SEARCH, LOCK, … on
// a value, a listing or /v1/namespaces are served as GETs (200 with the value) where 405
// is the answer for every method a route does not take. Permissions still hold (the same
// on `vault` is 403), so nothing leaks; the status is wrong.
test("methods the router does not know are 405, not served as GET", async () => {
  const methods = ["PURGE", "PROPFIND", "PROPPATCH", "COPY", "MOVE", "SEARCH", "LOCK", "UNLOCK", "MKCOL", "NOTIFY"];
  const paths = ["/v1/namespaces/mine/keys/k", "/v1/namespaces/mine/keys", "/v1/namespaces"];
  const failures = [];
  for (const method of methods) {
    for (const path of paths) {
      const r = await call(server.origin, method, path, { token: fx.attacker });
      sent += 1;
      if (r.status !== 405 || r.body?.error?.code !== "method_not_allowed") failures.push(`${method} ${path} → ${r.status} ${r.text.slice(0, 80)}`);
    }
    const vault = await call(server.origin, method, "/v1/namespaces/vault/keys/k", { token: fx.attacker });
    sent += 1;
    assert.ok([403, 405].includes(vault.status), `${method} vault → ${vault.status}`);
    assert.ok(!vault.text.includes(CANARY_A), `${method} vault leaked the canary`);
  }
  assert.deepEqual(failures, []);
});

// A server finding: serde's derived `Deserialize` takes a JSON array for a struct, its
// elements as the fields in order, so `POST /v1/namespaces ["name"]` is read as
// `{"name": "name"}` and creates the namespace (201). The body is documented as `{name}`;
// an array is a wrong type, 400 like `"name"` or `[]`. (Every JSON body decoded into a
// struct has the same gap: an array with one element per field is accepted.)
test("a JSON array is not the {name} object: POST /v1/namespaces [\"name\"] is 400 and creates nothing", async () => {
  const before = server.sql("SELECT name FROM namespaces ORDER BY id").map((r) => r.name);
  const r = await call(server.origin, "POST", "/v1/namespaces", { token: fx.all, raw: '["array-body"]', headers: { "content-type": "application/json" } });
  sent += 1;
  if (r.status < 300) await call(server.origin, "DELETE", "/v1/namespaces/array-body", { token: fx.all }); // leave the state as it was for the tests below
  if (r.status < 300) sent += 1;
  assert.equal(r.status, 400, r.text);
  assert.equal(r.body.error.code, "invalid_request");
  assert.deepEqual(server.sql("SELECT name FROM namespaces ORDER BY id").map((n) => n.name), before);
});

test("after the barrage the fixtures still work: the refusals were for the reasons given", async () => {
  const A = fx.attacker;
  await ok(200, "PUT", "/v1/namespaces/mine/keys/after", { token: A, raw: Buffer.from("after") });
  assert.equal((await valueBytes(A, "mine", "after")).toString(), "after");
  await ok(200, "DELETE", "/v1/namespaces/mine/keys/after", { token: A });
  // `ghost` was 404 to the attacker because it did not exist, not because it was refused.
  await ok(201, "POST", "/v1/namespaces", { token: A, body: { name: "ghost" } });
  await ok(200, "DELETE", "/v1/namespaces/ghost", { token: A });
  assert.equal((await valueBytes(fx.member, "mine", "k")).toString(), OWN.k);
  assert.equal((await valueBytes(fx.b.key, "mine", "k")).toString(), CANARY_B);
  assert.equal((await valueBytes(fx.all, "vault", "k")).toString(), CANARY_A);
  for (const token of [fx.revoked, fx.expired]) await ok(401, "GET", "/v1/whoami", { token });
  const page = await ok(200, "GET", `/v1/namespaces/mine/keys?cursor=${enc(fx.mineCursor)}`, { token: A });
  assert.deepEqual(page.data.map((k) => k.key), OWN_KEYS.slice(1));
});

// Runtime findings, kept as `todo` (reported, not failing the run): what `wrangler dev`
// does before the worker runs, or between the client and the worker. Sent straight to the
// worker's own socket (bypassing wrangler's ProxyWorker), the same bodies are refused by
// Keyward as they should be (400 "unreadable request body", 413); absolute-form targets
// fail in workerd's URL parsing (kj/compat/url.c++ "invalid URL") before any worker runs,
// /health included. Remove `todo` to make them fail the run.
test("absolute-form request targets are answered with a 4xx, never another namespace's value", { todo: "wrangler dev's workerd answers 500 before the worker runs" }, async () => {
  const { host } = new URL(server.origin);
  const headers = `Host: ${host}\r\nConnection: close\r\nAuthorization: Bearer ${fx.attacker}\r\n`;
  const failures = [];
  for (const target of [`http://${host}/v1/namespaces/vault/keys/k`, `http://${host}/v1/namespaces/mine/keys/k`, "http://evil.example/v1/namespaces/vault/keys/k", `http://${host}/v1/namespaces/mine/keys/../../vault/keys/k`, "*"]) {
    const r = await rawCall(server.origin, `GET ${target} HTTP/1.1\r\n${headers}\r\n`);
    sent += 1;
    if (r.status >= 500 || r.status < 400) failures.push(`GET ${target} → ${r.status} ${r.text.slice(0, 80)}`);
    if (r.text.includes(CANARY_A) || r.text.includes(CANARY_B)) failures.push(`GET ${target} leaked a canary`);
  }
  assert.deepEqual(failures, []);
});

test("bodies cut short, malformed or left unread are refused and write nothing", { todo: "wrangler dev's ProxyWorker: a truncated or malformed chunked body reaches the worker as a complete one (200, stored); an unread rest is a 503" }, async () => {
  const A = fx.attacker;
  const head = (target, headers) => `PUT ${target} HTTP/1.1\r\nHost: ${new URL(server.origin).host}\r\nConnection: close\r\nAuthorization: Bearer ${A}\r\n${headers}\r\n`;
  const failures = [];
  const check = async (label, request, want, key) => {
    try {
      const r = typeof request === "string" ? await rawCall(server.origin, request) : await request();
      sent += 1;
      if (r.status !== want) failures.push(`${label} → ${r.status}, expected ${want}: ${r.text.slice(0, 120)}`);
      if (key) {
        const stored = await call(server.origin, "GET", `/v1/namespaces/mine/keys/${key}`, { token: fx.all, timeoutMs: 10_000 });
        sent += 1;
        if (stored.status !== 404) failures.push(`${label}: then GET ${key} → ${stored.status} ${JSON.stringify(stored.text.slice(0, 40))}`);
      }
    } catch (error) {
      failures.push(`${label}: ${error.message}`);
    }
  };
  await check("Content-Length 100, 50 bytes sent, then EOF", head("/v1/namespaces/mine/keys/cut-short", "Content-Length: 100\r\n") + "z".repeat(50), 400, "cut-short");
  await check("chunked, no last chunk, then EOF", head("/v1/namespaces/mine/keys/no-last-chunk", "Transfer-Encoding: chunked\r\n") + "5\r\nhello\r\n", 400, "no-last-chunk");
  await check("chunked, chunk size zz", head("/v1/namespaces/mine/keys/bad-chunk", "Transfer-Encoding: chunked\r\n") + "zz\r\nhello\r\n0\r\n\r\n", 400, "bad-chunk");
  // Leave `mine` as the barrage found it for any later reader.
  for (const key of ["cut-short", "no-last-chunk", "bad-chunk"]) await call(server.origin, "DELETE", `/v1/namespaces/mine/keys/${key}`, { token: fx.all, timeoutMs: 10_000 }).catch(() => {});
  sent += 3;
  // Bodies the worker stops reading (past 2 MiB, or past 1 MiB of a refused request's
  // drain). These go last: after the proxy's 503, a GET may get no answer at all.
  for (let i = 0; i < 2; i++) await check(`3 MiB value (${i + 1})`, () => call(server.origin, "PUT", "/v1/namespaces/mine/keys/three-mib", { token: A, raw: Buffer.alloc(3 * MiB, 0x63), timeoutMs: 10_000 }), 413);
  await check("1.5 MiB to a namespace the key may not use", () => call(server.origin, "PUT", "/v1/namespaces/vault/keys/k", { token: A, raw: Buffer.alloc(1.5 * MiB, 0x63), timeoutMs: 10_000 }), 403);
  assert.deepEqual(failures, []);
});
