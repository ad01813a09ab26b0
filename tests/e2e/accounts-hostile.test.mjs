// Hostile input at the endpoints for people in several orgs (issue 8): /v1/members,
// /v1/invitations, /auth/invitations/accept, /auth/orgs, /auth/login's org_id, the
// password change and reset endpoints, and PATCH /admin/accounts. Malformed, oversized,
// wrong-typed, mass-assigning, injected, cross-org, wrong-purpose and forged requests all
// get a 4xx in their family's shape, never a 5xx, and change nothing: every identity
// table is read back and compared with a snapshot taken before the barrage. Live tokens
// (a pending invitation, a reset link) are sent with bad passwords and must stay usable;
// a last test spends them to show they were. A second test checks that a login into an
// org the person is not (or no longer) in answers the bytes of a wrong password.
// KEYWARD_E2E_TRACE=1 prints each answer.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { bootstrap, call, keyward, seedOrg } from "./helpers.mjs";
import { bearer, changedTables, garbageCredentials, runBarrage, withoutRequestId } from "./barrage.mjs";

const b64 = (value) => Buffer.from(value).toString("base64url");
const password = () => `kw-${randomBytes(8).toString("hex")}-pass`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const hex32 = () => randomBytes(16).toString("hex");

let server;
/** Fixtures made through the API (and `seedOrg` for a second org). */
const fx = {};

/** A request that must succeed while setting up; returns its JSON body. */
async function ok(status, method, pathname, opts = {}) {
  const r = await call(server.origin, method, pathname, opts);
  assert.equal(r.status, status, `${method} ${pathname}: ${r.text}`);
  return r.body;
}

/** A person in the first org: a human entity with an email and a password set by the owner. */
async function person(email, name, role = "member") {
  const t = fx.owner.plain_key;
  const secret = password();
  const made = await ok(201, "POST", "/entities", { token: t, body: { kind: "human", name, email, role } });
  await ok(201, "POST", `/entities/${made.id}/credentials/password`, { token: t, body: { password: secret } });
  return { id: made.id, email, secret };
}

/** Marks addresses verified (as a followed link would) so their people can sign in. */
const markVerified = (...people) => server.sql(`UPDATE accounts SET email_verified_at = 1 WHERE email IN (${people.map((p) => `'${p.email}'`).join(", ")})`);

/** A session JWT for `who` (optionally in `org_id`). */
async function signIn(who, org_id) {
  const body = { identifier: who.email, secret: who.secret, ...(org_id ? { org_id } : {}) };
  return (await ok(200, "POST", "/auth/login", { body })).token;
}

/** The tokens (newest first) of the messages to `to` whose subject matches, once `count` arrived. */
async function mailed(to, subject, pattern, count = 1) {
  for (let i = 0; i < 150; i++) {
    const box = await ok(200, "GET", `/dev/outbox?to=${encodeURIComponent(to)}`);
    const items = box.items.filter((m) => subject.test(m.subject));
    if (items.length >= count) return items.map((m) => pattern.exec(m.text)?.[0]);
    await sleep(100);
  }
  throw new Error(`no ${count} message(s) "${subject}" for ${to}`);
}
const INVITE = /atomi_[A-Za-z0-9_-]{43}/;
const RESET = /atomr_[A-Za-z0-9_-]{43}/;
const VERIFY = /atomv_[A-Za-z0-9_-]{43}/;

/** The pending invitation of `email` in the caller's org. */
async function invitationOf(token, email) {
  const list = await ok(200, "GET", "/v1/invitations", { token });
  const found = list.data.find((i) => i.email === email);
  assert.ok(found, `no pending invitation for ${email}: ${JSON.stringify(list)}`);
  return found.id;
}

