// The org's webhook signing secret (issue 10, part 1) against a real `wrangler dev`:
// created on the first read, the same for 20 concurrent first reads; a Standard Webhooks
// secret that the npm `standardwebhooks` library and our SDK's verifyWebhook both take;
// stored sealed (D1 holds no plaintext); owners and admins only; 20 concurrent rotations
// make exactly one, the rest 429 with Retry-After; after a rotation the old secret
// verifies nothing signed with the new one; reads and rotations are audited, never the
// secret itself.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import { signWebhook, verifyWebhook } from "../../pkg/dist/node.js";
import { call, seedOrg, useKeyward } from "./helpers.mjs";

const fx = useKeyward({ prefix: "ptmc" });
const read = (token) => call(fx.server.origin, "GET", "/v1/account/webhook-secret", { token });
const rotate = (token) => call(fx.server.origin, "POST", "/v1/account/webhook-secret/rotate", { token });

test("concurrent first reads get one secret, in the Standard Webhooks form, stored sealed", async () => {
  const org = seedOrg(fx.server, { name: "hooks" });
  const answers = await Promise.all(Array.from({ length: 20 }, () => read(org.key)));
  assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
  const secrets = new Set(answers.map((a) => a.body.data.secret));
  assert.equal(secrets.size, 1, "every first read saw the same secret");
  const [secret] = secrets;
  assert.match(secret, /^whsec_[A-Za-z0-9+/]+=*$/);
  assert.ok(Buffer.from(secret.slice(6), "base64").length >= 24);

  const rows = fx.server.sql(`SELECT org_id, sealed FROM webhook_secrets WHERE org_id = '${org.org}'`);
  assert.equal(rows.length, 1);
  assert.ok(!rows[0].sealed.includes(secret.slice(6, 20)), "D1 holds the secret sealed, not in clear");

  // Both verifiers take it as it is.
  const payload = JSON.stringify({ type: "key.minted", timestamp: new Date().toISOString(), data: { id: "k1" } });
  const id = "msg_test_1";
  const timestamp = new Date();
  const signature = new Webhook(secret).sign(id, timestamp, payload);
  const headers = { "webhook-id": id, "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)), "webhook-signature": signature };
  assert.deepEqual(new Webhook(secret).verify(payload, headers), JSON.parse(payload));
  assert.deepEqual(verifyWebhook(payload, headers, secret), JSON.parse(payload));
  const ours = signWebhook(payload, id, Math.floor(timestamp.getTime() / 1000), secret);
  assert.equal(ours, signature, "our core signs exactly as the reference library");
});

test("owners and admins only; members get 403 permission", async () => {
  const member = seedOrg(fx.server, { name: "members", role: "member" });
  for (const r of [await read(member.key), await rotate(member.key)]) {
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, /permission/);
  }
  assert.equal(fx.server.sql(`SELECT COUNT(*) AS n FROM webhook_secrets WHERE org_id = '${member.org}'`)[0].n, 0, "nothing created");
});

test("20 concurrent rotations make exactly one; the old secret verifies nothing new; audited without the secret", async () => {
  const org = seedOrg(fx.server, { name: "rotating" });
  const before = (await read(org.key)).body.data.secret;
  const answers = await Promise.all(Array.from({ length: 20 }, () => rotate(org.key)));
  const ok = answers.filter((a) => a.status === 200);
  const limited = answers.filter((a) => a.status === 429);
  assert.equal(ok.length, 1, `one rotation: ${answers.map((a) => a.status)}`);
  assert.equal(limited.length, 19);
  for (const r of limited) {
    assert.equal(r.body.error.code, "rate_limit_exceeded");
    const retry = Number(r.headers.get("retry-after"));
    assert.ok(retry > 3500 && retry <= 3600, `Retry-After ${retry}`);
  }
  const after = ok[0].body.data.secret;
  assert.notEqual(after, before);
  assert.equal((await read(org.key)).body.data.secret, after, "reads see the new secret");
  assert.ok(ok[0].body.data.next_rotation_at);

  const payload = '{"type":"key.revoked"}';
  const ts = Math.floor(Date.now() / 1000);
  const signed = { "webhook-id": "msg_2", "webhook-timestamp": String(ts), "webhook-signature": signWebhook(payload, "msg_2", ts, after) };
  assert.throws(() => new Webhook(before).verify(payload, signed), "the old secret verifies nothing signed with the new one");
  assert.throws(() => verifyWebhook(payload, signed, before));
  assert.deepEqual(verifyWebhook(payload, signed, after), JSON.parse(payload));

  let entries = [];
  for (let i = 0; i < 50 && entries.length < 2; i++) {
    entries = fx.server.sql(`SELECT event, detail, reason FROM audit_events WHERE org_id = '${org.org}' AND event LIKE 'webhook_secret.%'`);
    if (entries.length < 2) await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual([...new Set(entries.map((e) => e.event))].sort(), ["webhook_secret.read", "webhook_secret.rotated"]);
  assert.equal(entries.filter((e) => e.event === "webhook_secret.rotated").length, 1);
  const all = JSON.stringify(fx.server.sql("SELECT * FROM audit_events"));
  for (const secret of [before, after]) assert.ok(!all.includes(secret.slice(6, 30)), "no secret in the audit log");
});
