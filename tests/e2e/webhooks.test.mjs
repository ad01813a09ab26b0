// Webhook endpoints (issue 10, part 2) against a real `wrangler dev` in production
// settings (ENVIRONMENT=production): create, list, read, update, delete; owners and
// admins only; another org's endpoint is 404; and the SSRF table: URLs that point at the
// service's own network, in every spelling, are refused at registration and at update
// with 400 `invalid_url`, and nothing is written.
import { test } from "node:test";
import assert from "node:assert/strict";
import { call, client, seedOrg, useKeyward } from "./helpers.mjs";

const fx = useKeyward({ prefix: "ptmc", vars: { ENVIRONMENT: "production", DEV_OUTBOX: "false", DEV_CLIENT_CERT_HEADER: "false", SELF_REGISTRATION_ENABLED: "false" } });
const owner = () => client(fx.server.origin, fx.owner.plain_key);

/** Refused in production: loopback, private, link-local, metadata, in every spelling. */
const SSRF = [
  "https://127.0.0.1/hook",
  "https://2130706433/hook",
  "https://0177.0.0.1/hook",
  "https://0x7f.0.0.1/hook",
  "https://0x7f000001/hook",
  "https://127.1/hook",
  "https://0/hook",
  "https://0.0.0.0/hook",
  "https://10.0.0.1/hook",
  "https://172.16.5.4/hook",
  "https://192.168.0.1/hook",
  "https://100.64.0.1/hook",
  "https://169.254.169.254/latest/meta-data/",
  "https://[::1]/hook",
  "https://[::]/hook",
  "https://[::ffff:127.0.0.1]/hook",
  "https://[::ffff:7f00:1]/hook",
  "https://[0:0:0:0:0:ffff:7f00:1]/hook",
  "https://[fe80::1]/hook",
  "https://[fd00::1]/hook",
  "https://[64:ff9b::7f00:1]/hook",
  "https://localhost/hook",
  "https://hooks.localhost/hook",
  "https://metadata.google.internal/computeMetadata/v1/",
  "https://printer.local/hook",
  "https://intranet/hook",
  "http://127.0.0.1:8080/hook",
  "http://hooks.example.com/hook",
  "https://hooks.example.com@127.0.0.1/hook",
  "https://user:pass@hooks.example.com/hook",
  "ftp://hooks.example.com/hook",
  "javascript:alert(1)",
  "file:///etc/passwd",
  "gopher://127.0.0.1:6379/_INFO",
];

test("owners create, list, read, update and delete endpoints; defaults; another org's is 404", async () => {
  const created = await owner().post("/v1/webhooks", { url: "https://hooks.example.com/keyward", description: "billing" });
  assert.equal(created.status, 201, created.text);
  const e = created.body.data;
  assert.match(e.id, /^whk_[0-9a-f]{32}$/);
  assert.deepEqual(e.event_types, ["*"], "every event by default");
  assert.equal(e.enabled, true);
  assert.deepEqual((await owner().get(`/v1/webhooks/${e.id}`)).body.data, e);
  const listed = await owner().get("/v1/webhooks");
  assert.ok(listed.body.data.some((w) => w.id === e.id));
  const patched = await owner().patch(`/v1/webhooks/${e.id}`, { event_types: ["key.revoked", "key.minted"], enabled: false });
  assert.equal(patched.status, 200);
  assert.deepEqual(patched.body.data.event_types, ["key.minted", "key.revoked"]);
  assert.equal(patched.body.data.enabled, false);
  assert.equal((await owner().patch(`/v1/webhooks/${e.id}`, { event_types: ["key.deleted"] })).body.error.code, "invalid_event_types");
  assert.equal((await owner().patch(`/v1/webhooks/${e.id}`, { secret: "x" })).status, 400, "unknown fields are refused");

  const other = seedOrg(fx.server, { name: "elsewhere" });
  assert.equal((await call(fx.server.origin, "GET", `/v1/webhooks/${e.id}`, { token: other.key })).status, 404);
  assert.equal((await call(fx.server.origin, "DELETE", `/v1/webhooks/${e.id}`, { token: other.key })).status, 404);
  const member = seedOrg(fx.server, { name: "members", role: "member" });
  const denied = await call(fx.server.origin, "POST", "/v1/webhooks", { token: member.key, body: { url: "https://hooks.example.com/x" } });
  assert.equal(denied.status, 403);
  assert.match(denied.body.error.message, /permission/);

  assert.equal((await owner().del(`/v1/webhooks/${e.id}`)).status, 200);
  assert.equal((await owner().get(`/v1/webhooks/${e.id}`)).status, 404);
});

test(`SSRF: ${SSRF.length} URLs pointing at the service's own network are refused at registration and update; nothing is written`, async () => {
  assert.ok(SSRF.length >= 25);
  const before = fx.server.sql("SELECT COUNT(*) AS n FROM webhook_endpoints")[0].n;
  const kept = (await owner().post("/v1/webhooks", { url: "https://hooks.example.com/kept" })).body.data;
  for (const url of SSRF) {
    const r = await owner().post("/v1/webhooks", { url });
    assert.equal(r.status, 400, `${url}: ${r.status}`);
    assert.match(r.body.error.code, /^invalid_(url|request)$/, url);
    const p = await owner().patch(`/v1/webhooks/${kept.id}`, { url });
    assert.equal(p.status, 400, `PATCH ${url}`);
  }
  assert.equal(fx.server.sql("SELECT COUNT(*) AS n FROM webhook_endpoints")[0].n, before + 1, "only the kept endpoint was written");
  assert.equal((await owner().get(`/v1/webhooks/${kept.id}`)).body.data.url, "https://hooks.example.com/kept", "unchanged");
});
