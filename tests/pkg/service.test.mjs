// `Client` in Node against a real `wrangler dev`: the Primatomic seed's examples one to
// one, `new Client()` from the environment, whoami, API keys, namespaces and values (a
// binary round trip, listKeys over several pages), audit, a TokenSource refreshed after
// a real 401, entities and their credentials, the /auth family (login, orgs, logout,
// signup and verification, reset, invitations) and an OAuth grant. The package is
// imported by path (this checkout's build): node_modules/keyward may point at another
// checkout.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  AuthenticationError,
  Client,
  ConflictError,
  KeywardError,
  NotFoundError,
  PermissionError,
  RateLimitError,
  ValidationError,
  checkNamespaceName,
  keyPrefix,
  parseKey,
} from "../../pkg/dist/node.js";
import { bootstrap, call, keyward } from "../e2e/helpers.mjs";
import { oauthKit } from "../e2e/oauth-helpers.mjs";

let server;
let owner; // the bootstrap answer: the org's first owner and its key (namespaces ["*"])
let admin; // a Client with the owner key
let member; // a Client with the key of a member (a service entity, no namespaces)

before(async () => {
  server = await keyward({ prefix: "ptmc", vars: { ALLOW_UNVERIFIED_EMAIL_LOGIN: "true" } });
  owner = await bootstrap(server);
  admin = new Client({ endpoint: server.origin, token: owner.plain_key });
  await admin.namespaces.create("myapp");
  await admin.namespaces.create("other");
  const svc = await admin.entities.create({ kind: "service", name: "member-svc", role: "member" });
  member = new Client({ endpoint: server.origin, token: (await admin.credentials.createApiKey(svc.id)).key });
});

after(async () => {
  await server?.stop();
  server?.cleanup();
});

const as = (token) => new Client({ endpoint: server.origin, token });
const utf8 = (text) => new TextEncoder().encode(text);

