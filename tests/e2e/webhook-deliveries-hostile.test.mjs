// Hostile input on the webhook delivery log (issue 10): GET /v1/webhooks/{id}/deliveries,
// GET …/deliveries/{msg_id} and POST …/deliveries/{msg_id}/redeliver, in production
// settings. Malformed endpoint and msg ids (wrong prefix, uppercase hex, too long or
// short, percent-encoded slashes, dots and digits, unicode, empty), bad and forged
// cursors and limits, repeated parameters, wrong methods, bad credentials, members (403
// "permission", before any lookup), another org's endpoint and events (each org has an
// endpoint and a `key.minted` event) asked for and redelivered both ways, bodies on the
// POST, and dot segments the runtime normalises. Every answer is a 4xx in the /v1 shape
// (or, for a forged cursor or a path that normalises to our own log, our log and only
// that), none a 5xx; no refusal names any endpoint or event; an answer about another
// org's endpoint or event is byte for byte the answer about one that does not exist.
//
// Nothing is written: the identity tables, and every row of `webhook_events`,
// `webhook_endpoints`, `webhook_deliveries` and `webhook_attempts`, are the same before
// and after. The outboxes retry in the background (the deliveries cannot connect), so the
// barrage starts once every delivery has failed twice: under the default schedule the
// next attempt is 300 s ±10% away, and the barrage must end before it. Another org's
// event redelivered to our endpoint (or ours to theirs) would be a new (endpoint, msg)
// pair, or a pair whose event belongs to an org other than the endpoint's.
//
// A redeliver of our own event does not read its body: garbage is queued (202) like no
// body. One finding is kept as a failing assertion in a test of its own after the
// barrage: `//v1/…` is routed to /v1 but refused in the bare shape.
// KEYWARD_E2E_TRACE=1 prints each answer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { garbageCredentials, rawCall, runBarrage, withoutRequestId } from "./barrage.mjs";
import { call, seedOrg, useKeyward } from "./helpers.mjs";

const fx = useKeyward({ prefix: "ptmc", vars: { ENVIRONMENT: "production", DEV_OUTBOX: "false", DEV_CLIENT_CERT_HEADER: "false", SELF_REGISTRATION_ENABLED: "false" } });

const invalid = { status: 400, code: "invalid_request" };
const permission = { status: 403, code: "forbidden", message: /permission/ };
const notFound = { status: 404, code: "not_found" };
const disabled = { status: 409, code: "conflict" };
const notAllowed = { status: 405, code: "method_not_allowed" };
const unauthorized = { status: 401 };

const hex = (n) => randomBytes(n).toString("hex");
const b64 = (text) => Buffer.from(text).toString("base64url");
const log = (id, query = "") => `/v1/webhooks/${id}/deliveries${query}`;
const one = (id, msg) => `/v1/webhooks/${id}/deliveries/${msg}`;
const again = (id, msg) => `${one(id, msg)}/redeliver`;
/**
 * A body far over the 64 KiB a /v1 body may have, but under the ~1.5 MiB past which
 * `wrangler dev` itself mishandles a body the worker did not read (see the `todo` in
 * namespaces-hostile): the next request then hangs, or is answered 500 "Cannot
 * reconstruct a Request with a used body" (miniflare's entry worker) or 503 "Your worker
 * restarted mid-request", on any route, GET /health too.
 */
const HUGE = `{"pad":"${"x".repeat(960 * 1024)}"}`;
/** `id` with its last character percent-encoded (the same id, were the path decoded). */
const lastEncoded = (id) => `${id.slice(0, -1)}%${id.charCodeAt(id.length - 1).toString(16)}`;

/** Every row of the webhook tables, and the deliveries whose event is of another org than their endpoint. */
const webhookTables = (server) => async () => ({
  webhook_events: server.sql("SELECT * FROM webhook_events ORDER BY seq"),
  webhook_endpoints: server.sql("SELECT * FROM webhook_endpoints ORDER BY id"),
  webhook_deliveries: server.sql("SELECT * FROM webhook_deliveries ORDER BY endpoint_id, msg_id"),
  webhook_attempts: server.sql("SELECT * FROM webhook_attempts ORDER BY endpoint_id, msg_id, attempt"),
  cross_org: server.sql(
    "SELECT d.endpoint_id, d.msg_id FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.msg_id JOIN webhook_endpoints w ON w.id = d.endpoint_id WHERE e.org_id <> w.org_id",
  ),
});