before(async () => {
  server = await keyward({ prefix: "atom" });
  fx.owner = await bootstrap(server);
  fx.org = fx.owner.org_id;
  fx.other = seedOrg(server, { name: "victim" });
  const t = fx.owner.plain_key;

  // People of the first org, verified, with sessions where the barrage needs them.
  fx.ada = await person("ada@acme.example", "Ada Admin", "admin");
  fx.mia = await person("mia@acme.example", "Mia Member");
  fx.lou = await person("lou@acme.example", "Lou Login");
  fx.rob = await person("rob@acme.example", "Rob Reset");
  fx.dan = await person("dan@acme.example", "Dan Disabled");
  fx.zed = await person("zed@acme.example", "Zed Removed");
  // A second owner: with one, removing an owner is refused as the last owner's (409)
  // before who asks is even considered, and the 403s below would not be reached.
  fx.olga = await person("olga@acme.example", "Olga Owner", "owner");
  markVerified(fx.ada, fx.mia, fx.lou, fx.rob, fx.dan, fx.zed, fx.olga);
  fx.adaJwt = await signIn(fx.ada);
  fx.miaJwt = await signIn(fx.mia);
  fx.loggedOut = await signIn(fx.ada);
  await ok(200, "POST", "/auth/logout", { token: fx.loggedOut });
  // Zed's membership is removed; Dan's account is disabled by the operator: both sessions die.
  fx.zedJwt = await signIn(fx.zed);
  await ok(200, "DELETE", `/v1/members/${fx.zed.id}`, { token: t });
  fx.danJwt = await signIn(fx.dan);
  await ok(200, "PATCH", "/admin/accounts", { token: server.vars.ADMIN_TOKEN, body: { email: fx.dan.email, status: "disabled" } });

  // Services of the first org with id_secret keys: a member, and an admin.
  const service = async (name, role) => {
    const made = await ok(201, "POST", "/entities", { token: t, body: { kind: "service", name, role } });
    const key = await ok(201, "POST", `/entities/${made.id}/credentials/api-keys`, { token: t, body: { description: `${name} key`, rate_limit_rpm: 1000 } });
    return { id: made.id, key: key.key };
  };
  fx.svc = await service("svc-member", "member");
  fx.admin = await service("svc-admin", "admin");

  // Invitations: one pending (its token is live), one withdrawn, one replaced by a newer one.
  fx.newbie = "newbie@invitee.example";
  await ok(202, "POST", "/v1/members", { token: t, body: { email: fx.newbie, name: "Newbie", role: "member" } });
  [fx.inviteToken] = await mailed(fx.newbie, /invited/, INVITE);
  fx.invId = await invitationOf(t, fx.newbie);
  await ok(202, "POST", "/v1/members", { token: t, body: { email: "gone@invitee.example" } });
  [fx.withdrawnToken] = await mailed("gone@invitee.example", /invited/, INVITE);
  fx.withdrawnId = await invitationOf(t, "gone@invitee.example");
  await ok(200, "DELETE", `/v1/invitations/${fx.withdrawnId}`, { token: t });
  await ok(202, "POST", "/v1/members", { token: t, body: { email: "twice@invitee.example" } });
  [fx.replacedToken] = await mailed("twice@invitee.example", /invited/, INVITE);
  await ok(202, "POST", "/v1/members", { token: t, body: { email: "twice@invitee.example" } });
  await mailed("twice@invitee.example", /invited/, INVITE, 2);
  // The victim org's own pending invitation.
  await ok(202, "POST", "/v1/members", { token: fx.other.key, body: { email: "stranger@victim.example" } });
  fx.victimInvId = await invitationOf(fx.other.key, "stranger@victim.example");

  // Reset links: Mia's is live; Rob's first was retired by his second, which he used
  // (ending his session).
  await ok(202, "POST", "/auth/password/reset", { body: { email: fx.mia.email } });
  [fx.resetToken] = await mailed(fx.mia.email, /Reset/, RESET);
  fx.robJwt = await signIn(fx.rob);
  await ok(202, "POST", "/auth/password/reset", { body: { email: fx.rob.email } });
  [fx.retiredReset] = await mailed(fx.rob.email, /Reset/, RESET);
  await ok(202, "POST", "/auth/password/reset", { body: { email: fx.rob.email } });
  [fx.usedReset] = await mailed(fx.rob.email, /Reset/, RESET, 2);
  assert.notEqual(fx.usedReset, fx.retiredReset);
  await ok(200, "POST", "/auth/password/reset/confirm", { body: { token: fx.usedReset, password: password() } });

  // A self-registered, unverified person: a live verification token and a personal org.
  fx.sam = { email: "sam@signup.example", secret: password() };
  await ok(202, "POST", "/auth/signup", { body: { name: "Sam Signup", email: fx.sam.email, password: fx.sam.secret } });
  [fx.verifyToken] = await mailed(fx.sam.email, /Verify/, VERIFY);
  fx.samOrg = server.sql(`SELECT e.org_id FROM entities e JOIN accounts a ON a.id = e.account_id WHERE a.email = '${fx.sam.email}'`)[0].org_id;
});
after(async () => {
  if (process.env.KEYWARD_E2E_LOG) console.log(server?.log());
  await server?.stop();
  server?.cleanup();
});

/**
 * The barrage: `[method, path, opts, expect?]`. `expect` is an exact status, or
 * `{ status, code?, message? }` (`message` a RegExp); without it any 4xx. `opts.raw` as
 * a string with a request line is sent over a raw socket. Nothing here may succeed:
 * every body that would pass validation carries a flaw that refuses it first.
 */