/** The newest mail to `email` whose subject matches (the dev outbox; mail leaves after the answer). */
async function mailTo(email, subject) {
  for (let i = 0; i < 50; i++) {
    const box = await call(server.origin, "GET", `/dev/outbox?to=${encodeURIComponent(email)}`);
    const item = box.body.items.find((m) => subject.test(m.subject));
    if (item) return item;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail matching ${subject} for ${email}`);
}
const tokenIn = (mail, letter) => mail.text.match(new RegExp(`ptmc${letter}_[A-Za-z0-9_-]{43}`))[0];

test("the Primatomic seed, one to one: a granted namespace works, another fails on permission, a bad token on authentication", async () => {
  const credential = await admin.apiKeys.create({ name: "myapp only", namespaces: ["myapp"] });
  // client = primatomic.Client(endpoint=..., jwt_token=...)
  const client = new Client({ endpoint: server.origin, token: credential.plain_key });
  // client.put_key("myapp", "mykey", b"myvalue")  ✅ Allowed
  assert.deepEqual(await client.putKey("myapp", "mykey", utf8("myvalue")), { namespace: "myapp", key: "mykey", size: 7 });
  // client.put_key("other", "mykey", b"value")  ❌ Forbidden
  const denied = await client.putKey("other", "mykey", utf8("value")).catch((e) => e);
  assert.ok(denied instanceof PermissionError && denied instanceof KeywardError);
  assert.ok(denied.message.toLowerCase().includes("permission"), denied.message);
  assert.equal(denied.status, 403);
  assert.equal(denied.code, "forbidden");
  assert.match(denied.requestId, /^req_/);
  // except PrimatomicError as e: "authentication" in str(e).lower()
  const stranger = new Client({ endpoint: server.origin, token: `ptmc_${"A".repeat(43)}` });
  const refused = await stranger.putKey("myapp", "mykey", utf8("value")).catch((e) => e);
  assert.ok(refused instanceof AuthenticationError && refused instanceof KeywardError);
  assert.ok(refused.message.toLowerCase().includes("authentication"), refused.message);
  assert.equal(refused.status, 401);
  assert.equal(await admin.getKey("other", "mykey"), null, "the refused write wrote nothing");
  assert.equal(new TextDecoder().decode(await client.getKey("myapp", "mykey")), "myvalue");
});

test("the seed's environment variables: new Client() reads KEYWARD_ENDPOINT and KEYWARD_TOKEN", async (t) => {
  const saved = { e: process.env.KEYWARD_ENDPOINT, t: process.env.KEYWARD_TOKEN };
  t.after(() => {
    for (const [name, value] of [["KEYWARD_ENDPOINT", saved.e], ["KEYWARD_TOKEN", saved.t]]) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  const credential = await admin.apiKeys.create({ name: "from env", namespaces: ["myapp"] });
  process.env.KEYWARD_ENDPOINT = server.origin;
  process.env.KEYWARD_TOKEN = credential.plain_key;
  const client = new Client();
  const me = await client.whoami();
  assert.equal(me.key_id, credential.id);
  await client.putKey("myapp", "env", "set from the environment");
  assert.equal(new TextDecoder().decode(await client.getKey("myapp", "env")), "set from the environment");
});

test("whoami: what the owner key resolves to", async () => {
  const me = await admin.whoami();
  assert.equal(me.org_id, owner.org_id);
  assert.equal(me.role, "owner");
  assert.equal(me.auth_method, "api_key");
  assert.deepEqual(me.namespaces, ["*"]);
  assert.equal(me.key_prefix, keyPrefix(owner.plain_key));
  assert.match(me.request_id, /^req_/);
  assert.equal(me.client_id, null);
});

test("API keys: create, get, list over pages, update, revoke; a revoked key is refused at once", async () => {
  const created = await admin.apiKeys.create({ name: "ci", rate_limit_rpm: 120, namespaces: ["myapp"] });
  assert.equal(created.key_prefix, keyPrefix(created.plain_key));
  assert.equal(parseKey(created.plain_key).scheme, "lookup");
  assert.deepEqual(created.namespaces, ["myapp"]);
  const idSecret = await admin.apiKeys.create({ name: "device", scheme: "id_secret" });
  assert.equal(parseKey(idSecret.plain_key).credentialId, idSecret.id);

  const got = await admin.apiKeys.get(created.id);
  assert.equal(got.name, "ci");
  assert.equal("plain_key" in got, false, "the plain key is shown once");

  const seen = [];
  for await (const key of admin.apiKeys.list({ limit: 2 })) seen.push(key.id);
  assert.ok(seen.length >= 3 && seen.includes(created.id) && seen.includes(idSecret.id));
  assert.equal(new Set(seen).size, seen.length, "no key twice across pages");
  const first = await admin.apiKeys.list().page({ limit: 2 });
  assert.equal(first.items.length, 2);
  assert.equal(typeof first.nextCursor, "string");
  const second = await admin.apiKeys.list().page({ cursor: first.nextCursor, limit: 2 });
  assert.notEqual(second.items[0].id, first.items[0].id);

  const expires = new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d+Z$/, "Z");
  const updated = await admin.apiKeys.update(created.id, { name: "ci-renamed", rate_limit_rpm: 30, expires_at: expires, namespaces: ["myapp", "other"] });
  assert.equal(updated.name, "ci-renamed");
  assert.equal(updated.rate_limit_rpm, 30);
  assert.equal(updated.expires_at, expires);
  assert.deepEqual(updated.namespaces, ["myapp", "other"]);
  await as(created.plain_key).putKey("other", "now-allowed", "x");
  assert.equal((await admin.apiKeys.update(created.id, { expires_at: null })).expires_at, null);

  const revoked = await admin.apiKeys.revoke(created.id);
  assert.notEqual(revoked.revoked_at, null);
  assert.deepEqual(await admin.apiKeys.revoke(created.id), revoked, "idempotent");
  await assert.rejects(as(created.plain_key).whoami(), AuthenticationError);
  await assert.rejects(admin.apiKeys.update(created.id, { name: "again" }), ConflictError);
  await assert.rejects(admin.apiKeys.get("0".repeat(32)), NotFoundError);
  const invalid = await admin.apiKeys.create({ name: "" }).catch((e) => e);
  assert.ok(invalid instanceof ValidationError);
  assert.equal(invalid.status, 400);
});

test("namespaces and values: binary round trip, odd keys, listKeys over several pages, limits, deletion", async () => {
  const ns = await admin.namespaces.create("bin");
  assert.equal(ns.name, "bin");
  await assert.rejects(admin.namespaces.create("bin"), ConflictError);
  // The service checks names with the same core the helper runs: the same code.
  const bad = await admin.namespaces.create("Bad Name").catch((e) => e);
  assert.ok(bad instanceof ValidationError);
  assert.throws(() => checkNamespaceName("Bad Name"), { code: bad.code });

  const every = Uint8Array.from({ length: 256 }, (_, i) => i);
  await admin.putKey("bin", "all-bytes", every);
  assert.deepEqual(await admin.getKey("bin", "all-bytes"), every);
  for (const key of ["a/b", "with space", "é✓", "%2e", "+plus", "?q#f", "../up"]) {
    await admin.putKey("bin", key, key);
    assert.equal(new TextDecoder().decode(await admin.getKey("bin", key)), key, key);
  }
  assert.equal(await admin.getKey("bin", "missing"), null);
  assert.deepEqual(await admin.deleteKey("bin", "a/b"), { namespace: "bin", key: "a/b", deleted: true });
  assert.equal(await admin.getKey("bin", "a/b"), null);
  await admin.deleteKey("bin", "a/b"); // idempotent

  const names = Array.from({ length: 7 }, (_, i) => `page/${i}`);
  for (const name of names) await admin.putKey("bin", name, "v");
  const listed = [];
  for await (const key of admin.listKeys("bin", { prefix: "page/", limit: 3 })) listed.push(key);
  assert.deepEqual(listed, names);
  const one = await admin.listKeys("bin", { prefix: "page/" }).page({ limit: 3 });
  assert.deepEqual(one.items, names.slice(0, 3));
  assert.equal(typeof one.nextCursor, "string");
  const rest = await admin.listKeys("bin", { prefix: "page/" }).page({ cursor: one.nextCursor, limit: 100 });
  assert.deepEqual(rest, { items: names.slice(3), nextCursor: null });
  const everything = [];
  for await (const key of admin.listKeys("bin")) everything.push(key);
  assert.ok(everything.includes("all-bytes") && everything.includes("é✓"));

  const tooBig = await admin.putKey("bin", "big", new Uint8Array(1024 * 1024 + 1)).catch((e) => e);
  assert.ok(tooBig instanceof ValidationError);
  assert.equal(tooBig.status, 413);
  await admin.putKey("bin", "max", new Uint8Array(1024 * 1024));
  assert.equal((await admin.getKey("bin", "max")).length, 1024 * 1024);

  const namespaces = [];
  for await (const n of admin.namespaces.list({ limit: 1 })) namespaces.push(n.name);
  assert.deepEqual(namespaces, ["bin", "myapp", "other"]);

  await assert.rejects(member.namespaces.delete("bin"), PermissionError);
  assert.deepEqual(await admin.namespaces.delete("bin"), { name: "bin", deleted: true });
  assert.equal(await admin.getKey("bin", "all-bytes"), null, "a deleted namespace's values are gone");
  await assert.rejects(admin.putKey("bin", "k", "v"), NotFoundError);
});

test("audit: filtered by event and by key, paginated", async () => {
  const minted = await admin.apiKeys.create({ name: "audited" });
  await admin.apiKeys.revoke(minted.id);
  const events = [];
  for await (const e of admin.audit.list({ key: minted.id })) events.push(e.event);
  assert.deepEqual(events, ["key.revoked", "key.minted"], "newest first");
  const byPrefix = [];
  for await (const e of admin.audit.list({ key: minted.key_prefix, event: "key.minted" })) byPrefix.push(e.credential_id);
  assert.deepEqual(byPrefix, [minted.id]);
  let pages = 0;
  let cursor = null;
  do {
    const page = await admin.audit.list({ event: "key.minted", limit: 2 }).page({ cursor });
    assert.ok(page.items.every((e) => e.event === "key.minted"));
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor);
  assert.ok(pages >= 2, `${pages} pages`);
  const denied = await member.audit.list().page().catch((e) => e);
  assert.ok(denied instanceof PermissionError);
});

test("a TokenSource whose token the service refuses is asked to refresh once, and the call succeeds", async () => {
  const stale = await admin.apiKeys.create({ name: "stale" });
  await admin.apiKeys.revoke(stale.id);
  const fresh = await admin.apiKeys.create({ name: "fresh", namespaces: ["myapp"] });
  const asked = [];
  const source = {
    async getToken(options) {
      asked.push(Boolean(options?.forceRefresh));
      return options?.forceRefresh ? fresh.plain_key : stale.plain_key;
    },
  };
  const client = new Client({ endpoint: server.origin, token: source });
  assert.equal((await client.whoami()).key_id, fresh.id);
  assert.deepEqual(asked, [false, true]);
});

test("entities and credentials (the Atom seed): a service, its id_secret key, listing, revocation, suspension", async () => {
  const svc = await admin.entities.create({ kind: "service", name: "billing" });
  assert.equal(svc.kind, "service");
  assert.equal((await admin.entities.get(svc.id)).name, "billing");
  const all = [];
  for await (const e of admin.entities.list({ limit: 1 })) all.push(e.id);
  assert.ok(all.includes(svc.id) && all.includes(owner.entity_id));

  const key = await admin.credentials.createApiKey(svc.id, { description: "device-01 production key" });
  assert.match(key.key, /^ptmc_[0-9a-f]{32}_[0-9a-f]{64}$/);
  assert.equal(parseKey(key.key).credentialId, key.credential_id);
  const asService = as(key.key);
  assert.equal((await asService.whoami()).user_id, svc.id);
  assert.equal((await asService.entities.get(svc.id)).id, svc.id, "anyone reads themselves");

  const items = await admin.credentials.list(svc.id);
  assert.deepEqual(items.map((c) => [c.id, c.kind, c.status]), [[key.credential_id, "api_key", "active"]]);
  assert.equal(items[0].identifier, `${key.key.slice(0, 12)}...`);
  const revoked = await admin.credentials.revoke(svc.id, key.credential_id);
  assert.equal(revoked.status, "revoked");
  await assert.rejects(asService.whoami(), AuthenticationError);

  const second = await admin.credentials.createApiKey(svc.id);
  await as(second.key).whoami();
  assert.equal((await admin.entities.update(svc.id, { status: "suspended" })).status, "suspended");
  await assert.rejects(as(second.key).whoami(), AuthenticationError, "a suspended entity's keys fail at once");
  await assert.rejects(admin.entities.get("ent_" + "0".repeat(32)), NotFoundError);
  await assert.rejects(admin.credentials.setPassword(svc.id, "a fine long passphrase"), ValidationError, "a service has no password");
});

test("/auth: a password, login (the session token), orgs, whoami as the session, logout", async () => {
  // A person the org holds (created here, never verified): an admin may set their password.
  const alice = await admin.entities.create({ kind: "human", name: "Alice", email: "alice@acme.example", role: "admin" });
  const password = "correct horse battery staple 42";
  const set = await admin.credentials.setPassword(alice.id, password);
  assert.equal(set.kind, "password");
  const anonymous = new Client({ endpoint: server.origin, token: null });
  const wrong = await anonymous.auth.login({ identifier: "alice@acme.example", secret: "not the password" }).catch((e) => e);
  assert.ok(wrong instanceof AuthenticationError);
  assert.ok(wrong.message.toLowerCase().includes("authentication"), wrong.message);

  const session = await anonymous.auth.login({ identifier: "Alice@ACME.example", secret: password });
  assert.match(session.token, /^eyJ/);
  assert.equal(session.entity_id, alice.id);
  const person = anonymous.withToken(session.token);
  const who = await person.whoami();
  assert.equal(who.auth_method, "session");
  assert.equal(who.user_id, alice.id);
  assert.deepEqual(who.namespaces, ["*"]);
  const orgs = await person.auth.orgs();
  assert.deepEqual(orgs.map((o) => [o.org_id, o.role, o.current]), [[owner.org_id, "admin", true]]);
  await person.putKey("myapp", "from-session", "s");
  assert.deepEqual(await person.auth.logout(), { session_id: session.session_id, revoked: true });
  await assert.rejects(person.whoami(), AuthenticationError);
  await assert.rejects(admin.auth.orgs(), ValidationError, "orgs needs a session, not a key");
});

test("/auth: signup and email verification, password reset, an invitation accepted; members and invitations", async () => {
  const anonymous = new Client({ endpoint: server.origin, token: null });
  const email = `pat-${Date.now()}@example.org`;
  const signed = await anonymous.auth.signup({ name: "Pat", email, password: "a sturdy passphrase 7" });
  assert.equal(signed.status, "verification_sent");
  assert.equal((await anonymous.auth.resendVerification(email)).status, "verification_sent");
  const verified = await anonymous.auth.verifyEmail(tokenIn(await mailTo(email, /Verify/), "v"));
  assert.equal(verified.verified, true);
  await assert.rejects(anonymous.auth.verifyEmail(tokenIn(await mailTo(email, /Verify/), "v")), ValidationError, "single use");

  assert.equal((await anonymous.auth.requestPasswordReset(email)).status, "reset_sent");
  const reset = await anonymous.auth.confirmPasswordReset({ token: tokenIn(await mailTo(email, /reset/i), "r"), password: "a brand new passphrase 8" });
  assert.equal(reset.reset, true);
  const pat = anonymous.withToken((await anonymous.auth.login({ identifier: email, secret: "a brand new passphrase 8" })).token);
  const changed = await pat.auth.changePassword({ current: "a brand new passphrase 8", password: "yet another passphrase 9" });
  assert.equal(changed.changed, true);

  // Invite an unknown address, withdraw it; invite again and accept (creating the account).
  const invitee = `new-${Date.now()}@example.org`;
  const added = await admin.members.add({ email: invitee, role: "member" });
  assert.equal(added.status, "accepted");
  const pending = [];
  for await (const i of admin.invitations.list()) pending.push(i);
  const invitation = pending.find((i) => i.email === invitee);
  assert.equal(invitation.status, "pending");
  assert.equal((await admin.invitations.withdraw(invitation.id)).status, "withdrawn");
  await admin.members.add({ email: invitee });
  const accepted = await anonymous.auth.acceptInvitation({ token: tokenIn(await mailTo(invitee, /invited/i), "i"), password: "joining passphrase 10" });
  assert.equal(accepted.account_created, true);
  assert.equal(accepted.org_id, owner.org_id);
  const members = [];
  for await (const m of admin.members.list()) members.push(m);
  assert.ok(members.some((m) => m.id === accepted.entity_id && m.email === invitee));
  assert.equal((await admin.members.remove(accepted.entity_id)).status, "deleted");
  await assert.rejects(admin.members.remove(accepted.entity_id), NotFoundError);

  await assert.rejects(member.members.add({ email: "x@example.org" }), PermissionError);
});

test("grants: an OAuth access token works as a credential; its grant is listed and revoking it ends the token", async () => {
  assert.deepEqual(await admin.grants.list().page(), { items: [], nextCursor: null }, "an API key made no grant");
  await assert.rejects(admin.grants.revoke("0".repeat(32)), NotFoundError);

  const kit = oauthKit({ server, owner });
  await kit.ready();
  const { params, verifier } = await kit.codeFlow(kit.ctx.who, { org: owner.org_id });
  const tokens = await kit.exchange(params, verifier);
  const app = as(tokens.access_token);
  const who = await app.whoami();
  assert.equal(who.auth_method, "oauth");
  assert.equal(who.client_id, kit.ctx.client.client_id);
  assert.equal(who.org_id, owner.org_id);
  await app.putKey("myapp", "via-oauth", "o");

  const grants = [];
  for await (const g of app.grants.list()) grants.push(g);
  assert.equal(grants.length, 1);
  assert.equal(grants[0].client_id, kit.ctx.client.client_id);
  assert.equal(grants[0].status, "active");
  const revoked = await app.grants.revoke(grants[0].id);
  assert.equal(revoked.status, "revoked");
  await assert.rejects(app.whoami(), AuthenticationError);
});

test("webhooks: the org's secret (read, rotate once, RateLimitError after), endpoints CRUD; members get PermissionError", async () => {
  const first = await admin.webhookSecret.get();
  assert.match(first.secret, /^whsec_/);
  assert.equal((await admin.webhookSecret.get()).secret, first.secret, "created once");
  const rotated = await admin.webhookSecret.rotate();
  assert.notEqual(rotated.secret, first.secret);
  const again = await admin.webhookSecret.rotate().catch((e) => e);
  assert.ok(again instanceof RateLimitError, "one rotation per 60 minutes");
  assert.ok(again.retryAfter > 3500);
  await assert.rejects(member.webhookSecret.get(), PermissionError);

  const endpoint = await admin.webhooks.create({ url: "https://hooks.example.com/sdk", event_types: ["key.minted"] });
  assert.deepEqual(endpoint.event_types, ["key.minted"]);
  const listed = [];
  for await (const w of admin.webhooks.list()) listed.push(w.id);
  assert.ok(listed.includes(endpoint.id));
  assert.equal((await admin.webhooks.update(endpoint.id, { enabled: false })).enabled, false);
  await assert.rejects(admin.webhooks.create({ url: "http://hooks.example.com/" }), ValidationError, "https only (http on loopback in development)");
  await admin.webhooks.delete(endpoint.id);
  await assert.rejects(admin.webhooks.get(endpoint.id), NotFoundError);
});
