// Webhook deliveries (issue 10) against a real `wrangler dev`: a receiver on loopback
// verifies every delivery with the npm `standardwebhooks` library and with our SDK's
// verifyWebhook; every event type arrives with its payload (ids and key prefixes only);
// after a rotation the old secret verifies nothing new; a receiver that refuses
// connections, answers 500 and hangs past the timeout gets its delivery once it
// recovers, and the log shows each attempt; redeliver sends an event again; an endpoint
// that keeps failing is disabled (audited, and said in its GET).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as oauth from "oauth4webapi";
import { Webhook } from "standardwebhooks";
import { verifyWebhook } from "../../pkg/dist/node.js";
import { call, client, useKeyward } from "./helpers.mjs";
import { REDIRECT, formPost, oauthKit } from "./oauth-helpers.mjs";
import { startReceiver } from "./webhook-receiver.mjs";
import { freePort } from "../../scripts/devserver.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const certPem = readFileSync(path.join(here, "../../core/tests/fixtures/p256-service.pem"), "utf8");

const fx = useKeyward({
  vars: {
    WEBHOOK_RETRY_SCHEDULE: Array(20).fill("1").join(","),
    WEBHOOK_TIMEOUT_SECONDS: "2",
    WEBHOOK_DISABLE_AFTER_SECONDS: "12",
    ALLOW_UNVERIFIED_EMAIL_LOGIN: "true",
  },
});
const kit = oauthKit(fx);
const owner = () => client(fx.server.origin, fx.owner.plain_key);

/** The event payloads `rx` received, verified with both libraries against `secret`. */
function verified(rx, secret) {
  return rx.received.map((d) => {
    const byLibrary = new Webhook(secret).verify(d.body, d.headers);
    const bySdk = verifyWebhook(d.body, d.headers, secret);
    assert.deepEqual(bySdk, byLibrary);
    assert.match(d.headers["webhook-signature"], /^v1,[A-Za-z0-9+/]+=*$/);
    assert.equal(d.headers["content-type"], "application/json");
    return { id: d.headers["webhook-id"], ...byLibrary };
  });
}

const hasTypes = (types) => (received) => types.every((t) => received.some((d) => JSON.parse(d.body).type === t));