function hostileCases() {
  const { owner, other, ada, mia, lou, svc, admin, zed } = fx;
  const t = owner.plain_key;
  const ADMIN = server.vars.ADMIN_TOKEN;
  const big = "x".repeat(70 * 1024);
  const huge = "h".repeat(60_000); // under the 64 KiB body limit: refused by each field's own rule
  const email300 = `${"a".repeat(60)}@${"b".repeat(60)}.${"c".repeat(60)}.${"d".repeat(60)}.${"e".repeat(50)}.example`;
  const local65 = `${"l".repeat(65)}@acme.example`;
  const deepArray = `${"[".repeat(5000)}${"]".repeat(5000)}`;
  const deepObject = `${'{"a":'.repeat(3000)}1${"}".repeat(3000)}`;
  const crlf = "x\r\nSet-Cookie: kw=1\r\nX-Injected: 1";
  const bcc = (email) => `${email}\r\nBcc: victim@evil.example`;
  const sqlEmail = "x'or'1'='1@acme.example";
  const sqlOr = "' OR 1=1 --";
  const zeroEnt = `ent_${"0".repeat(32)}`;
  const zeroInv = `inv_${"0".repeat(32)}`;
  const zeroOrg = `org_${"0".repeat(32)}`;
  const good = password();
  const permission = { status: 403, message: /permission/ };
  const invalidToken = { status: 400, code: "invalid_token" };
  const tooShort = { status: 400, code: "password_too_short" };
  const common = { status: 400, code: "password_common" };
  const sessionRequired = { status: 400, code: "invalid_request", message: /session JWT/ };
  const json = { "content-type": "application/json" };
  const utf8 = (before, after) => Buffer.concat([Buffer.from(before), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(after)]);
  const as = (token) => (method, path, body, expect) => [method, path, { token, body }, expect];
  const asOwner = as(t);
  const asAda = as(fx.adaJwt);
  const rawJson = (method, path, payload, token, expect) => [method, path, { ...(token ? { token } : {}), raw: payload, headers: json }, expect];
  const malformed = (method, path, token, field) =>
    [
      "{",
      `{"${field}": "x`,
      "",
      "null",
      "[]",
      '"x"',
      `{"${field}": "x",}`,
      utf8(`{"${field}":"`, '"}'),
      deepArray,
      deepObject,
      `\ufeff{"${field}":"x"}`,
      `{"${field}":"\\ud800"}`,
      `{"${field}":1e400}`,
    ].map((p) => rawJson(method, path, p, token));
  const oversized = (method, path, token, expect = 413) => rawJson(method, path, big, token, expect);
  const garbageTokens = [
    ...garbageCredentials("atom", svc.key),
    { token: t.toUpperCase() },
    { token: ADMIN },
    { token: fx.inviteToken },
    { token: fx.resetToken },
    { token: `${fx.adaJwt.slice(0, -6)}AAAAAA` },
    { token: fx.loggedOut },
    { token: fx.zedJwt },
    { token: fx.danJwt },
    { token: fx.robJwt },
    bearer(`Bearer ${fx.adaJwt} ${fx.adaJwt}`),
    bearer("Bearer \u00ff\u00fe%00;DROP TABLE accounts"),
  ];
  const sqlIds = ["ent_'%20OR%20'1'%3D'1", "%27%3B%20DROP%20TABLE%20entities%3B--", "1%20OR%201%3D1"];

  // POST /v1/members: every body is refused before anything is read or written.
  const add = (body, token = t, expect) => ["POST", "/v1/members", { token, body }, expect];
  const membersAdd = [
    ...malformed("POST", "/v1/members", t, "email"),
    oversized("POST", "/v1/members", t),
    add({}),
    add({ role: "member" }),
    add({ name: "No Email" }),
    ...[5, null, [], ["a@acme.example"], {}, true, "", "   ", "not-an-email", "@acme.example", "a@", "a@127.0.0.1", "a@[127.0.0.1]", "a@-bad-.example", "a b@acme.example", email300, local65, huge].map(
      (email) => add({ email }),
    ),
    ...[bcc("a1@acme.example"), "nul\u0000@acme.example", "tab\t@acme.example", `a2@acme.example${crlf}`, sqlOr, `a3@acme.example' OR 1=1 --`, "a4@acme.example;DROP TABLE accounts"].map((email) =>
      add({ email }),
    ),
    add({ email: sqlEmail, role: "root" }),
    ...[5, [], {}, true, "", "superadmin", "Owner", "OWNER", "admin ", " member", "owner\r\n", "owner\u0000", "service", "' OR 1=1 --"].map((role) => add({ email: "r1@acme.example", role })),
    ...[5, [], {}, true, "", "   ", "n".repeat(101), huge, "evil\u0000name", crlf, "bell\u0007", "del\u007f", "line\nbreak"].map((name) => add({ email: "n1@acme.example", name })),
    ...[
      { account_id: `acc_${"0".repeat(32)}` },
      { email_verified_at: 1 },
      { org_id: other.org },
      { status: "active" },
      { id: zeroEnt },
      { entity_id: zeroEnt },
      { kind: "service" },
      { password: good },
      { token_hash: "00".repeat(32) },
      { invited_by: owner.entity_id },
      { expires_at: 4102444800 },
      { Email: "m2@acme.example" },
    ].map((extra) => add({ email: "m1@acme.example", ...extra })),
    rawJson("POST", "/v1/members", '{"email":"d1@acme.example","role":"member","role":"owner"}', fx.admin.key),
    rawJson("POST", "/v1/members", '{"email":"d2@acme.example","email":"d3@acme.example"}', t),
    // permission: members cannot add anyone, admins cannot make owners
    add({ email: "by-member@acme.example" }, svc.key, permission),
    add({ email: "by-member@acme.example", role: "member" }, fx.miaJwt, permission),
    add({ email: "own1@acme.example", role: "owner" }, admin.key, permission),
    add({ email: "own2@acme.example", role: "owner" }, fx.adaJwt, permission),
    add({ email: mia.email, role: "owner" }, admin.key, permission),
    // the one 401, with a body that would otherwise be accepted
    ...garbageTokens.map((opts) => ["POST", "/v1/members", { ...opts, body: { email: "anon@acme.example" } }, 401]),
    ["POST", "/v1/members", { raw: big, headers: json }, 401],
    // wrong methods and paths
    asOwner("PUT", "/v1/members", { email: "put@acme.example" }, 405),
    asOwner("PATCH", "/v1/members", { email: "patch@acme.example" }, 405),
    asOwner("GET", `/v1/members/${mia.id}`, undefined, 405),
    asOwner("POST", `/v1/members/${mia.id}`, { role: "owner" }, 405),
    asOwner("PATCH", `/v1/members/${mia.id}`, { role: "owner" }, 405),
    asOwner("PUT", `/v1/members/${mia.id}`, { role: "owner", status: "deleted" }, 405),
    asOwner("DELETE", "/v1/members", undefined, 405),
    asOwner("DELETE", `/v1/members/${mia.id}/credentials`, undefined, 404),
    asOwner("POST", "/v1/member", { email: "typo@acme.example" }, 404),
  ];

  // GET /v1/members and /v1/invitations: permission and queries.
  const badQueries = ["limit=0", "limit=-1", "limit=101", "limit=abc", "limit=1.5", "limit=1%20OR%201%3D1", "limit=99999999999999999999", "limit=%00", "cursor=", "cursor=%27%20OR%201%3D1--", `cursor=${b64("0:x' OR '1'='1")}`, `cursor=${b64("x:ent_0")}`, `cursor=${b64("-1:ent_0")}`, `cursor=${b64(`0:${"a".repeat(65)}`)}`, `cursor=${b64("0:../../etc")}`, `cursor=${"A".repeat(5000)}`, "cursor=%ff%fe"];
  const lists = [
    ...badQueries.map((q) => asOwner("GET", `/v1/members?${q}`, undefined, 400)),
    ...badQueries.slice(0, 10).map((q) => asOwner("GET", `/v1/invitations?${q}`, undefined, 400)),
    as(svc.key)("GET", "/v1/members", undefined, permission),
    as(fx.miaJwt)("GET", "/v1/members", undefined, permission),
    as(svc.key)("GET", "/v1/invitations", undefined, permission),
    as(fx.miaJwt)("GET", "/v1/invitations", undefined, permission),
    ...garbageTokens.slice(0, 8).map((opts) => ["GET", "/v1/members", opts, 401]),
    ...garbageTokens.slice(9).map((opts) => ["GET", "/v1/invitations", opts, 401]),
  ];

  // DELETE /v1/members/{id}: other orgs, services, self, owners, shapes, injection.
  const remove = (id, token = t, expect) => ["DELETE", `/v1/members/${id}`, { token }, expect];
  const removals = [
    remove(mia.id, other.key, 404),
    remove(ada.id, other.key, 404),
    remove(owner.entity_id, other.key, 404),
    remove(other.entity, t, 404),
    remove(other.entity, other.key, 404), // a service, in its own org
    remove(svc.id, t, 404),
    remove(admin.id, t, 404),
    remove(zed.id, t, 404), // already removed
    remove(zeroEnt, t, 404),
    remove(owner.entity_id, t, permission), // self (the bootstrap owner is a person)
    remove(ada.id, fx.adaJwt, permission), // self
    remove(owner.entity_id, admin.key, permission),
    remove(owner.entity_id, fx.adaJwt, permission),
    remove(fx.olga.id, admin.key, permission),
    remove(fx.olga.id, fx.adaJwt, permission),
    remove(fx.olga.id, fx.miaJwt, permission),
    remove(mia.id, svc.key, permission),
    remove(ada.id, fx.miaJwt, permission),
    remove(mia.id.toUpperCase(), t, 404),
    remove(`${mia.id}%00`, t, 404),
    remove(`${mia.id}%20`, t, 404),
    remove(`${mia.id}0`, t, 404),
    remove(mia.id.slice(0, -1), t, 404),
    remove(mia.id.replace("ent_", "acc_"), t, 404),
    remove(`ent_${"a".repeat(5000)}`, t, 404),
    remove("..%2f..", t, 404),
    remove("..%2F..%2Fadmin%2Faccounts", t, 404),
    remove("ent_%00", t, 404),
    remove("%2e%2e/keys", t), // DELETE /v1/keys once normalised: 405 (or 404 if not)
    remove(`${mia.id}%2f..%2f${ada.id}`, t, 404),
    // a percent-encoded "e": were it decoded, it would name Mia, so only the other org sends it
    remove(`%65nt_${mia.id.slice(4)}`, other.key, 404),
    ...sqlIds.map((id) => remove(id, t, 404)),
    ...garbageTokens.slice(0, 8).map((opts) => ["DELETE", `/v1/members/${mia.id}`, opts, 401]),
  ];

  // DELETE /v1/invitations/{id}
  const withdraw = (id, token = t, expect) => ["DELETE", `/v1/invitations/${id}`, { token }, expect];
  const withdrawals = [
    withdraw(fx.victimInvId, t, 404),
    withdraw(fx.invId, other.key, 404),
    withdraw(zeroInv, t, 404),
    withdraw(fx.invId, svc.key, permission),
    withdraw(fx.invId, fx.miaJwt, permission),
    withdraw("inv_%00", t, 404),
    withdraw(`${fx.invId}%00`, t, 404),
    withdraw(fx.invId.toUpperCase(), t, 404),
    withdraw(fx.invId.slice(0, -1), t, 404),
    withdraw(fx.invId.replace("inv_", "ent_"), t, 404),
    withdraw(`inv_${"f".repeat(5000)}`, t, 404),
    withdraw("..%2f..", t, 404),
    withdraw(`..%2f..%2fmembers%2f${mia.id}`, t, 404),
    withdraw(mia.id, t, 404),
    ...sqlIds.map((id) => withdraw(id, t, 404)),
    ...garbageTokens.slice(0, 6).map((opts) => ["DELETE", `/v1/invitations/${fx.invId}`, opts, 401]),
    asOwner("POST", "/v1/invitations", { email: "post@acme.example" }, 405),
    asOwner("GET", `/v1/invitations/${fx.invId}`, undefined, 405),
    asOwner("PATCH", `/v1/invitations/${fx.invId}`, { role: "owner" }, 405),
    asOwner("DELETE", "/v1/invitations", undefined, 405),
  ];

  // POST /auth/invitations/accept: the live token only ever with a flaw.
  const accept = (body, expect) => ["POST", "/auth/invitations/accept", { body }, expect];
  const live = fx.inviteToken;
  const accepts = [
    ...malformed("POST", "/auth/invitations/accept", null, "token"),
    oversized("POST", "/auth/invitations/accept", null),
    rawJson("POST", "/auth/invitations/accept", utf8(`{"token":"${live}","password":"`, '-long-enough-pass"}'), null),
    rawJson("POST", "/auth/invitations/accept", utf8('{"token":"atomi_', `","password":"${good}"}`), null),
    accept({}, 400),
    accept({ password: good }, 400),
    ...[5, null, [], [live], {}, true].map((token) => accept({ token, password: good }, 400)),
    ...[5, [], {}, true].map((pw) => accept({ token: live, password: pw }, 400)),
    accept({ token: live, password: "short" }, tooShort),
    accept({ token: live, password: "" }, tooShort),
    accept({ token: live, password: "password" }, common),
    accept({ token: live, password: "Password1" }),
    accept({ token: live, password: "nul\u0000-in-password" }),
    accept({ token: live, password: "crlf\r\n-in-password" }),
    accept({ token: live, password: "p".repeat(5000) }),
    accept({ token: live, password: huge }),
    accept({ token: live }, 400), // a new account needs a password
    accept({ token: live, password: null }, 400), // the same
    ...[
      { email: "attacker@evil.example" },
      { org_id: other.org },
      { role: "owner" },
      { account_id: `acc_${"0".repeat(32)}` },
      { email_verified_at: 1 },
      { name: "Mallory" },
      { entity_id: zeroEnt },
      { status: "active" },
    ].map((extra) => accept({ token: live, password: good, ...extra }, 400)),
    rawJson("POST", "/auth/invitations/accept", `{"token":"${live}","password":"short","password":"${good}"}`, null, 400),
    rawJson("POST", "/auth/invitations/accept", `{"token":"${fx.withdrawnToken}","token":"${live}","password":"${good}"}`, null, 400),
    ...[
      "",
      "atomi_",
      `atomi_${"A".repeat(600)}`,
      `atomi_${randomBytes(32).toString("base64url")}`,
      `atomi_${randomBytes(31).toString("base64url")}`,
      `atomi_${randomBytes(33).toString("base64url")}`,
      `atomi_${randomBytes(32).toString("base64")}`,
      fx.withdrawnToken,
      fx.replacedToken,
      fx.resetToken,
      fx.usedReset,
      fx.verifyToken,
      `atomv_${randomBytes(32).toString("base64url")}`,
      `atomr_${randomBytes(32).toString("base64url")}`,
      `ptmci_${live.slice(6)}`,
      live.replace("atomi_", "atom_"),
      live.replace("atomi_", "atomI_"),
      live.toUpperCase(),
      `${live}A`,
      live.slice(0, -1),
      `${live}\n`,
      ` ${live}`,
      `${live}\u0000`,
      `${live}\r\nX-Injected: 1`,
      `${live.slice(0, 20)}%${live.slice(21)}`,
      sqlOr,
      "atomi_' OR '1'='1",
      `atomi_${"A".repeat(40)}'--`,
      "atomi_../../../../etc/passwd",
      fx.owner.plain_key,
      fx.adaJwt,
      huge,
    ].map((token) => accept({ token, password: good }, invalidToken)),
    accept({ token: fx.withdrawnToken }, invalidToken),
    accept({ token: fx.replacedToken, password: "short" }, invalidToken),
    ["GET", `/auth/invitations/accept?token=${live}`, {}, 405],
    ["PUT", "/auth/invitations/accept", { body: { token: live, password: good } }, 405],
    ["DELETE", "/auth/invitations/accept", { token: t }, 405],
    ["POST", "/auth/invitations", { body: { token: live, password: good } }, 404],
    ["POST", "/auth/invitations/accept/now", { body: { token: live, password: good } }, 404],
  ];

  // GET /auth/orgs
  const orgs = [
    ...garbageTokens.map((opts) => ["GET", "/auth/orgs", opts, 401]),
    ["GET", "/auth/orgs", { token: t }, sessionRequired],
    ["GET", "/auth/orgs", { token: svc.key }, sessionRequired],
    ["GET", "/auth/orgs", { token: other.key }, sessionRequired],
    ["POST", "/auth/orgs", { token: fx.adaJwt, body: { org_id: other.org } }, 405],
    ["DELETE", "/auth/orgs", { token: fx.adaJwt }, 405],
    ["PUT", "/auth/orgs", { token: fx.adaJwt, body: {} }, 405],
    ["GET", `/auth/orgs/${other.org}`, { token: fx.adaJwt }, 404],
  ];

  // POST /auth/login with org_id: shapes are 400 before any work; a well-formed org the
  // person is not in is the one 401 (and its bytes are checked in a test below).
  const login = (body, expect) => ["POST", "/auth/login", { body }, expect];
  const right = { identifier: lou.email, secret: lou.secret };
  const logins = [
    ...[
      5,
      [],
      {},
      true,
      "",
      "org_",
      `org_${"0".repeat(31)}`,
      `org_${"0".repeat(33)}`,
      fx.org.toUpperCase(),
      `ORG_${fx.org.slice(4)}`,
      `org_${"g".repeat(32)}`,
      `${fx.org} `,
      ` ${fx.org}`,
      `${fx.org}\u0000`,
      `${fx.org}\r\nX-Injected: 1`,
      `org_${"0".repeat(30)}'--`,
      "org_' OR 1=1 --",
      "org_..%2f..%2f",
      sqlOr,
      other.entity,
      fx.invId,
      `org_${"a".repeat(5000)}`,
      huge,
    ].map((org_id) => login({ ...right, org_id }, 400)),
    rawJson("POST", "/auth/login", utf8(`{"identifier":"${lou.email}","secret":"${lou.secret}","org_id":"org_`, '"}'), null, 400),
    ...[{ entity_id: lou.id }, { account_id: `acc_${"0".repeat(32)}` }, { org: other.org }, { orgId: other.org }, { remember: true }].map((extra) =>
      login({ ...right, org_id: other.org, ...extra }, 400),
    ),
    login({ ...right, org_id: other.org }, 401),
    login({ ...right, org_id: zeroOrg }, 401),
    login({ ...right, org_id: fx.samOrg }, 401),
    login({ identifier: lou.email, secret: `${lou.secret}-wrong`, org_id: fx.org }, 401),
    login({ identifier: "nobody@acme.example", secret: good, org_id: fx.org }, 401),
    login({ identifier: email300, secret: good, org_id: fx.org }, 400),
  ];

  // POST /auth/password/change (a session, the current password, a new one).
  const change = (body, token = fx.adaJwt, expect) => ["POST", "/auth/password/change", { token, body }, expect];
  const changes = [
    ...malformed("POST", "/auth/password/change", fx.adaJwt, "current"),
    oversized("POST", "/auth/password/change", fx.adaJwt),
    oversized("POST", "/auth/password/change", null, 401),
    ...garbageTokens.map((opts) => ["POST", "/auth/password/change", { ...opts, body: { current: ada.secret, password: good } }, 401]),
    change({ current: ada.secret, password: good }, t, sessionRequired),
    change({ current: ada.secret, password: good }, admin.key, sessionRequired),
    change({ current: ada.secret, password: good }, other.key, sessionRequired),
    change({}, fx.adaJwt, 400),
    change({ current: ada.secret }, fx.adaJwt, 400),
    change({ password: good }, fx.adaJwt, 400),
    ...[5, null, [], {}, true].map((current) => change({ current, password: good }, fx.adaJwt, 400)),
    ...[5, null, [], {}, true].map((pw) => change({ current: ada.secret, password: pw }, fx.adaJwt, 400)),
    change({ current: ada.secret, password: "short" }, fx.adaJwt, tooShort),
    change({ current: ada.secret, password: "" }, fx.adaJwt, tooShort),
    change({ current: ada.secret, password: "password" }, fx.adaJwt, common),
    change({ current: ada.secret, password: "Password1" }),
    change({ current: ada.secret, password: "nul\u0000-in-password" }),
    change({ current: ada.secret, password: "p".repeat(5000) }),
    change({ current: ada.secret, password: huge }),
    change({ current: "wrong, but the new one is weak", password: "short" }, fx.adaJwt, 400),
    ...[{ account_id: `acc_${"0".repeat(32)}` }, { email: "attacker@evil.example" }, { entity_id: mia.id }, { revoke_sessions: false }, { password_id: "0".repeat(32) }].map((extra) =>
      change({ current: ada.secret, password: good, ...extra }, fx.adaJwt, 400),
    ),
    rawJson("POST", "/auth/password/change", `{"current":"${ada.secret}","password":"short","password":"${good}"}`, fx.adaJwt, 400),
    change({ current: `${ada.secret}-wrong`, password: good }, fx.adaJwt, { status: 400, code: "wrong_password" }),
    change({ current: sqlOr, password: good }, fx.adaJwt, { status: 400, code: "wrong_password" }),
    change({ current: "c".repeat(5000), password: good }, fx.adaJwt, { status: 400, code: "wrong_password" }),
    change({ current: mia.secret, password: good }, fx.adaJwt, { status: 400, code: "wrong_password" }), // someone else's
    ["GET", "/auth/password/change", { token: fx.adaJwt }, 405],
    ["PUT", "/auth/password/change", { token: fx.adaJwt, body: { current: ada.secret, password: good } }, 405],
    ["POST", "/auth/password", { token: fx.adaJwt, body: { current: ada.secret, password: good } }, 404],
  ];

  // POST /auth/password/reset: only bodies that fail (a valid address writes a link).
  const reset = (body, expect = 400) => ["POST", "/auth/password/reset", { body }, expect];
  const resets = [
    ...malformed("POST", "/auth/password/reset", null, "email"),
    oversized("POST", "/auth/password/reset", null),
    reset({}),
    ...[5, null, [], [mia.email], {}, true, "", "not-an-email", "@acme.example", "a@127.0.0.1", email300, local65, huge, bcc(mia.email), "nul\u0000@acme.example", `${mia.email}\u0000`, sqlOr, `${mia.email}' OR '1'='1`, "%@acme.example'--"].map(
      (email) => reset({ email }),
    ),
    ...[{ account_id: `acc_${"0".repeat(32)}` }, { entity_id: mia.id }, { redirect: "https://evil.example/" }, { token: fx.resetToken }, { org_id: fx.org }].map((extra) =>
      reset({ email: mia.email, ...extra }),
    ),
    rawJson("POST", "/auth/password/reset", utf8('{"email":"', '@acme.example"}'), null, 400),
    rawJson("POST", "/auth/password/reset", `{"email":"${mia.email}","email":"victim@evil.example"}`, null, 400),
    ["GET", `/auth/password/reset?email=${encodeURIComponent(mia.email)}`, {}, 405],
    ["PUT", "/auth/password/reset", { body: { email: mia.email, password: good } }, 405],
  ];

  // POST /auth/password/reset/confirm: the live link only ever with a flaw.
  const confirm = (body, expect) => ["POST", "/auth/password/reset/confirm", { body }, expect];
  const liveReset = fx.resetToken;
  const confirms = [
    ...malformed("POST", "/auth/password/reset/confirm", null, "token"),
    oversized("POST", "/auth/password/reset/confirm", null),
    rawJson("POST", "/auth/password/reset/confirm", utf8(`{"token":"${liveReset}","password":"`, '-long-enough"}'), null),
    confirm({}, 400),
    confirm({ token: liveReset }, 400),
    confirm({ password: good }, 400),
    ...[5, null, [], [liveReset], {}, true].map((token) => confirm({ token, password: good }, 400)),
    ...[5, null, [], {}, true].map((pw) => confirm({ token: liveReset, password: pw }, 400)),
    confirm({ token: liveReset, password: "short" }, tooShort),
    confirm({ token: liveReset, password: "password" }, common),
    confirm({ token: liveReset, password: "Password1" }),
    confirm({ token: liveReset, password: "nul\u0000-in-password" }),
    confirm({ token: liveReset, password: "p".repeat(5000) }),
    confirm({ token: liveReset, password: huge }),
    ...[{ email: "attacker@evil.example" }, { account_id: `acc_${"0".repeat(32)}` }, { org_id: other.org }, { keep_sessions: true }, { email_verified_at: 0 }].map((extra) =>
      confirm({ token: liveReset, password: good, ...extra }, 400),
    ),
    rawJson("POST", "/auth/password/reset/confirm", `{"token":"${liveReset}","password":"short","password":"${good}"}`, null, 400),
    ...[
      "",
      "atomr_",
      `atomr_${"A".repeat(600)}`,
      `atomr_${randomBytes(32).toString("base64url")}`,
      `atomr_${randomBytes(31).toString("base64url")}`,
      fx.usedReset,
      fx.retiredReset,
      fx.inviteToken,
      fx.withdrawnToken,
      fx.verifyToken,
      `atomv_${randomBytes(32).toString("base64url")}`,
      `atomi_${randomBytes(32).toString("base64url")}`,
      `ptmcr_${liveReset.slice(6)}`,
      liveReset.toUpperCase(),
      `${liveReset}A`,
      liveReset.slice(0, -1),
      `${liveReset}\n`,
      `${liveReset}\u0000`,
      sqlOr,
      "atomr_' OR '1'='1",
      "atomr_../../../../etc/passwd",
      huge,
    ].map((token) => confirm({ token, password: good }, invalidToken)),
    ["GET", `/auth/password/reset/confirm?token=${liveReset}`, {}, 405],
    ["PATCH", "/auth/password/reset/confirm", { body: { token: liveReset, password: good } }, 405],
  ];

  // PATCH /admin/accounts: the operator's token only; a body that would disable Lou.
  const account = (body, token = ADMIN, expect) => ["PATCH", "/admin/accounts", { token, body }, expect];
  const disableLou = { email: lou.email, status: "disabled" };
  const admins = [
    ...garbageTokens.filter((opts) => opts.token !== ADMIN).map((opts) => ["PATCH", "/admin/accounts", { ...opts, body: disableLou }, 401]),
    ...[ADMIN.toUpperCase(), `${ADMIN}=`, `${ADMIN}0`, ADMIN.slice(0, -1), `${ADMIN.slice(0, -1)}\u00ff`, fx.owner.plain_key, fx.adaJwt, other.key].map((token) => account(disableLou, token, 401)),
    ["PATCH", "/admin/accounts", { ...bearer(`Basic ${ADMIN}`), body: disableLou }, 401],
    ["PATCH", "/admin/accounts", { ...bearer(`bearer${ADMIN}`), body: disableLou }, 401],
    ["PATCH", "/admin/accounts", { raw: big, headers: json }, 401],
    ...malformed("PATCH", "/admin/accounts", ADMIN, "email"),
    oversized("PATCH", "/admin/accounts", ADMIN),
    account({}, ADMIN, 400),
    account({ email: lou.email }, ADMIN, 400),
    account({ status: "disabled" }, ADMIN, 400),
    ...[5, null, [], {}, true, "", "suspended", "deleted", "Disabled", "DISABLED", "disabled ", " disabled", "disabled\u0000", "disabled\r\n", sqlOr, "active' OR '1'='1", huge].map((status) =>
      account({ email: lou.email, status }, ADMIN, 400),
    ),
    ...[5, null, [], {}, "", "not-an-email", email300, huge, bcc(lou.email), sqlOr, `${lou.email}' OR '1'='1`].map((email) => account({ email, status: "disabled" }, ADMIN, 400)),
    account({ email: "nobody@acme.example", status: "disabled" }, ADMIN, 404),
    account({ email: "newbie@invitee.example", status: "disabled" }, ADMIN, 404), // invited, no account yet
    account({ email: "%@acme.example", status: "disabled" }, ADMIN), // a LIKE wildcard names nobody
    account({ email: "_ou@acme.example", status: "disabled" }, ADMIN),
    ...[{ account_id: `acc_${"0".repeat(32)}` }, { org_id: fx.org }, { email_verified_at: null }, { reason: "x" }, { id: lou.id }].map((extra) =>
      account({ ...disableLou, ...extra }, ADMIN, 400),
    ),
    rawJson("PATCH", "/admin/accounts", `{"email":"nobody@acme.example","status":"disabled","email":"${lou.email}"}`, ADMIN, 400),
    rawJson("PATCH", "/admin/accounts", utf8('{"email":"', `","status":"disabled"}`), ADMIN, 400),
    ["GET", "/admin/accounts", { token: ADMIN }, 405],
    ["POST", "/admin/accounts", { token: ADMIN, body: disableLou }, 405],
    ["PUT", "/admin/accounts", { token: ADMIN, body: disableLou }, 405],
    ["DELETE", "/admin/accounts", { token: ADMIN, body: disableLou }, 405],
    ["PATCH", `/admin/accounts/${encodeURIComponent(lou.email)}`, { token: ADMIN, body: { status: "disabled" } }, 404],
  ];

  return [...membersAdd, ...lists, ...removals, ...withdrawals, ...accepts, ...orgs, ...logins, ...changes, ...resets, ...confirms, ...admins, ...rawCases()];
}

