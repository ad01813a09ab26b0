// The `http` mail transport against a real HTTP endpoint: a small email API on loopback
// that records what the Worker POSTs (from, to, subject, text; bearer token).
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { call, keyward } from "./helpers.mjs";

test("MAIL_TRANSPORT=http POSTs each message as JSON to MAIL_HTTP_URL with the bearer token", async () => {
  const received = [];
  const api = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ method: req.method, path: req.url, auth: req.headers.authorization, type: req.headers["content-type"], body: JSON.parse(body) });
      res.writeHead(202, { "content-type": "application/json" }).end('{"queued":true}');
    });
  });
  await new Promise((r) => api.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${api.address().port}/v1/send`;
  const server = await keyward({
    prefix: "atom",
    vars: { MAIL_TRANSPORT: "http", MAIL_HTTP_URL: url, MAIL_HTTP_TOKEN: "mail-api-token-for-tests", MAIL_FROM: "Keyward <auth@example.com>" },
  });
  try {
    const signup = await call(server.origin, "POST", "/auth/signup", { body: { name: "Alice", email: "alice@example.com", password: "a-long-passphrase-7" } });
    assert.equal(signup.status, 202);
    for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(received.length, 1, "one message delivered");
    const [mail] = received;
    assert.equal(mail.method, "POST");
    assert.equal(mail.path, "/v1/send");
    assert.equal(mail.auth, "Bearer mail-api-token-for-tests");
    assert.match(mail.type, /^application\/json/);
    assert.deepEqual(Object.keys(mail.body).sort(), ["from", "subject", "text", "to"]);
    assert.equal(mail.body.from, "Keyward <auth@example.com>");
    assert.equal(mail.body.to, "alice@example.com");
    const token = mail.body.text.match(/token=(atomv_[A-Za-z0-9_-]{43})/)[1];
    assert.equal((await call(server.origin, "GET", `/auth/email/verify?token=${token}`)).status, 200, "the mailed link works");
    const outbox = await call(server.origin, "GET", "/dev/outbox");
    assert.deepEqual(outbox.body.items, [], "nothing went to the outbox");
  } finally {
    await server.stop();
    server.cleanup();
    api.close();
  }
});
