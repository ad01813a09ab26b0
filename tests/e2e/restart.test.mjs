// Persistence across a restart of `wrangler dev`, with the Atom seed's prefix: keys
// minted before still verify, revoked ones stay revoked, spent rate windows stay spent.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { bootstrap, call, keyward } from "./helpers.mjs";

let server;
before(async () => {
  server = await keyward({ prefix: "atom" });
});
after(async () => {
  await server?.stop();
  server?.cleanup();
});

test("keys survive a restart; revocations and spent windows do too", async () => {
  const owner = await bootstrap(server);
  assert.match(owner.plain_key, /^atom_/);
  const minted = [];
  for (const scheme of ["lookup", "id_secret", "lookup", "id_secret"]) {
    const r = await call(server.origin, "POST", "/v1/keys", { token: owner.plain_key, body: { name: `k-${scheme}`, scheme, rate_limit_rpm: 3 } });
    assert.equal(r.status, 201);
    minted.push(r.body.data);
  }
  assert.match(minted[1].plain_key, /^atom_[0-9a-f]{32}_[0-9a-f]{64}$/);
  const [keepLookup, keepIds, revokeLookup, revokeIds] = minted;
  for (const k of [revokeLookup, revokeIds]) {
    assert.equal((await call(server.origin, "DELETE", `/v1/keys/${k.id}`, { token: owner.plain_key })).status, 200);
  }
  for (let i = 0; i < 3; i++) await call(server.origin, "GET", "/v1/whoami", { token: keepLookup.plain_key });
  assert.equal((await call(server.origin, "GET", "/v1/whoami", { token: keepLookup.plain_key })).status, 429);

  await server.restart();

  const status = async (k) => (await call(server.origin, "GET", "/v1/whoami", { token: k.plain_key })).status;
  assert.equal(await status({ plain_key: owner.plain_key }), 200, "bootstrap key still verifies");
  assert.equal(await status(keepIds), 200, "id_secret key still verifies");
  assert.equal(await status(keepLookup), 429, "its spent window was persisted");
  assert.equal(await status(revokeLookup), 401, "revoked lookup key stays revoked");
  assert.equal(await status(revokeIds), 401, "revoked id_secret key stays revoked");
  const listed = await call(server.origin, "GET", "/v1/keys?limit=100", { token: owner.plain_key });
  assert.equal(listed.body.data.length, 5);
});