/** Requests Node's http refuses to build: bare bytes in paths and headers, chunked uploads. */
function rawCases() {
  const host = `Host: ${new URL(server.origin).host}\r\nConnection: close\r\n`;
  const auth = (token) => `Authorization: Bearer ${token}\r\n`;
  const t = fx.owner.plain_key;
  const chunk = "x".repeat(16 * 1024);
  const chunked = `${Array.from({ length: 5 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join("")}0\r\n\r\n`;
  const jsonHeaders = (body) => `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body, "latin1")}\r\n`;
  const request = (line, headers, body = "") => ({ raw: `${line} HTTP/1.1\r\n${host}${headers}\r\n${body}` });
  const confirm = JSON.stringify({ token: `atomr_${"A".repeat(43)}`, password: password() });
  const disable = `{"email":"${fx.lou.email}","status":"disabled\x00"}`;
  return [
    ["DELETE", "/v1/members/ent_\u00e9\u00ff", request(`DELETE /v1/members/ent_\xc3\xa9\xff`, auth(t)), 404],
    ["DELETE", "/v1/invitations/inv_\u00ff", request(`DELETE /v1/invitations/inv_\xff\xfe`, auth(t)), 404],
    ["GET", "/v1/members", request("GET /v1/members", "Authorization: Bearer \xff\xfe\x80\r\n"), 401],
    ["GET", "/auth/orgs", request("GET /auth/orgs", "Authorization: Bearer \xff\xfe\x80\r\n"), 401],
    ["GET", "/auth/orgs", request("GET /auth/orgs", `Authorization: Bearer abc\r\n${auth(fx.adaJwt)}`), 401],
    ["PATCH", "/admin/accounts", request("PATCH /admin/accounts", `Authorization: Bearer abc\r\n${auth(server.vars.ADMIN_TOKEN)}${jsonHeaders(disable)}`, disable), 401],
    ["PATCH", "/admin/accounts", request("PATCH /admin/accounts", `${auth(server.vars.ADMIN_TOKEN)}${jsonHeaders(disable)}`, disable), 400],
    ["POST", "/auth/invitations/accept", request("POST /auth/invitations/accept", "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", chunked), 413],
    ["POST", "/v1/members", request("POST /v1/members", `${auth(t)}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n`, chunked), 413],
    ["POST", "/auth/password/reset/confirm", request("POST /auth/password/reset/confirm", `${jsonHeaders(confirm)}X-Request-Id: req_forged\r\n`, confirm), 400],
  ];
}