/** Org A (bootstrapped): `mine` and the disabled `off`, an admin and a member key; org B: `theirs`; an event each. */
const world = {};
let setupRequests = 0;

async function ok(status, method, pathname, opts) {
  const r = await call(fx.server.origin, method, pathname, opts);
  setupRequests += 1;
  assert.equal(r.status, status, `${method} ${pathname}: ${r.text}`);
  return r.body.data ?? r.body;
}

/** Polls D1 until every delivery of `endpoints` has had two attempts; returns the rows. */
async function failedTwice(server, endpoints) {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const rows = server.sql(`SELECT endpoint_id, msg_id, attempts, next_attempt_at FROM webhook_deliveries WHERE endpoint_id IN ('${endpoints.join("','")}')`);
    if (endpoints.every((id) => rows.some((r) => r.endpoint_id === id)) && rows.every((r) => r.attempts >= 2)) return rows;
    if (Date.now() > deadline) throw new Error(`deliveries did not fail twice: ${JSON.stringify(rows)}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** Fills `world` once, for the first test that asks (a root `before` would run beside useKeyward's). */
async function setup() {
  const { server, owner } = fx;
  const A = owner.plain_key;
  const entityKey = async (name, role) => {
    const made = await ok(201, "POST", "/entities", { token: A, body: { kind: "service", name, role } });
    return (await ok(201, "POST", `/entities/${made.id}/credentials/api-keys`, { token: A, body: { description: name, rate_limit_rpm: 1000 } })).key;
  };
  // Entities before endpoints: their events go to no endpoint.
  world.admin = await entityKey("hook-admin", "admin");
  world.member = await entityKey("hook-member", "member");
  world.b = seedOrg(server, { name: "elsewhere" });
  world.elsewhereMember = seedOrg(server, { name: "members", role: "member" });
  world.mine = await ok(201, "POST", "/v1/webhooks", { token: A, body: { url: "https://hooks.example.com/mine" } });
  world.off = await ok(201, "POST", "/v1/webhooks", { token: A, body: { url: "https://hooks.example.com/off" } });
  await ok(200, "PATCH", `/v1/webhooks/${world.off.id}`, { token: A, body: { enabled: false } });
  world.theirs = await ok(201, "POST", "/v1/webhooks", { token: world.b.key, body: { url: "https://hooks.example.com/theirs" } });
  await ok(201, "POST", "/v1/keys", { token: A, body: { name: "hostile-a" } });
  await ok(201, "POST", "/v1/keys", { token: world.b.key, body: { name: "hostile-b" } });
  const rows = await failedTwice(server, [world.mine.id, world.theirs.id]);
  world.quietUntil = Math.min(...rows.map((r) => r.next_attempt_at));
  [world.aMsg] = (await ok(200, "GET", log(world.mine.id), { token: A })).map((d) => d.msg_id);
  [world.bMsg] = (await ok(200, "GET", log(world.theirs.id), { token: world.b.key })).map((d) => d.msg_id);
  world.bSeq = server.sql(`SELECT seq FROM webhook_events WHERE id = '${world.bMsg}'`)[0].seq;
  assert.match(world.aMsg, /^msg_[0-9a-f]{32}$/);
  assert.match(world.bMsg, /^msg_[0-9a-f]{32}$/);
  // What an endpoint or event that does not exist is answered: another org's must be the same bytes.
  world.absentMsg = `msg_${hex(16)}`;
  const absentEndpoint = `whk_${hex(16)}`;
  world.reference = {};
  for (const [name, method, path] of [
    ["log", "GET", log(absentEndpoint)],
    ["one", "GET", one(world.mine.id, world.absentMsg)],
    ["redeliverEndpoint", "POST", again(absentEndpoint, world.aMsg)],
    ["redeliverEvent", "POST", again(world.mine.id, world.absentMsg)],
  ]) {
    const r = await call(server.origin, method, path, { token: A });
    setupRequests += 1;
    assert.equal(r.status, 404, `${method} ${path}: ${r.text}`);
    assert.equal(r.body.error.code, "not_found");
    world.reference[name] = r;
  }
}
let settingUp;
const ready = () => (settingUp ??= setup());

/** An answer byte for byte the one about an absent endpoint or event (`world.reference[name]`), its request id aside. */
const like = (name) => (r) => (r.status === 404 && withoutRequestId(r) === withoutRequestId(world.reference[name]) ? [] : [`not the answer about an absent one (${name}): ${r.text.slice(0, 200)}`]);

/** A request Node's http will not send as written (dot segments, a doubled slash), for a raw socket. */
function rawRequest(method, target, token, hostLine = `Host: ${new URL(fx.server.origin).host}\r\n`) {
  return `${method} ${target} HTTP/1.1\r\n${hostLine}Connection: close\r\nAuthorization: Bearer ${token}\r\nContent-Length: 0\r\n\r\n`;
}

test("hostile requests at the delivery log and redeliver: 4xx in the /v1 shape, no 5xx, no other org's ids, no oracle, nothing written", async () => {
  await ready();
  const { server, owner } = fx;
  const A = owner.plain_key;
  const { mine, off, theirs, aMsg, bMsg, bSeq, absentMsg, b: B } = world;
  const ours = (r) => {
    if (r.status >= 400 && r.status < 500) return r.body?.success === false && typeof r.body.error?.code === "string" ? [] : ["a 4xx not in the /v1 shape"];
    const data = r.status === 200 && r.body?.success === true ? r.body.data : undefined;
    return Array.isArray(data) && data.every((d) => d.msg_id === aMsg) ? [] : [`not provably our own log: ${r.text.slice(0, 200)}`];
  };

  const get = (path, expect, token = A) => ["GET", path, { token }, expect];
  const redeliver = (id, msg, expect, opts = {}) => ["POST", again(id, msg), { token: A, ...opts }, expect];
  const json = (raw) => ({ raw, headers: { "content-type": "application/json" } });

  const badIds = [
    "",
    "x",
    "whk_",
    `whk_${"0".repeat(31)}`,
    `whk_${"0".repeat(33)}`,
    `${mine.id}0`,
    mine.id.slice(0, -1),
    mine.id.toUpperCase(),
    `WHK_${mine.id.slice(4)}`,
    `whk_${mine.id.slice(4).toUpperCase()}`,
    `msg_${mine.id.slice(4)}`,
    aMsg,
    B.org,
    lastEncoded(mine.id),
    `%77${mine.id.slice(1)}`,
    `whk%5F${mine.id.slice(4)}`,
    `${mine.id}%00`,
    `${mine.id}%20`,
    `%20${mine.id}`,
    `${mine.id}%2F`,
    `${theirs.id}%2F..%2F${mine.id}`,
    `%2e%2e`,
    `whk_${"\u00e9".repeat(16)}`,
    `whk_${"\uff10".repeat(32)}`,
    `whk_${mine.id.slice(4, 35)}\u0131`,
    "*",
    "%27%20OR%201=1--",
    "a".repeat(5000),
  ];
  const badMsgs = [
    "x",
    "msg_",
    `msg_${"0".repeat(31)}`,
    `msg_${"0".repeat(33)}`,
    `${aMsg}0`,
    aMsg.slice(0, -1),
    aMsg.toUpperCase(),
    `MSG_${aMsg.slice(4)}`,
    `msg_${aMsg.slice(4).toUpperCase()}`,
    `whk_${aMsg.slice(4)}`,
    mine.id,
    `msg_${"g".repeat(32)}`,
    lastEncoded(aMsg),
    lastEncoded(bMsg),
    `%6D${aMsg.slice(1)}`,
    `msg%5F${aMsg.slice(4)}`,
    `${aMsg}%00`,
    `${aMsg}%20`,
    `${aMsg}%2F`,
    `%2e%2e`,
    `..%2F..%2F${theirs.id}%2Fdeliveries%2F${bMsg}`,
    `msg_${"\u00e9".repeat(16)}`,
    `msg_${"\uff10".repeat(32)}`,
    `msg_${aMsg.slice(4, 35)}\u0131`,
    "a".repeat(5000),
  ];
  const badLimits = ["limit=0", "limit=101", "limit=-1", "limit=1e3", "limit=abc", "limit=", "limit=%00", "limit=1.5", "limit=99999999999999999999", "limit=0x10", "limit=%2D1", "limit=0&limit=5", "limit=101&limit=1"];
  const badCursors = [
    "%25%25%25",
    "%%%",
    "!",
    "A".repeat(5000),
    b64("x"),
    b64("1"),
    b64(`:${aMsg}`),
    b64(`-1:${aMsg}`),
    b64(`1e3:${aMsg}`),
    b64(` 1:${aMsg}`),
    b64("1:"),
    b64(`1:${"a".repeat(65)}`),
    b64("1:a b"),
    b64("1:../x"),
    b64("18446744073709551616:x"),
    `${b64("1:x")}.${b64("y")}`,
    "%FF",
    b64("' OR 1=1 --"),
  ];
  // Forged cursors that decode: a page of our own log at most (from another org's event, past the end, from nothing).
  const forgedCursors = [b64(`${bSeq}:${bMsg}`), b64(`${bSeq + 1}:${bMsg}`), b64("0:x"), b64("18446744073709551615:x"), b64("9007199254740993:x"), `${b64(`${bSeq}:${bMsg}`)}==`];
  const bodies = [
    json("{"),
    json("["),
    json("null"),
    json(`{"msg_id":"${aMsg}"}`),
    json(`{"endpoint_id":"${mine.id}","org_id":"${owner.org_id}"}`),
    json(`{"msg_id":"${bMsg}","msg_id":"${aMsg}"}`),
    json("\xff\xfe{}"),
    json(HUGE),
    { raw: `msg_id=${aMsg}`, headers: { "content-type": "application/x-www-form-urlencoded" } },
    { raw: "x".repeat(70_000), headers: { "content-type": "text/plain" } },
  ];

  const cases = [
    ...[log(mine.id), one(mine.id, aMsg)].flatMap((path) => garbageCredentials("ptmc", A).map((opts) => ["GET", path, opts, unauthorized])),
    ...garbageCredentials("ptmc", A).map((opts) => ["POST", again(mine.id, aMsg), opts, unauthorized]),
    // Members: refused before the id is looked at, ours, theirs or garbage alike.
    ...[world.member, world.elsewhereMember.key].flatMap((token) => [
      get(log(mine.id), permission, token),
      get(one(mine.id, aMsg), permission, token),
      redeliver(mine.id, aMsg, permission, { token }),
      get(log(theirs.id), permission, token),
      redeliver(theirs.id, bMsg, permission, { token }),
    ]),
    get(log("x"), permission, world.member),
    get(one(mine.id, "x"), permission, world.member),
    redeliver(off.id, aMsg, permission, { token: world.member }),
    redeliver("x", "y", permission, { token: world.member }),
    // Wrong methods: 405 before any lookup, on ours and theirs alike.
    ...["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PURGE"].map((m) => [m, log(mine.id), { token: A }, notAllowed]),
    ...["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PURGE"].map((m) => [m, one(mine.id, aMsg), { token: A }, notAllowed]),
    ...["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "PURGE"].map((m) => [m, again(mine.id, aMsg), { token: A }, notAllowed]),
    ...["DELETE", "PUT"].map((m) => [m, one(theirs.id, bMsg), { token: A }, notAllowed]),
    ["GET", again(theirs.id, bMsg), { token: A }, notAllowed],
    ["POST", one(mine.id, aMsg), { token: A, headers: { "x-http-method-override": "GET" } }, notAllowed],
    ["GET", again(mine.id, aMsg), { token: A, headers: { "x-http-method-override": "POST" } }, notAllowed],
    ["POST", `${one(mine.id, aMsg)}%2Fredeliver`, { token: A }, notAllowed],
    // Paths beside the three.
    ...[`${again(mine.id, aMsg)}/`, `${again(mine.id, aMsg)}/x`, `${one(mine.id, aMsg)}/attempts`, `${one(mine.id, aMsg)}/redeliver/..%2F..%2F${bMsg}`, `${log(mine.id)}%2F${aMsg}`, `/v1/webhooks/${mine.id}/delivery/${aMsg}`].map((path) => ["POST", path, { token: A }, notFound]),
    ...[`${one(mine.id, aMsg)}/x`, `/v1/webhooks/${mine.id}/Deliveries`, `/v1/webhooks/${mine.id}/deliveries%2F${aMsg}`].map((path) => get(path, notFound)),
    // Malformed endpoint ids, at each of the three.
    ...badIds.flatMap((id) => [get(log(id), notFound), get(one(id, aMsg), notFound), redeliver(id, aMsg, notFound)]),
    // Malformed msg ids, and the empty one.
    ...badMsgs.flatMap((msg) => [get(one(mine.id, msg), notFound), redeliver(mine.id, msg, notFound)]),
    get(`${log(mine.id)}/`, notFound),
    redeliver(mine.id, "", notFound),
    // Disabled: 409 whatever the event, ours, theirs or none.
    ...[aMsg, bMsg, absentMsg, "x"].map((msg) => redeliver(off.id, msg, disabled)),
    // Bad limits and cursors; on another org's endpoint the 404 comes first.
    ...badLimits.map((q) => get(log(mine.id, `?${q}`), invalid)),
    ...badCursors.map((c) => get(log(mine.id, `?cursor=${c}`), invalid)),
    get(log(mine.id, `?cursor=${b64("1:x")}&limit=0`), invalid),
    get(log(mine.id, "?cursor=%%%&cursor=" + b64("1:x")), invalid),
    ...forgedCursors.map((c) => get(log(mine.id, `?cursor=${c}`), ours)),
    get(log(mine.id, `?cursor=${b64(`1:x`)}&cursor=%%%`), ours),
    get(log(mine.id, `?endpoint_id=${theirs.id}&org_id=${B.org}`), ours),
    ...["?limit=abc", "?cursor=%%%", `?cursor=${b64(`${bSeq}:${bMsg}`)}`, "?limit=1"].map((q) => get(log(theirs.id, q), like("log"))),
    // Another org's endpoint and events, asked for and redelivered both ways: the answer about an absent one.
    get(log(theirs.id), like("log")),
    get(one(theirs.id, bMsg), like("log")),
    get(one(theirs.id, aMsg), like("log")),
    get(one(mine.id, bMsg), like("one")),
    get(`${one(mine.id, bMsg)}?org_id=${B.org}`, like("one")),
    redeliver(theirs.id, bMsg, like("redeliverEndpoint")),
    redeliver(theirs.id, aMsg, like("redeliverEndpoint")),
    redeliver(mine.id, bMsg, like("redeliverEvent")),
    ["POST", `${again(mine.id, bMsg)}?msg_id=${aMsg}`, { token: A }, like("redeliverEvent")],
    ["POST", `${again(theirs.id, bMsg)}?endpoint_id=${mine.id}`, { token: A }, like("redeliverEndpoint")],
    get(log(theirs.id), like("log"), world.admin),
    get(one(theirs.id, bMsg), like("log"), world.admin),
    redeliver(theirs.id, bMsg, like("redeliverEndpoint"), { token: world.admin }),
    redeliver(mine.id, bMsg, like("redeliverEvent"), { token: world.admin }),
    get(log(mine.id), like("log"), B.key),
    get(one(mine.id, aMsg), like("log"), B.key),
    get(one(theirs.id, aMsg), like("one"), B.key),
    redeliver(mine.id, aMsg, like("redeliverEndpoint"), { token: B.key }),
    redeliver(mine.id, bMsg, like("redeliverEndpoint"), { token: B.key }),
    redeliver(off.id, aMsg, like("redeliverEndpoint"), { token: B.key }),
    redeliver(theirs.id, aMsg, like("redeliverEvent"), { token: B.key }),
    // Bodies on the POST, at targets refused for another reason.
    ...bodies.flatMap((body) => [redeliver(mine.id, bMsg, notFound, body), redeliver(theirs.id, aMsg, notFound, body), redeliver(off.id, aMsg, disabled, body)]),
    ["GET", log(theirs.id), { token: A, ...json("{}") }, notFound],
    ...rawCases(),
  ];
  assert.ok(cases.length >= 300, `${cases.length} cases`);
  const msgs = (want) => (r) => {
    const got = r.body?.data?.map((d) => d.msg_id);
    return JSON.stringify(got) === JSON.stringify(want) ? [] : [`msg ids ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`];
  };
  const controls = [
    ["GET", log(mine.id), { token: A }, 200, msgs([aMsg])],
    ["GET", log(mine.id, "?limit=1&limit=101"), { token: A }, 200, msgs([aMsg])], // the first of a repeated parameter, as /v1/keys and /v1/webhooks
    ["GET", log(mine.id), { token: world.admin }, 200, msgs([aMsg])],
    ["GET", log(off.id), { token: A }, 200, msgs([])],
    ["GET", log(theirs.id), { token: B.key }, 200, msgs([bMsg])],
    ["GET", one(mine.id, aMsg), { token: A }, 200, (r) => (r.body.data.msg_id === aMsg && r.body.data.attempt_log.length >= 2 ? [] : [`not our delivery: ${r.text.slice(0, 200)}`])],
  ];
  const started = Date.now();
  const { failures, fivexx, stateBefore, stateAfter } = await runBarrage({
    server,
    cases,
    controls,
    label: "webhook-deliveries-hostile",
    foreignIds: [theirs.id, bMsg, B.org, B.entity], // org B's answers about org A are the absent ones' bytes (`like`)
    secrets: [B.key, world.admin, world.member, server.vars.ADMIN_TOKEN, server.vars.HASH_SECRET, server.vars.SIGNING_SECRET],
    families: ["v1"],
    state: webhookTables(server),
  });
  console.log(`# webhook-deliveries-hostile: ${setupRequests} setup requests, barrage ${Math.round((Date.now() - started) / 1000)} s`);
  assert.deepEqual(failures, []);
  assert.equal(fivexx, 0);
  assert.ok(Date.now() / 1000 < world.quietUntil, "the barrage ended before the outbox's next retry, so the rows below are comparable");
  assert.deepEqual(stateAfter.cross_org, [], "no delivery of one org's event to another org's endpoint");
  assert.deepEqual(stateAfter, stateBefore, "no event, endpoint, delivery or attempt written");

  /** Requests Node's http will not send as written, over a raw socket: dot segments the runtime normalises before routing. */
  function rawCases() {
    const raw = (method, target, expect, hostLine) => [method, target, { raw: rawRequest(method, target, A, hostLine) }, expect];
    return [
      raw("GET", `/v1/webhooks/${mine.id}/deliveries/../../${theirs.id}/deliveries`, like("log")),
      raw("GET", `/v1/webhooks/${mine.id}/deliveries/%2e%2e/%2e%2e/${theirs.id}/deliveries/${bMsg}`, like("log")),
      raw("GET", `/v1/webhooks/${mine.id}/deliveries/%2E%2E/%2E%2E/${theirs.id}/deliveries`, like("log")),
      raw("GET", `/v1/webhooks/${mine.id}/deliveries/..\\..\\${theirs.id}\\deliveries`, like("log")),
      raw("GET", `/v1/webhooks/${mine.id}/deliveries/${aMsg}/../${bMsg}`, like("one")),
      raw("GET", `/v1/webhooks/${theirs.id}/deliveries/..`, notFound),
      raw("GET", `/v1/webhooks/${theirs.id}/../${mine.id}/deliveries`, ours),
      raw("GET", `/v1/webhooks/${theirs.id}/deliveries`, like("log"), "Host: evil.example\r\n"),
      raw("POST", `/v1/webhooks/${mine.id}/deliveries/../../${theirs.id}/deliveries/${bMsg}/redeliver`, like("redeliverEndpoint")),
      raw("POST", `/v1/webhooks/${mine.id}/deliveries/%2e%2e/%2e%2e/${theirs.id}/deliveries/${aMsg}/redeliver`, like("redeliverEndpoint")),
      raw("POST", `/v1/webhooks/${theirs.id}/../${mine.id}/deliveries/${bMsg}/redeliver`, like("redeliverEvent")),
      raw("POST", `/v1/webhooks/${mine.id}/deliveries/${aMsg}/../${bMsg}/redeliver`, like("redeliverEvent")),
      raw("POST", `/v1/webhooks/${mine.id}/deliveries/${aMsg}/redeliver/..`, notFound),
      raw("POST", `/v1/webhooks/${mine.id}/deliveries/${aMsg}/redeliver/%2e%2e/%2e%2e/${bMsg}/redeliver`, like("redeliverEvent")),
    ];
  }
});