test("every event type arrives signed, verified by standardwebhooks and verifyWebhook, with ids only; a rotated secret signs what follows", async () => {
  await kit.ready();
  const rx = await startReceiver();
  const org = (await owner().get("/v1/whoami")).body.data.org_id;
  const endpoint = (await owner().post("/v1/webhooks", { url: rx.url, description: "all events" })).body.data;
  const secret = (await owner().get("/v1/account/webhook-secret")).body.data.secret;

  // Keys: minted, updated, revoked.
  const key = (await owner().post("/v1/keys", { name: "for-webhooks" })).body.data;
  assert.equal((await owner().patch(`/v1/keys/${key.id}`, { name: "renamed" })).status, 200);
  assert.equal((await owner().del(`/v1/keys/${key.id}`)).status, 200);
  // Credentials: a certificate added and revoked; an entity suspended.
  const svc = (await owner().post("/entities", { kind: "service", name: "billing-bot" })).body;
  const cert = await owner().post(`/entities/${svc.id}/credentials/certificates`, { pem: certPem });
  assert.equal(cert.status, 201, cert.text);
  assert.equal((await owner().del(`/entities/${svc.id}/credentials/${cert.body.credential_id}`)).status, 200);
  assert.equal((await owner().patch(`/entities/${svc.id}`, { status: "suspended" })).status, 200);
  // OAuth: a grant issued and its refresh token reused; another issued and revoked.
  const first = await kit.codeFlow(kit.ctx.who, { org });
  const tokens = await kit.exchange(first.params, first.verifier);
  const refresh = (refresh_token) => formPost(fx.server.origin, { grant_type: "refresh_token", refresh_token, client_id: kit.ctx.client.client_id });
  assert.equal((await refresh(tokens.refresh_token)).status, 200);
  assert.equal((await refresh(tokens.refresh_token)).body.error, "invalid_grant", "reuse ends the grant");
  const second = await kit.codeFlow(kit.ctx.who, { org });
  const other = await kit.exchange(second.params, second.verifier);
  const revoked = await oauth.revocationRequest(kit.ctx.as, kit.ctx.client, oauth.None(), other.access_token, { [oauth.allowInsecureRequests]: true });
  assert.equal(revoked.status, 200);

  const before = ["key.minted", "key.updated", "key.revoked", "credential.created", "credential.revoked", "entity.status_changed", "oauth.grant_issued", "oauth.refresh_reuse_detected", "oauth.grant_revoked"];
  await rx.until(hasTypes(before), 30_000, before.join(", "));
  const events = verified(rx, secret);
  const one = (type) => events.find((e) => e.type === type);
  assert.deepEqual(one("key.minted").data, { key_id: key.id, key_prefix: key.key_prefix, entity_id: fx.owner.entity_id, actor_id: fx.owner.entity_id });
  assert.equal(one("key.revoked").data.key_prefix, key.key_prefix);
  assert.deepEqual(one("credential.created").data, { credential_id: cert.body.credential_id, kind: "certificate", entity_id: svc.id, actor_id: fx.owner.entity_id });
  assert.equal(one("credential.revoked").data.credential_id, cert.body.credential_id);
  assert.deepEqual(one("entity.status_changed").data, { entity_id: svc.id, previous_status: "active", status: "suspended" });
  assert.equal(one("oauth.grant_issued").data.client_id, kit.ctx.client.client_id);
  assert.equal(one("oauth.refresh_reuse_detected").data.reason, "refresh_reuse");
  assert.equal(one("oauth.grant_revoked").data.reason, "revoked");
  for (const e of events) {
    assert.match(e.id, /^msg_[0-9a-f]{32}$/);
    assert.match(e.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(Object.keys(JSON.parse(rx.received.find((d) => d.headers["webhook-id"] === e.id).body)), ["type", "timestamp", "data"]);
  }
  const everything = rx.received.map((d) => d.body).join("\n");
  for (const secretText of [key.plain_key, tokens.access_token, tokens.refresh_token, other.refresh_token, secret]) {
    assert.ok(!everything.includes(secretText), "no secret in any payload");
  }
  assert.equal(new Set(events.map((e) => e.id)).size, events.length, "each event delivered once to a receiver that answers 2xx");

  // Rotation: its own event, and everything after it, is signed with the new secret only.
  const rotated = await owner().post("/v1/account/webhook-secret/rotate");
  assert.equal(rotated.status, 200);
  const fresh = rotated.body.data.secret;
  await owner().post("/v1/keys", { name: "after-rotation" });
  await rx.until((r) => hasTypes(["webhook_secret.rotated"])(r) && r.filter((d) => JSON.parse(d.body).type === "key.minted").length >= 2, 30_000, "rotation and the next key");
  for (const d of rx.received.filter((x) => ["webhook_secret.rotated", "key.minted"].includes(JSON.parse(x.body).type)).slice(-2)) {
    assert.throws(() => new Webhook(secret).verify(d.body, d.headers), /signature/i, "the old secret verifies nothing new");
    assert.throws(() => verifyWebhook(d.body, d.headers, secret));
    assert.equal(new Webhook(fresh).verify(d.body, d.headers).type, JSON.parse(d.body).type);
  }

  // The delivery log lists what arrived.
  const log = await owner().get(`/v1/webhooks/${endpoint.id}/deliveries?limit=100`);
  assert.equal(log.status, 200);
  assert.ok(log.body.data.length >= before.length + 2);
  assert.ok(log.body.data.every((d) => d.status === "delivered" && d.attempts === 1));
  await rx.close();
});

test("signup completed: the personal org's endpoint hears of the verified address", async () => {
  const rx = await startReceiver();
  const email = `new-${Date.now()}@example.com`;
  const password = "new-person-passphrase-5";
  assert.equal((await call(fx.server.origin, "POST", "/auth/signup", { body: { name: "Neu", email, password } })).status, 202);
  const session = await call(fx.server.origin, "POST", "/auth/login", { body: { identifier: email, secret: password } });
  assert.equal(session.status, 200, session.text);
  const personal = client(fx.server.origin, session.body.token);
  assert.equal((await personal.post("/v1/webhooks", { url: rx.url, event_types: ["signup.completed"] })).status, 201);
  const secret = (await personal.get("/v1/account/webhook-secret")).body.data.secret;
  const box = await call(fx.server.origin, "GET", `/dev/outbox?to=${encodeURIComponent(email)}`);
  const token = box.body.items.find((m) => m.subject === "Verify your email address").text.match(/token=(\S+)/)[1];
  assert.equal((await call(fx.server.origin, "GET", `/auth/email/verify?token=${token}`)).status, 200);
  await rx.until((r) => r.length >= 1, 30_000, "signup.completed");
  const [event] = verified(rx, secret);
  assert.equal(event.type, "signup.completed");
  assert.match(event.data.entity_id, /^ent_/);
  assert.match(event.data.org_id, /^org_/);
  assert.ok(!rx.received[0].body.includes(email), "no address in the payload");
  await rx.close();
});

test("failures: refused, 500, hanging past the timeout, then recovery; every attempt is in the log; redeliver sends it again", async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/hook`;
  const created = await owner().post("/v1/webhooks", { url, event_types: ["key.minted"] });
  const endpoint = created.body.data;
  const secret = (await owner().get("/v1/account/webhook-secret")).body.data.secret;
  const minted = (await owner().post("/v1/keys", { name: "bumpy-road" })).body.data;
  const logOf = async () => {
    const list = await owner().get(`/v1/webhooks/${endpoint.id}/deliveries`);
    const msg = list.body.data[0]?.msg_id;
    return msg ? (await owner().get(`/v1/webhooks/${endpoint.id}/deliveries/${msg}`)).body.data : undefined;
  };
  const waitLog = async (predicate, what) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const log = await logOf();
      if (log && predicate(log)) return log;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(log)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  // Nothing listens: the connection is refused.
  await waitLog((l) => l.attempt_log.some((a) => a.error === "connection"), "a refused attempt");
  const rx = await startReceiver({ port, mode: "fail" });
  await rx.until((r) => r.length >= 1, 30_000, "the 500");
  rx.mode = "hang";
  await rx.until((r) => r.length >= 2, 30_000, "the hanging attempt");
  rx.mode = "ok";
  const done = await waitLog((l) => l.status === "delivered", "the delivery");
  const classes = done.attempt_log.map((a) => a.error);
  assert.ok(classes.includes("connection") && classes.includes("http_status") && classes.includes("timeout"), JSON.stringify(done.attempt_log));
  assert.equal(classes.at(-1), null, "the last attempt succeeded");
  const failed500 = done.attempt_log.find((a) => a.error === "http_status");
  assert.equal(failed500.status_code, 500);
  const timedOut = done.attempt_log.find((a) => a.error === "timeout");
  assert.ok(timedOut.duration_ms >= 1900 && timedOut.status_code === null, JSON.stringify(timedOut));
  assert.ok(done.attempt_log.slice(0, -1).every((a) => a.next_attempt_at !== null), "each failure says when the next attempt is");
  assert.equal(done.attempt_log.at(-1).next_attempt_at, null);
  assert.deepEqual(done.attempt_log.map((a) => a.attempt), done.attempt_log.map((_, i) => i + 1));
  assert.equal(done.attempts, done.attempt_log.length);
  // Every attempt carried the same webhook-id and a valid signature of its own moment.
  const ids = new Set(rx.received.map((d) => d.headers["webhook-id"]));
  assert.deepEqual([...ids], [done.msg_id]);
  const last = rx.received.at(-1);
  assert.equal(new Webhook(secret).verify(last.body, last.headers).data.key_id, minted.id);
  const ep = (await owner().get(`/v1/webhooks/${endpoint.id}`)).body.data;
  assert.equal(ep.failing_since, null, "a success ends the run of failures");
  assert.equal(ep.enabled, true);

  // Redeliver: the same event, the same webhook-id, once more.
  const before = rx.received.length;
  const again = await owner().post(`/v1/webhooks/${endpoint.id}/deliveries/${done.msg_id}/redeliver`);
  assert.equal(again.status, 202, again.text);
  assert.equal(again.body.data.status, "pending");
  await rx.until((r) => r.length > before, 30_000, "the redelivery");
  assert.equal(rx.received.at(-1).headers["webhook-id"], done.msg_id);
  await waitLog((l) => l.status === "delivered" && l.attempts === done.attempts + 1, "the redelivery in the log");
  const unknown = await owner().post(`/v1/webhooks/${endpoint.id}/deliveries/msg_${"0".repeat(32)}/redeliver`);
  assert.equal(unknown.status, 404);
  await rx.close();
  await owner().del(`/v1/webhooks/${endpoint.id}`);
});

test("a redirect is a failed attempt, never followed", async () => {
  const rx = await startReceiver({ mode: "redirect" });
  const endpoint = (await owner().post("/v1/webhooks", { url: rx.url, event_types: ["key.minted"] })).body.data;
  await owner().post("/v1/keys", { name: "redirected" });
  await rx.until((r) => r.length >= 2, 30_000, "two attempts");
  assert.ok(rx.received.every((d) => d.url === "/hook"), "the Location was never requested");
  const [delivery] = (await owner().get(`/v1/webhooks/${endpoint.id}/deliveries`)).body.data;
  const log = (await owner().get(`/v1/webhooks/${endpoint.id}/deliveries/${delivery.msg_id}`)).body.data.attempt_log;
  assert.equal(log[0].error, "redirect");
  assert.equal(log[0].status_code, 302);
  await owner().del(`/v1/webhooks/${endpoint.id}`);
  await rx.close();
});

test("an endpoint that fails for WEBHOOK_DISABLE_AFTER_SECONDS is disabled, audited, and says so; enabling it resumes its queue", async () => {
  const port = await freePort();
  const endpoint = (await owner().post("/v1/webhooks", { url: `http://127.0.0.1:${port}/down`, event_types: ["key.minted"] })).body.data;
  await owner().post("/v1/keys", { name: "into-the-void" });
  const deadline = Date.now() + 40_000;
  let ep;
  do {
    await new Promise((r) => setTimeout(r, 500));
    ep = (await owner().get(`/v1/webhooks/${endpoint.id}`)).body.data;
  } while (ep.enabled && Date.now() < deadline);
  assert.equal(ep.enabled, false, "disabled after a run of failures");
  assert.equal(ep.disabled_reason, "failing");
  assert.match(ep.disabled_at, /Z$/);
  assert.match(ep.failing_since, /Z$/);
  const audit = await owner().get("/v1/audit?limit=100");
  const entry = audit.body.data.find((a) => a.event === "webhook.disabled" && a.detail?.webhook_id === endpoint.id);
  assert.ok(entry, "the disabling is audited");
  const log = (await owner().get(`/v1/webhooks/${endpoint.id}/deliveries`)).body.data[0];
  assert.equal(log.status, "pending", "the delivery waits");
  assert.equal((await owner().post(`/v1/webhooks/${endpoint.id}/deliveries/${log.msg_id}/redeliver`)).status, 409, "no redelivery to a disabled endpoint");

  const rx = await startReceiver({ port });
  const enabled = await owner().patch(`/v1/webhooks/${endpoint.id}`, { enabled: true });
  assert.equal(enabled.body.data.enabled, true);
  assert.equal(enabled.body.data.disabled_reason, null);
  assert.equal(enabled.body.data.failing_since, null);
  await rx.until((r) => r.some((d) => d.headers["webhook-id"] === log.msg_id), 30_000, "the waiting delivery");
  await rx.close();
  await owner().del(`/v1/webhooks/${endpoint.id}`);
});

