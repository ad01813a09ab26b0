// Webhook deliveries survive a crash (issue 10): with deliveries pending (the receiver
// refuses connections), `wrangler dev` and its workerd are killed with SIGKILL and
// started again on the same state; every pending delivery still arrives, each with the
// webhook-id it had, once the receiver listens. And the URL is checked again at each
// delivery: a loopback endpoint registered under ENVIRONMENT=development gets nothing
// once the same state runs in production settings.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import { bootstrap, client, keyward } from "./helpers.mjs";
import { startReceiver } from "./webhook-receiver.mjs";
import { freePort } from "../../scripts/devserver.mjs";

const EVENTS = 30;
let server;
let owner;
before(async () => {
  server = await keyward({ vars: { WEBHOOK_RETRY_SCHEDULE: Array(20).fill("2").join(","), WEBHOOK_TIMEOUT_SECONDS: "2" } });
  owner = await bootstrap(server);
});
after(async () => {
  await server?.stop();
  server?.cleanup();
});

test(`${EVENTS} pending deliveries survive workerd being killed and restarted`, async () => {
  const api = () => client(server.origin, owner.plain_key);
  const port = await freePort();
  const endpoint = (await api().post("/v1/webhooks", { url: `http://127.0.0.1:${port}/hook`, event_types: ["key.minted"] })).body.data;
  const secret = (await api().get("/v1/account/webhook-secret")).body.data.secret;
  for (let i = 0; i < EVENTS; i++) assert.equal((await api().post("/v1/keys", { name: `k${i}` })).status, 201);
  // Wait until every delivery has failed at least once: they are queued and pending.
  const pendingIds = async () => {
    const rows = server.sql(`SELECT msg_id, attempts, status FROM webhook_deliveries WHERE endpoint_id = '${endpoint.id}'`);
    return rows;
  };
  let rows = [];
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    rows = await pendingIds();
    if (rows.length === EVENTS && rows.every((r) => r.attempts >= 1)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(rows.length, EVENTS, "every event queued");
  assert.ok(rows.every((r) => r.status === "pending" && r.attempts >= 1), JSON.stringify(rows));

  const queuedAt = Date.now();
  await server.kill();
  const rx = await startReceiver({ port });
  await server.restart();
  const restartedAt = Date.now();
  await rx.until((r) => new Set(r.map((d) => d.headers["webhook-id"])).size >= EVENTS, 90_000, `${EVENTS} deliveries after the restart`);
  const arrived = new Set(rx.received.map((d) => d.headers["webhook-id"]));
  console.log(
    `webhook restart: ${arrived.size} of ${EVENTS} pending deliveries arrived after workerd was killed and restarted ` +
      `(restart took ${restartedAt - queuedAt} ms; the last delivery came ${Date.now() - restartedAt} ms after it)`,
  );
  assert.deepEqual([...arrived].sort(), rows.map((r) => r.msg_id).sort());
  for (const d of rx.received) assert.equal(new Webhook(secret).verify(d.body, d.headers).type, "key.minted");
  await rx.close();
});

test("the URL is checked again at delivery: a loopback endpoint gets nothing in production settings", async () => {
  const rx = await startReceiver();
  const endpoint = (await client(server.origin, owner.plain_key).post("/v1/webhooks", { url: rx.url, event_types: ["key.minted"] })).body.data;
  await server.restart({ ENVIRONMENT: "production", DEV_OUTBOX: "false", DEV_CLIENT_CERT_HEADER: "false", SELF_REGISTRATION_ENABLED: "false" });
  const api = client(server.origin, owner.plain_key);
  assert.equal((await api.post("/v1/keys", { name: "not-for-loopback" })).status, 201);
  let log;
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    const [delivery] = (await api.get(`/v1/webhooks/${endpoint.id}/deliveries`)).body.data;
    log = delivery && (await api.get(`/v1/webhooks/${endpoint.id}/deliveries/${delivery.msg_id}`)).body.data.attempt_log;
    if (log?.length) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(log?.[0]?.error, "url_refused", JSON.stringify(log));
  assert.equal(rx.received.length, 0, "nothing was sent to the loopback address");
  await rx.close();
});