const secrets = () => [fx.inviteToken, fx.resetToken, fx.verifyToken, fx.withdrawnToken, fx.lou.secret, fx.ada.secret, server.vars.ADMIN_TOKEN];

/**
 * Deliberate 2xx controls, run with the barrage and inside the snapshot: reads that
 * must show nothing of another org. `[method, path, opts, status, check]`.
 */
function controlCases() {
  const { owner, other, ada, mia, svc, admin, zed } = fx;
  const excludes = (...ids) => (r) => ids.filter((id) => r.text.includes(id)).map((id) => `shows ${id}`);
  const includes = (...ids) => (r) => ids.filter((id) => !r.text.includes(id)).map((id) => `lacks ${id}`);
  const both = (...checks) => (r) => checks.flatMap((check) => check(r));
  return [
    ["GET", "/v1/members", { token: other.key }, 200, excludes(owner.entity_id, ada.id, mia.id, ada.email, mia.email, fx.org)],
    ["GET", "/v1/invitations", { token: other.key }, 200, both(includes(fx.victimInvId), excludes(fx.invId, fx.newbie, fx.org))],
    ["GET", "/v1/invitations", { token: owner.plain_key }, 200, both(includes(fx.invId, "twice@invitee.example"), excludes(fx.victimInvId, fx.withdrawnId, "stranger@victim.example"))],
    ["GET", "/v1/members?limit=100", { token: owner.plain_key }, 200, both(includes(ada.id, mia.id, fx.olga.id, owner.entity_id), excludes(svc.id, admin.id, zed.id, other.entity))],
    ["GET", `/v1/members?cursor=${b64("0:ent_zzz")}`, { token: fx.adaJwt }, 200, excludes(other.entity)],
    [
      "GET",
      `/auth/orgs?account_id=acc_${"0".repeat(32)}&org_id=${other.org}`,
      { token: fx.miaJwt },
      200,
      (r) => (r.body?.items?.length === 1 && r.body.items[0].org_id === fx.org && r.body.items[0].current === true ? [] : [`not only Mia's org: ${r.text.slice(0, 200)}`]),
    ],
  ];
}