test("a body on a redeliver of our own event is not read: garbage or 960 KiB, it is queued (202) or refused, never a 5xx, and no other org's row moves", async () => {
  await ready();
  const { server, owner } = fx;
  const { mine, aMsg, bMsg } = world;
  const otherOrgs = async () => {
    const rows = await webhookTables(server)();
    const theirs = (row) => row.endpoint_id === world.theirs.id;
    return { deliveries: rows.webhook_deliveries.filter(theirs), attempts: rows.webhook_attempts.filter(theirs), events: rows.webhook_events, cross_org: rows.cross_org };
  };
  const before = await otherOrgs();
  const answers = [];
  for (const raw of ["{", `{"msg_id":"${bMsg}"}`, HUGE]) {
    const r = await call(server.origin, "POST", again(mine.id, aMsg), { token: owner.plain_key, raw, headers: { "content-type": "application/json" } });
    answers.push(`${r.status} ${r.body?.data?.msg_id ?? r.body?.error?.code}`);
    assert.ok(r.status === 202 || (r.status >= 400 && r.status < 500 && r.body?.success === false), `${r.status} ${r.text.slice(0, 200)}`);
    if (r.status === 202) assert.equal(r.body.data.msg_id, aMsg, "our event, not the one the body names");
  }
  console.log(`# webhook-deliveries-hostile: own redeliver with bodies → ${answers.join(", ")}`);
  assert.ok(Date.now() / 1000 < world.quietUntil, "before the outbox's next retry of their delivery");
  assert.deepEqual(await otherOrgs(), before, "their deliveries, attempts and every event unchanged; no cross-org pair");
});

// A finding, kept failing: the router trims every leading slash, so `//v1/…` reaches the
// /v1 routes (and serves our log in the /v1 shape), but the error family is chosen from
// the untrimmed path (`http::Family::of`), so its refusals come in the bare shape,
// `{"error": {…}}` without `"success": false`. Not peculiar to these endpoints.
test("a doubled leading slash reaches the /v1 routes, and their refusals there come in the /v1 shape too", async () => {
  await ready();
  const { server, owner } = fx;
  const served = await rawCall(server.origin, rawRequest("GET", `//v1/webhooks/${world.mine.id}/deliveries`, owner.plain_key));
  assert.equal(served.status, 200, served.text);
  assert.deepEqual(served.body.data.map((d) => d.msg_id), [world.aMsg], "our log, in the /v1 shape");
  const refused = await rawCall(server.origin, rawRequest("GET", `//v1/webhooks/${world.theirs.id}/deliveries`, owner.plain_key));
  assert.equal(refused.status, 404);
  assert.ok(!refused.text.includes(world.theirs.id));
  assert.equal(withoutRequestId(refused), withoutRequestId(world.reference.log), "the /v1 answer about an absent endpoint");
});
