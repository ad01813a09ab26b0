// Namespaces (issue 11) against a real `wrangler dev` with its KV: the Primatomic seed's
// examples (a granted namespace works, another fails with "permission", a bad token with
// "authentication"), isolation between orgs and between `a` and `ab`, path tricks,
// the 1 MiB limit, a binary round trip, pagination, 403 before 404, a key's namespaces
// changed by PATCH on the next request, deletion, and who may create, delete and grant.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { call, client, rawExchange, seedOrg, useKeyward } from "./helpers.mjs";
import { oauthKit } from "./oauth-helpers.mjs";

const PAGE = "http://127.0.0.1:5173";
const fx = useKeyward({ prefix: "ptmc", vars: { CORS_ALLOWED_ORIGINS: `https://app.example, ${PAGE}` } });
const origin = () => fx.server.origin;
const owner = () => client(origin(), fx.owner.plain_key);

/** Raw bytes to and from a namespace value. */
const putValue = (token, ns, key, bytes) =>
  call(origin(), "PUT", `/v1/namespaces/${ns}/keys/${encodeURIComponent(key)}`, { token, raw: bytes, headers: { "content-type": "application/octet-stream" } });
async function getValue(token, ns, key) {
  const r = await fetch(`${origin()}/v1/namespaces/${ns}/keys/${encodeURIComponent(key)}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: r.status, type: r.headers.get("content-type"), bytes: Buffer.from(await r.arrayBuffer()) };
}
const createNs = async (name, token = fx.owner.plain_key) => call(origin(), "POST", "/v1/namespaces", { token, body: { name } });
const mintKey = async (namespaces, token = fx.owner.plain_key, extra = {}) =>
  (await call(origin(), "POST", "/v1/keys", { token, body: { name: `k-${namespaces.join("-") || "none"}`, namespaces, ...extra } })).body.data;
let made = false;
async function namespaces() {
  if (!made) {
    for (const name of ["myapp", "other", "a", "ab", "pages"]) assert.equal((await createNs(name)).status, 201, name);
    made = true;
  }
}

test("the Primatomic seed: putKey on a granted namespace works, another is a permission error, a bad token an authentication error", async () => {
  await namespaces();
  const key = await mintKey(["myapp"]);
  const put = await putValue(key.plain_key, "myapp", "mykey", Buffer.from("myvalue"));
  assert.equal(put.status, 200);
  assert.deepEqual(put.body.data, { namespace: "myapp", key: "mykey", size: 7 });
  const got = await getValue(key.plain_key, "myapp", "mykey");
  assert.equal(got.bytes.toString(), "myvalue");
  assert.equal(got.type, "application/octet-stream");

  const denied = await putValue(key.plain_key, "other", "mykey", Buffer.from("x"));
  assert.equal(denied.status, 403);
  assert.equal(denied.body.error.code, "forbidden");
  assert.match(denied.body.error.message, /permission/);
  const bad = await putValue("ptmc_" + "A".repeat(43), "myapp", "mykey", Buffer.from("x"));
  assert.equal(bad.status, 401);
  assert.match(bad.body.error.message, /authentication/);
  assert.equal((await getValue(fx.owner.plain_key, "other", "mykey")).status, 404, "the refused write wrote nothing");
  const me = await call(origin(), "GET", "/v1/whoami", { token: key.plain_key });
  assert.deepEqual(me.body.data.namespaces, ["myapp"]);
});

test("orgs and namespaces are apart: another org's namespace of the same name, `a` vs `ab`, path tricks", async () => {
  await namespaces();
  const b = seedOrg(fx.server, { name: "orgb", namespaces: ["*"] });
  assert.equal((await createNs("a", b.key)).status, 201, "the same name in another org");
  await putValue(fx.owner.plain_key, "a", "k", Buffer.from("org A's a"));
  await putValue(fx.owner.plain_key, "ab", "k", Buffer.from("org A's ab"));
  await putValue(b.key, "a", "k", Buffer.from("org B's a"));
  assert.equal((await getValue(b.key, "a", "k")).bytes.toString(), "org B's a");
  assert.equal((await getValue(fx.owner.plain_key, "a", "k")).bytes.toString(), "org A's a");
  assert.equal((await getValue(b.key, "ab", "k")).status, 404, "org B has no ab");
  const listA = await owner().get("/v1/namespaces/a/keys");
  assert.deepEqual(listA.body.data, [{ key: "k" }], "a's listing never shows ab's keys");
  const listB = await call(origin(), "GET", "/v1/namespaces/a/keys", { token: b.key });
  assert.deepEqual(listB.body.data, [{ key: "k" }]);

  // Keys that look like paths are just names inside their own namespace.
  const onlyA = await mintKey(["a"]);
  for (const trick of ["../ab/keys/k", "..%2Fab%2Fkeys%2Fk", "%2e%2e", "..", "/k", "k/"]) {
    const r = await getValue(onlyA.plain_key, "a", trick);
    assert.equal(r.status, 404, trick);
  }
  assert.equal((await putValue(onlyA.plain_key, "a", "../ab/keys/k", Buffer.from("inside a"))).status, 200);
  assert.equal((await getValue(fx.owner.plain_key, "ab", "k")).bytes.toString(), "org A's ab", "ab is untouched");
  assert.equal((await getValue(onlyA.plain_key, "a", "../ab/keys/k")).bytes.toString(), "inside a");
  // Paths the client does not normalise: whatever the server makes of them, never ab's value.
  for (const path of ["/v1/namespaces/a/keys/%2e%2e/%2e%2e/ab/keys/k", "/v1/namespaces/a/keys/../../ab/keys/k", "/v1/namespaces/a%2Fkeys/k", "/v1/namespaces/a/keys/k%00", "/v1/namespaces/a%00/keys/k", "/v1/namespaces/A/keys/k"]) {
    const raw = await rawExchange(origin(), `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${onlyA.plain_key}\r\nConnection: close\r\n\r\n`);
    const status = Number(raw.split(" ")[1]);
    assert.ok([400, 403, 404].includes(status), `${path}: ${status}`);
    assert.ok(!raw.includes("org A's ab"), path);
  }
  const nul = await getValue(onlyA.plain_key, "a", "k\0");
  assert.equal(nul.status, 400);
});

test("values are raw bytes up to 1 MiB; one byte more is 413 and writes nothing", async () => {
  await namespaces();
  const bytes = randomBytes(4096);
  bytes[0] = 0;
  bytes[1] = 0xff;
  assert.equal((await putValue(fx.owner.plain_key, "myapp", "bin", bytes)).status, 200);
  assert.ok((await getValue(fx.owner.plain_key, "myapp", "bin")).bytes.equals(bytes), "binary round trip");
  const mib = randomBytes(1 << 20);
  assert.equal((await putValue(fx.owner.plain_key, "myapp", "big", mib)).status, 200);
  assert.ok((await getValue(fx.owner.plain_key, "myapp", "big")).bytes.equals(mib), "1 MiB round trip");
  const over = await putValue(fx.owner.plain_key, "myapp", "bigger", Buffer.alloc((1 << 20) + 1));
  assert.equal(over.status, 413);
  assert.equal(over.body.error.code, "payload_too_large");
  assert.equal((await getValue(fx.owner.plain_key, "myapp", "bigger")).status, 404);
  assert.equal((await putValue(fx.owner.plain_key, "myapp", "empty", Buffer.alloc(0))).status, 200, "an empty value is a value");
  assert.equal((await getValue(fx.owner.plain_key, "myapp", "empty")).bytes.length, 0);
  assert.equal((await call(origin(), "DELETE", "/v1/namespaces/myapp/keys/empty", { token: fx.owner.plain_key })).status, 200);
  assert.equal((await getValue(fx.owner.plain_key, "myapp", "empty")).status, 404);
  assert.equal((await call(origin(), "DELETE", "/v1/namespaces/myapp/keys/empty", { token: fx.owner.plain_key })).status, 200, "idempotent");
});

test("listing pages through every key once, with a prefix", async () => {
  await namespaces();
  const names = Array.from({ length: 25 }, (_, i) => `item/${String(i).padStart(2, "0")}`);
  for (const n of names) await putValue(fx.owner.plain_key, "pages", n, Buffer.from(n));
  await putValue(fx.owner.plain_key, "pages", "zzz", Buffer.from("not an item"));
  const seen = [];
  let cursor;
  let pages = 0;
  do {
    const q = new URLSearchParams({ prefix: "item/", limit: "10", ...(cursor ? { cursor } : {}) });
    const r = await owner().get(`/v1/namespaces/pages/keys?${q}`);
    assert.equal(r.status, 200);
    assert.ok(r.body.data.length <= 10);
    seen.push(...r.body.data.map((k) => k.key));
    cursor = r.body.next_cursor;
    pages++;
  } while (cursor);
  assert.deepEqual(seen, names, "each key once, in order");
  assert.ok(pages >= 3, `${pages} pages`);
  for (const bad of ["limit=0", "limit=1001", "cursor=%%%", "cursor=bm90LWEtY3Vyc29y", "prefix=%00"]) {
    const r = await owner().get(`/v1/namespaces/pages/keys?${bad}`);
    assert.equal(r.status, 400, bad);
  }
});

test("403 before 404: a namespace the key may not use is refused whether or not it exists", async () => {
  await namespaces();
  const key = await mintKey(["myapp", "ghost"]);
  assert.equal((await getValue(key.plain_key, "nowhere", "k")).status, 403, "not granted, absent");
  assert.equal((await getValue(key.plain_key, "other", "k")).status, 403, "not granted, present");
  assert.equal((await getValue(key.plain_key, "ghost", "k")).status, 404, "granted, absent");
  assert.equal((await getValue(key.plain_key, "myapp", "no-such-key")).status, 404, "granted, no value");
  const noKey = await call(origin(), "GET", "/v1/namespaces/myapp/keys/no-such-key", { token: key.plain_key });
  assert.equal(noKey.body.error.message, "no such key in this namespace");
  const noNamespace = await call(origin(), "GET", "/v1/namespaces/ghost/keys/k", { token: key.plain_key });
  assert.equal(noNamespace.body.error.message, "no such namespace", "the two 404s say which");
  assert.equal((await getValue(fx.owner.plain_key, "nowhere", "k")).status, 404, "all namespaces, absent");
  const listed = await call(origin(), "GET", "/v1/namespaces", { token: key.plain_key });
  assert.deepEqual(listed.body.data.map((n) => n.name), ["myapp"], "a key lists the granted namespaces that exist");
  const all = await owner().get("/v1/namespaces?limit=2");
  assert.equal(all.body.data.length, 2);
  assert.ok(all.body.next_cursor);
  const rest = await owner().get(`/v1/namespaces?cursor=${all.body.next_cursor}`);
  assert.ok(!rest.body.data.some((n) => all.body.data.some((m) => m.name === n.name)), "pages do not overlap");
});

test("a key's namespaces changed by PATCH apply on the next request", async () => {
  await namespaces();
  const key = await mintKey(["a"]);
  assert.equal((await putValue(key.plain_key, "ab", "p", Buffer.from("1"))).status, 403);
  assert.equal((await owner().patch(`/v1/keys/${key.id}`, { namespaces: ["a", "ab"] })).status, 200);
  assert.equal((await putValue(key.plain_key, "ab", "p", Buffer.from("1"))).status, 200);
  assert.equal((await owner().patch(`/v1/keys/${key.id}`, { namespaces: ["a"] })).status, 200);
  assert.equal((await putValue(key.plain_key, "ab", "p", Buffer.from("2"))).status, 403);
  assert.equal((await getValue(fx.owner.plain_key, "ab", "p")).bytes.toString(), "1");
});

test("who may: owners and admins create and delete, members may not; only they grant \"*\"; no key mints a wider key", async () => {
  await namespaces();
  const member = seedOrg(fx.server, { name: "membersorg", role: "member", namespaces: ["x"] });
  const memberNs = await createNs("x", member.key);
  assert.equal(memberNs.status, 403);
  assert.match(memberNs.body.error.message, /permission/);
  const star = await call(origin(), "POST", "/v1/keys", { token: member.key, body: { name: "all", namespaces: ["*"] } });
  assert.equal(star.status, 403);
  assert.match(star.body.error.message, /permission/);
  const narrow = await mintKey(["a"]);
  const wider = await call(origin(), "POST", "/v1/keys", { token: narrow.plain_key, body: { name: "wider", namespaces: ["a", "ab"] } });
  assert.equal(wider.status, 403, "a key cannot mint a key reaching more than itself");
  const same = await call(origin(), "POST", "/v1/keys", { token: narrow.plain_key, body: { name: "same", namespaces: ["a"] } });
  assert.equal(same.status, 201);
  assert.equal((await createNs("a")).status, 409, "the name is taken");
  assert.equal((await createNs("Bad Name")).status, 400);
  assert.equal((await createNs("ab", narrow.plain_key)).status, 403, "an owner's key without ab");

  assert.equal((await createNs("tmp")).status, 201);
  await putValue(fx.owner.plain_key, "tmp", "k", Buffer.from("old"));
  const deleted = await owner().del("/v1/namespaces/tmp");
  assert.equal(deleted.status, 200);
  assert.equal((await getValue(fx.owner.plain_key, "tmp", "k")).status, 404, "gone with the namespace");
  assert.equal((await createNs("tmp")).status, 201, "the name may be used again");
  assert.equal((await getValue(fx.owner.plain_key, "tmp", "k")).status, 404, "and starts empty");
  assert.deepEqual((await owner().get("/v1/namespaces/tmp/keys")).body.data, []);
  // The audit log is written after the answer: wait for the entry.
  let logged = false;
  for (let i = 0; i < 50 && !logged; i++) {
    const audit = await owner().get("/v1/audit?event=namespace.deleted");
    logged = audit.body.data.some((e) => e.detail?.name === "tmp");
    if (!logged) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(logged, "namespace.deleted is audited");
});

test("sessions and OAuth grants reach every namespace of their org", async () => {
  await namespaces();
  const kit = oauthKit(fx);
  await kit.ready();
  const acme = (await owner().get("/v1/whoami")).body.data.org_id;
  const { params, verifier } = await kit.codeFlow(kit.ctx.who, { org: acme });
  const tokens = await kit.exchange(params, verifier);
  assert.equal((await putValue(tokens.access_token, "other", "from-oauth", Buffer.from("o"))).status, 200);
  const me = await call(origin(), "GET", "/v1/whoami", { token: tokens.access_token });
  const session = (await call(origin(), "POST", "/auth/login", { body: { identifier: kit.ctx.who.email, secret: kit.ctx.who.password, org_id: me.body.data.org_id } })).body.token;
  assert.equal((await getValue(session, "other", "from-oauth")).bytes.toString(), "o");
  assert.deepEqual((await call(origin(), "GET", "/v1/whoami", { token: session })).body.data.namespaces, ["*"]);
});

test("CORS: a page of an allowed origin may call /v1 without cookies; any other origin gets no CORS headers", async () => {
  await namespaces();
  const preflight = await call(origin(), "OPTIONS", "/v1/namespaces/myapp/keys/k", {
    headers: { origin: PAGE, "access-control-request-method": "PUT", "access-control-request-headers": "authorization, content-type" },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-origin"), PAGE);
  assert.match(preflight.headers.get("access-control-allow-methods"), /PUT/);
  assert.match(preflight.headers.get("access-control-allow-headers"), /Authorization/);
  assert.equal(preflight.headers.get("access-control-allow-credentials"), null);
  const get = await call(origin(), "GET", "/v1/whoami", { token: fx.owner.plain_key, headers: { origin: PAGE } });
  assert.equal(get.headers.get("access-control-allow-origin"), PAGE);
  assert.match(get.headers.get("access-control-expose-headers"), /RateLimit-Remaining/);
  assert.match(get.headers.get("vary"), /Origin/);
  const entities = await call(origin(), "OPTIONS", "/entities/ent_x", { headers: { origin: PAGE, "access-control-request-method": "PATCH" } });
  assert.equal(entities.status, 204, "the Atom seed's /entities family too");
  assert.equal(entities.headers.get("access-control-allow-origin"), PAGE);
  for (const other of ["http://127.0.0.1:5174", "https://evil.example", "null"]) {
    const r = await call(origin(), "GET", "/v1/whoami", { token: fx.owner.plain_key, headers: { origin: other } });
    assert.equal(r.headers.get("access-control-allow-origin"), null, other);
    const p = await call(origin(), "OPTIONS", "/v1/whoami", { headers: { origin: other, "access-control-request-method": "GET" } });
    assert.equal(p.headers.get("access-control-allow-origin"), null, other);
  }
});