test("hostile requests at the member, invitation, org-choice, password and account endpoints: all 4xx in their family's shape, none 5xx, nothing changed", async () => {
  const cases = hostileCases();
  assert.ok(cases.length >= 300, `${cases.length} cases`);
  const foreignIds = [fx.other.org, fx.other.entity, fx.other.keyId];
  const families = ["bare", "v1"]; // both must answer 401s; the bare ones with the challenge
  const { failures, before, after } = await runBarrage({ server, cases, controls: controlCases(), label: "accounts-hostile", foreignIds, secrets: secrets(), families });
  assert.deepEqual(failures, []);
  assert.deepEqual(changedTables(before, after), [], "no identity table changed");
  assert.deepEqual(after, before, "no identity table changed");
});

test("a login into an org the person is not, or no longer, in answers the bytes of a wrong password", async () => {
  const ivy = await person("ivy@acme.example", "Ivy Twice");
  markVerified(ivy);
  // Ivy joins the victim org (her account exists: at once), and is removed from it.
  await ok(202, "POST", "/v1/members", { token: fx.other.key, body: { email: ivy.email } });
  const there = (await ok(200, "GET", "/v1/members", { token: fx.other.key })).data.find((m) => m.email === ivy.email);
  assert.ok(there, "Ivy joined the victim org");
  await ok(200, "DELETE", `/v1/members/${there.id}`, { token: fx.other.key });

  const attempts = {
    "wrong password": { identifier: ivy.email, secret: `${ivy.secret}-wrong` },
    "wrong password, her own org": { identifier: ivy.email, secret: `${ivy.secret}-wrong`, org_id: fx.org },
    "right password, an org she was removed from": { identifier: ivy.email, secret: ivy.secret, org_id: fx.other.org },
    "right password, someone's personal org": { identifier: ivy.email, secret: ivy.secret, org_id: fx.samOrg },
    "right password, no such org": { identifier: ivy.email, secret: ivy.secret, org_id: `org_${hex32()}` },
    "unknown identifier, an org": { identifier: `nobody-${hex32().slice(0, 8)}@acme.example`, secret: ivy.secret, org_id: fx.org },
    "disabled account, right password": { identifier: fx.dan.email, secret: fx.dan.secret },
    "disabled account, right password, his org": { identifier: fx.dan.email, secret: fx.dan.secret, org_id: fx.org },
    "unverified account, right password, an org it is not in": { identifier: fx.sam.email, secret: fx.sam.secret, org_id: fx.org },
  };
  const seen = new Map();
  for (const [name, body] of Object.entries(attempts)) {
    const r = await call(server.origin, "POST", "/auth/login", { body });
    assert.equal(r.status, 401, `${name}: ${r.text}`);
    assert.equal(r.body.error.code, "invalid_credentials", name);
    assert.equal(r.body.error.request_id, r.headers.get("x-request-id"), name);
    seen.set(name, JSON.stringify({ body: withoutRequestId(r), challenge: r.headers.get("www-authenticate"), type: r.headers.get("content-type") }));
  }
  assert.equal(new Set(seen.values()).size, 1, JSON.stringify(Object.fromEntries(seen), null, 2));

  // And the same org_id path works for an org she is in: the refusals above were real.
  const signed = await ok(200, "POST", "/auth/login", { body: { identifier: ivy.email, secret: ivy.secret, org_id: fx.org } });
  const claims = JSON.parse(Buffer.from(signed.token.split(".")[1], "base64url").toString("utf8"));
  assert.equal(claims.org, fx.org);
  assert.equal(signed.entity_id, ivy.id);
});

test("the live tokens the barrage sent with flaws still work once: the refusals were not for a dead token", async () => {
  const accepted = await ok(200, "POST", "/auth/invitations/accept", { body: { token: fx.inviteToken, password: password() } });
  assert.equal(accepted.org_id, fx.org);
  assert.equal(accepted.account_created, true);
  const again = await call(server.origin, "POST", "/auth/invitations/accept", { body: { token: fx.inviteToken, password: password() } });
  assert.equal(again.status, 400, again.text);
  assert.equal(again.body.error.code, "invalid_token");

  const secret = password();
  await ok(200, "POST", "/auth/password/reset/confirm", { body: { token: fx.resetToken, password: secret } });
  const spent = await call(server.origin, "POST", "/auth/password/reset/confirm", { body: { token: fx.resetToken, password: password() } });
  assert.equal(spent.status, 400, spent.text);
  assert.equal(spent.body.error.code, "invalid_token");
  await ok(200, "POST", "/auth/login", { body: { identifier: fx.mia.email, secret } });
});