test("the cron trigger: a lost wake-up is made up, and events older than 30 days are forgotten with their deliveries", async () => {
  const rx = await startReceiver();
  const org = (await owner().get("/v1/whoami")).body.data.org_id;
  const endpoint = (await owner().post("/v1/webhooks", { url: rx.url, event_types: ["key.minted"] })).body.data;
  const now = Math.floor(Date.now() / 1000);
  const old = now - 31 * 86_400;
  const hex = () => [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
  const [lost, ancient] = [`msg_${hex()}`, `msg_${hex()}`];
  const payload = (id) => JSON.stringify({ type: "key.minted", timestamp: "2026-01-01T00:00:00Z", data: { key_id: id } }).replaceAll("'", "''");
  // An event whose wake-up was lost (written with no wake-up at all), and one 31 days old
  // with a delivery and an attempt.
  fx.server.sql(
    `INSERT INTO webhook_events (id, org_id, type, payload, created_at) VALUES ('${ancient}', '${org}', 'key.minted', '${payload("ancient")}', ${old});
     INSERT INTO webhook_deliveries (endpoint_id, msg_id, event_seq, status, attempts, created_at, updated_at) VALUES ('${endpoint.id}', '${ancient}', (SELECT seq FROM webhook_events WHERE id = '${ancient}'), 'delivered', 1, ${old}, ${old});
     INSERT INTO webhook_attempts (endpoint_id, msg_id, attempt, at, status_code, duration_ms) VALUES ('${endpoint.id}', '${ancient}', 1, ${old}, 204, 3);
     UPDATE webhook_endpoints SET event_cursor = (SELECT seq FROM webhook_events WHERE id = '${ancient}') WHERE id = '${endpoint.id}';
     INSERT INTO webhook_events (id, org_id, type, payload, created_at) VALUES ('${lost}', '${org}', 'key.minted', '${payload("lost")}', ${now - 60});`,
  );
  // The first minute of an hour, so the hourly retention runs too.
  const time = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const fired = await fetch(`${fx.server.origin}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("* * * * *")}&time=${time}`);
  assert.equal(fired.status, 200, await fired.text());
  await rx.until((r) => r.some((d) => d.headers["webhook-id"] === lost), 30_000, "the event whose wake-up was lost");
  const left = (table, column) => fx.server.sql(`SELECT COUNT(*) AS n FROM ${table} WHERE ${column} = '${ancient}'`)[0].n;
  for (let i = 0; i < 40 && left("webhook_events", "id") > 0; i++) await new Promise((r) => setTimeout(r, 250));
  assert.deepEqual([left("webhook_events", "id"), left("webhook_deliveries", "msg_id"), left("webhook_attempts", "msg_id")], [0, 0, 0], "the 31-day-old event is forgotten with its delivery and attempt");
  assert.equal(fx.server.sql(`SELECT COUNT(*) AS n FROM webhook_events WHERE id = '${lost}'`)[0].n, 1, "a recent event stays");
  await owner().del(`/v1/webhooks/${endpoint.id}`);
  await rx.close();
});
