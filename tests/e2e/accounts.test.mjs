// People in several orgs (issue 8) through HTTP against a real `wrangler dev`: one
// account with a membership per org, invitations, the org chosen at sign-in, removal,
// the last-owner rule, the person's own password (change and reset by mail), an
// account-wide disable, and an org admin's power ending at their org.
import { test } from "node:test";
import assert from "node:assert/strict";
import { call, client, seedOrg, useKeyward } from "./helpers.mjs";

const fx = useKeyward({ prefix: "atom" });
let serial = 0;
const uniqueEmail = (tag) => `${tag}-${Date.now()}-${serial++}@example.com`;

const as = (token) => client(fx.server.origin, token);
const owner = () => as(fx.owner.plain_key);
const post = (p, body) => call(fx.server.origin, "POST", p, { body });
const login = (identifier, secret, org_id) => post("/auth/login", { identifier, secret, ...(org_id ? { org_id } : {}) });
const withoutRequestId = (r) => JSON.stringify({ status: r.status, body: { ...r.body, error: r.body.error && { ...r.body.error, request_id: "-" } } });

/** The newest mail to `email` whose subject matches, from the dev outbox (sent after the answer). */
async function mailTo(email, subject) {
  for (let i = 0; i < 50; i++) {
    const box = await call(fx.server.origin, "GET", `/dev/outbox?to=${encodeURIComponent(email)}`);
    const item = box.body.items.find((m) => subject.test(m.subject));
    if (item) return item;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail matching ${subject} for ${email}`);
}
const tokenIn = (mail, letter) => mail.text.match(new RegExp(`atom${letter}_[A-Za-z0-9_-]{43}`))[0];

/** A self-registered, verified person: their personal org and a session there. */
async function person(password = "correct-horse-battery-9") {
  const email = uniqueEmail("person");
  assert.equal((await post("/auth/signup", { name: "Pat", email, password })).status, 202);
  const link = tokenIn(await mailTo(email, /Verify/), "v");
  assert.equal((await call(fx.server.origin, "GET", `/auth/email/verify?token=${link}`)).status, 200);
  const session = await login(email, password);
  assert.equal(session.status, 200, session.text);
  const orgs = (await as(session.body.token).get("/auth/orgs")).body.items;
  return { email, password, session: session.body, personalOrg: orgs[0].org_id };
}

/** A second org (made in D1: only bootstrap creates orgs over HTTP) with an owner key. */
function otherOrg(name) {
  return seedOrg(fx.server, { name, role: "owner" });
}

test("one person in three orgs: personal, joined with an account, invited before having one", async () => {
  const email = uniqueEmail("trio");
  const password = "trio-passphrase-42";
  const third = otherOrg("third");
  // Org C invites the address while it has no account: an invitation by mail.
  const invited = await as(third.key).post("/v1/members", { email, role: "admin" });
  assert.equal(invited.status, 202, invited.text);
  const invitation = tokenIn(await mailTo(email, /invited/), "i");

  // The person signs up (their personal org), then acme's owner adds the address,
  // which now has an account: the membership exists at once, with a notice by mail.
  assert.equal((await post("/auth/signup", { name: "Trio", email, password })).status, 202);
  assert.equal((await call(fx.server.origin, "GET", `/auth/email/verify?token=${tokenIn(await mailTo(email, /Verify/), "v")}`)).status, 200);
  const joined = await owner().post("/v1/members", { email, role: "member", name: "Trio at acme" });
  assert.equal(joined.status, 202);
  assert.deepEqual(withoutRequestId(joined), withoutRequestId({ ...invited, body: { ...invited.body, data: { ...invited.body.data, role: "member" } } }), "same answer shape either way");
  await mailTo(email, /added to acme/);

  // The earlier invitation is accepted by the existing account, without a password.
  const accepted = await post("/auth/invitations/accept", { token: invitation });
  assert.equal(accepted.status, 200, accepted.text);
  assert.equal(accepted.body.org_id, third.org);
  assert.equal(accepted.body.account_created, false);

  const first = await login(email, password);
  assert.equal(first.status, 200);
  const orgs = (await as(first.body.token).get("/auth/orgs")).body.items;
  const acme = (await owner().get("/v1/whoami")).body.data.org_id;
  const byOrg = Object.fromEntries(orgs.map((o) => [o.org_id, o]));
  assert.equal(orgs.length, 3);
  assert.equal(byOrg[acme].role, "member");
  assert.equal(byOrg[third.org].role, "admin");
  const personal = orgs.find((o) => o.personal);
  assert.equal(personal.role, "owner");
  assert.equal(first.body.entity_id, personal.entity_id, "a login without org_id opens the personal org first");

  // Logs in to each; the session acts in that org only.
  const sessions = {};
  for (const o of [personal, byOrg[acme], byOrg[third.org]]) {
    const r = await login(email, password, o.org_id);
    assert.equal(r.status, 200, `${o.name}: ${r.text}`);
    assert.equal(r.body.entity_id, o.entity_id);
    const me = await as(r.body.token).get("/v1/whoami");
    assert.equal(me.body.data.org_id, o.org_id);
    assert.equal(me.body.data.role, o.role);
    sessions[o.org_id] = r.body.token;
  }
  // Without org_id, the org last used.
  assert.equal((await login(email, password)).body.entity_id, byOrg[third.org].entity_id);

  // A session of one org cannot read another org's data: 404, not 403.
  const inThird = as(sessions[third.org]);
  assert.equal((await inThird.get(`/entities/${byOrg[acme].entity_id}`)).status, 404);
  assert.equal((await inThird.get(`/entities/${fx.owner.entity_id}`)).status, 404);
  assert.equal((await inThird.get(`/v1/keys/${fx.owner.key_id}`)).status, 404);
  assert.equal((await inThird.del(`/v1/members/${byOrg[acme].entity_id}`)).status, 404);
  assert.equal((await as(sessions[acme]).get(`/entities/${third.entity}`)).status, 404);

  // Suspended in acme, the person keeps working in the two other orgs.
  assert.equal((await owner().patch(`/entities/${byOrg[acme].entity_id}`, { status: "suspended" })).status, 200);
  assert.equal((await as(sessions[acme]).get("/v1/whoami")).status, 401);
  const refused = await login(email, password, acme);
  const wrong = await login(email, "not-the-password");
  assert.equal(refused.status, 401);
  assert.equal(withoutRequestId(refused), withoutRequestId(wrong), "an org one is not active in fails like a wrong password");
  assert.equal((await as(sessions[third.org]).get("/v1/whoami")).status, 200);
  assert.equal((await as(sessions[personal.org_id]).get("/v1/whoami")).status, 200);
  assert.equal((await login(email, password, third.org)).status, 200);
  assert.equal((await login(email, password, personal.org_id)).status, 200);
  const listed = (await as(sessions[third.org]).get("/auth/orgs")).body.items;
  assert.equal(listed.find((o) => o.org_id === acme).status, "suspended");
  const stranger = otherOrg("stranger");
  const notMine = await login(email, password, stranger.org);
  assert.equal(withoutRequestId(notMine), withoutRequestId(wrong), "an org one is not in fails like a wrong password");
});

test("invitations: create the account on accept, once; expired, withdrawn and replaced ones fail alike; answers do not tell", async () => {
  const fresh = uniqueEmail("fresh");
  const { email: existing } = await person();
  const a = await owner().post("/v1/members", { email: fresh, role: "member" });
  const b = await owner().post("/v1/members", { email: existing, role: "member" });
  assert.equal(a.status, 202);
  assert.equal(withoutRequestId({ ...a, body: { ...a.body, data: { ...a.body.data, email: "-" } } }), withoutRequestId({ ...b, body: { ...b.body, data: { ...b.body.data, email: "-" } } }));
  assert.equal(a.text.replace(fresh, "-"), b.text.replace(existing, "-"), "byte-identical but for the address");

  const token = tokenIn(await mailTo(fresh, /invited/), "i");
  const pending = (await owner().get("/v1/invitations")).body.data;
  const listed = pending.find((i) => i.email === fresh);
  assert.equal(listed.status, "pending");
  assert.ok(!pending.some((i) => i.email === existing), "an existing account joined at once");
  assert.ok(!JSON.stringify(pending).includes(token.slice(6)), "no token in the listing");

  const weak = await post("/auth/invitations/accept", { token, password: "short" });
  assert.equal(weak.status, 400);
  assert.equal(weak.body.error.code, "password_too_short");
  assert.equal((await post("/auth/invitations/accept", { token })).status, 400, "a new account needs a password");
  const accepted = await post("/auth/invitations/accept", { token, password: "fresh-account-pass-1" });
  assert.equal(accepted.status, 200, accepted.text);
  assert.equal(accepted.body.account_created, true);
  const session = await login(fresh, "fresh-account-pass-1");
  assert.equal(session.status, 200, "the invitation proved the address");
  assert.equal(session.body.entity_id, accepted.body.entity_id);

  const again = await post("/auth/invitations/accept", { token, password: "fresh-account-pass-1" });
  assert.equal(again.status, 400);
  assert.equal(again.body.error.code, "invalid_token");

  // Expired.
  const late = uniqueEmail("late");
  await owner().post("/v1/members", { email: late });
  const lateToken = tokenIn(await mailTo(late, /invited/), "i");
  fx.server.sql(`UPDATE invitations SET expires_at = 1 WHERE email = '${late}'`);
  const expired = await post("/auth/invitations/accept", { token: lateToken, password: "fresh-account-pass-1" });
  assert.equal(withoutRequestId(expired), withoutRequestId(again), "used and expired fail identically");

  // Withdrawn, and replaced by a second invitation.
  const gone = uniqueEmail("gone");
  await owner().post("/v1/members", { email: gone, role: "admin" });
  const firstToken = tokenIn(await mailTo(gone, /invited/), "i");
  const id = (await owner().get("/v1/invitations")).body.data.find((i) => i.email === gone).id;
  const withdrawn = await owner().del(`/v1/invitations/${id}`);
  assert.equal(withdrawn.status, 200);
  assert.equal(withdrawn.body.data.status, "withdrawn");
  assert.equal(withoutRequestId(await post("/auth/invitations/accept", { token: firstToken, password: "fresh-account-pass-1" })), withoutRequestId(again));
  await owner().post("/v1/members", { email: gone, role: "member" });
  let secondToken = firstToken;
  for (let i = 0; i < 50 && secondToken === firstToken; i++) secondToken = tokenIn(await mailTo(gone, /invited/), "i");
  await owner().post("/v1/members", { email: gone, role: "admin" });
  let thirdToken = secondToken;
  for (let i = 0; i < 50 && thirdToken === secondToken; i++) thirdToken = tokenIn(await mailTo(gone, /invited/), "i");
  assert.equal((await owner().get("/v1/invitations")).body.data.filter((i) => i.email === gone).length, 1, "one pending per address");
  assert.equal(withoutRequestId(await post("/auth/invitations/accept", { token: secondToken, password: "fresh-account-pass-1" })), withoutRequestId(again), "replaced");
  const last = await post("/auth/invitations/accept", { token: thirdToken, password: "fresh-account-pass-1" });
  assert.equal(last.status, 200);
  assert.equal(last.body.role, "admin");
  assert.equal((await owner().del(`/v1/invitations/inv_${"0".repeat(32)}`)).status, 404);
});

test("removal revokes the member's keys and sessions on the next request; the person's other orgs are untouched", async () => {
  const p = await person();
  assert.equal((await owner().post("/v1/members", { email: p.email, role: "admin" })).status, 202);
  const acme = (await owner().get("/v1/whoami")).body.data.org_id;
  const session = (await login(p.email, p.password, acme)).body;
  const key = (await as(session.token).post("/v1/keys", { name: "acme work" })).body.data.plain_key;
  const idSecret = (await as(session.token).post(`/entities/${session.entity_id}/credentials/api-keys`, { description: "dev" })).body.key;
  for (const t of [session.token, key, idSecret]) assert.equal((await as(t).get("/v1/whoami")).status, 200);

  const members = (await owner().get("/v1/members")).body.data;
  assert.ok(members.some((m) => m.id === session.entity_id && m.email === p.email && m.role === "admin"));
  assert.equal((await owner().del(`/v1/members/${fx.owner.entity_id}`)).status, 409, "acme's only owner stays");
  const removed = await owner().del(`/v1/members/${session.entity_id}`);
  assert.equal(removed.status, 200, removed.text);
  assert.equal(removed.body.data.status, "deleted");
  for (const t of [session.token, key, idSecret]) assert.equal((await as(t).get("/v1/whoami")).status, 401);
  const rows = fx.server.sql(`SELECT count(*) AS n FROM credentials WHERE entity_id = '${session.entity_id}' AND revoked_at IS NULL`);
  assert.equal(rows[0].n, 0, "every credential revoked in D1");
  assert.equal(fx.server.sql(`SELECT count(*) AS n FROM sessions WHERE entity_id = '${session.entity_id}' AND revoked_at IS NULL`)[0].n, 0);
  assert.equal((await login(p.email, p.password, acme)).status, 401);
  assert.equal((await as(p.session.token).get("/v1/whoami")).status, 200, "the personal org's session lives on");
  assert.equal((await login(p.email, p.password)).status, 200);
  assert.equal((await owner().del(`/v1/members/${session.entity_id}`)).status, 404, "already removed");

  // Removed people may be added again: a new membership, with nothing of the old one.
  assert.equal((await owner().post("/v1/members", { email: p.email })).status, 202);
  const back = await login(p.email, p.password, acme);
  assert.equal(back.status, 200);
  assert.notEqual(back.body.entity_id, session.entity_id);
  assert.equal((await as(key).get("/v1/whoami")).status, 401);
});

test("an org always keeps an active owner: the sole owner cannot step down, demote, suspend or remove themselves (409)", async () => {
  const p = await person();
  const me = as(p.session.token);
  for (const [what, request] of [
    ["demote", () => me.patch(`/entities/${p.session.entity_id}`, { role: "admin" })],
    ["suspend", () => me.patch(`/entities/${p.session.entity_id}`, { status: "suspended" })],
    ["remove", () => me.del(`/v1/members/${p.session.entity_id}`)],
  ]) {
    const r = await request();
    assert.equal(r.status, 409, `${what}: ${r.text}`);
    assert.match(r.text, /at least one active owner/, what);
  }
  assert.equal((await me.patch(`/entities/${p.session.entity_id}`, { name: "renamed" })).status, 200, "a rename is no change of standing");
  // With a second owner, the rule is no longer what stops them: nobody changes their
  // own standing (403).
  const other = await person();
  const org = (await me.get("/v1/whoami")).body.data.org_id;
  assert.equal((await me.post("/v1/members", { email: other.email, role: "owner" })).status, 202);
  assert.equal((await me.patch(`/entities/${p.session.entity_id}`, { role: "admin" })).status, 403);
  const second = (await login(other.email, other.password, org)).body;
  assert.equal((await as(second.token).patch(`/entities/${p.session.entity_id}`, { role: "admin" })).status, 200, "another owner may demote");
  const last = await as(second.token).del(`/v1/members/${second.entity_id}`);
  assert.equal(last.status, 409, "and is now the last one");
});

test("an org always keeps an active owner: concurrent demotions, suspensions and removals of the last two owners leave one", async () => {
  for (const change of [{ role: "admin" }, { status: "suspended" }, "remove"]) {
    const org = otherOrg(`owners-${JSON.stringify(change)}`);
    const a = await person();
    const b = await person();
    for (const x of [a, b]) assert.equal((await as(org.key).post("/v1/members", { email: x.email, role: "owner" })).status, 202);
    // The seeded service owner steps down, leaving the two people as the only owners.
    const sessionA = (await login(a.email, a.password, org.org)).body;
    const sessionB = (await login(b.email, b.password, org.org)).body;
    assert.equal((await as(sessionA.token).patch(`/entities/${org.entity}`, { role: "member" })).status, 200);
    const act = (actor, target) =>
      change === "remove" ? as(actor.token).del(`/v1/members/${target.entity_id}`) : as(actor.token).patch(`/entities/${target.entity_id}`, change);
    const answers = await Promise.all([act(sessionA, sessionB), act(sessionB, sessionA)]);
    // One wins. The other is refused either by the last-owner guard in the write (409)
    // or, if the winner committed before it was authenticated, because its caller is
    // no longer an active owner (403 or 401): never both.
    const winners = answers.filter((r) => r.status === 200);
    assert.equal(winners.length, 1, `${JSON.stringify(change)}: ${answers.map((r) => r.text).join(" | ")}`);
    const loser = answers.find((r) => r.status !== 200);
    assert.ok([401, 403, 409].includes(loser.status), loser.text);
    if (loser.status === 409) assert.match(loser.text, /at least one active owner/);
    const owners = fx.server.sql(`SELECT count(*) AS n FROM entities WHERE org_id = '${org.org}' AND role = 'owner' AND status = 'active'`);
    assert.equal(owners[0].n, 1, JSON.stringify(change));
  }
});

test("the person's own password: change ends the other sessions; reset by mail answers alike, works once, ends every session", async () => {
  const p = await person("first-passphrase-1");
  const other = (await login(p.email, p.password)).body.token;
  const me = as(p.session.token);
  const wrong = await me.post("/auth/password/change", { current: "not-it-at-all", password: "second-passphrase-2" });
  assert.equal(wrong.status, 400);
  assert.equal(wrong.body.error.code, "wrong_password");
  assert.equal((await me.post("/auth/password/change", { current: p.password, password: "password1" })).body.error.code, "password_common");
  const changed = await me.post("/auth/password/change", { current: p.password, password: "second-passphrase-2" });
  assert.equal(changed.status, 200, changed.text);
  assert.equal((await as(other).get("/v1/whoami")).status, 401, "other sessions end");
  assert.equal((await me.get("/v1/whoami")).status, 200, "this one stays");
  assert.equal((await login(p.email, p.password)).status, 401);
  assert.equal((await login(p.email, "second-passphrase-2")).status, 200);
  const key = (await me.post("/v1/keys", { name: "k" })).body.data.plain_key;
  assert.equal((await as(key).post("/auth/password/change", { current: "second-passphrase-2", password: "third-passphrase-3" })).status, 400, "a key is not the person");

  // Reset: the same answer for a known and an unknown address.
  const known = await post("/auth/password/reset", { email: p.email });
  const unknown = await post("/auth/password/reset", { email: uniqueEmail("nobody") });
  assert.equal(known.status, 202);
  assert.equal(withoutRequestId({ ...known, body: { ...known.body, email: "-" } }), withoutRequestId({ ...unknown, body: { ...unknown.body, email: "-" } }));
  const older = tokenIn(await mailTo(p.email, /Reset/), "r");
  await post("/auth/password/reset", { email: p.email });
  let link = older;
  for (let i = 0; i < 50 && link === older; i++) link = tokenIn(await mailTo(p.email, /Reset/), "r");
  assert.notEqual(link, older);
  const retired = await post("/auth/password/reset/confirm", { token: older, password: "fourth-passphrase-4" });
  assert.equal(retired.status, 400, "a newer link retires older ones");
  assert.equal(retired.body.error.code, "invalid_token");
  const s1 = (await login(p.email, "second-passphrase-2")).body.token;
  const done = await post("/auth/password/reset/confirm", { token: link, password: "fourth-passphrase-4" });
  assert.equal(done.status, 200, done.text);
  assert.equal((await as(s1).get("/v1/whoami")).status, 401, "every session ended");
  assert.equal((await me.get("/v1/whoami")).status, 401);
  assert.equal((await login(p.email, "second-passphrase-2")).status, 401);
  assert.equal((await login(p.email, "fourth-passphrase-4")).status, 200);
  const twice = await post("/auth/password/reset/confirm", { token: link, password: "fifth-passphrase-5" });
  assert.equal(withoutRequestId(twice), withoutRequestId(retired), "single use");
  assert.equal((await post("/auth/password/reset/confirm", { token: link.replace("atomr_", "atomv_"), password: "fifth-passphrase-5" })).status, 400);
});

test("an admin of org B cannot take over a person who also belongs to org A, by any endpoint", async () => {
  const p = await person("victim-passphrase-1");
  assert.equal((await owner().post("/v1/members", { email: p.email, role: "member" })).status, 202);
  const acme = (await owner().get("/v1/whoami")).body.data.org_id;
  const inB = (await owner().get("/v1/members")).body.data.find((m) => m.email === p.email);
  const admin = owner();

  const setPw = await admin.post(`/entities/${inB.id}/credentials/password`, { password: "attacker-chosen-1" });
  assert.equal(setPw.status, 403);
  assert.match(setPw.body.error.message, /permission/);
  const creds = (await admin.get(`/entities/${inB.id}/credentials`)).body.items;
  const pw = creds.find((c) => c.kind === "password");
  assert.equal(pw.identifier, p.email);
  assert.equal((await admin.del(`/entities/${inB.id}/credentials/${pw.id}`)).status, 403);
  assert.equal((await admin.patch(`/entities/${inB.id}`, { email: "attacker@evil.example" })).status, 400, "no email field");
  assert.equal((await admin.post("/entities", { kind: "human", name: "dup", email: p.email })).status, 409);
  assert.equal((await admin.post("/v1/members", { email: p.email, role: "owner" })).status, 202, "answers as always");
  assert.equal((await admin.get(`/entities/${p.session.entity_id}`)).status, 404, "the personal org's membership is not B's");
  assert.equal((await admin.patch(`/entities/${p.session.entity_id}`, { status: "suspended" })).status, 404);
  assert.equal((await call(fx.server.origin, "PATCH", "/admin/accounts", { token: fx.owner.plain_key, body: { email: p.email, status: "disabled" } })).status, 401);
  // What an admin may do stays inside B: a key for the membership acts in B only.
  const minted = await admin.post(`/entities/${inB.id}/credentials/api-keys`, { description: "b-only" });
  assert.equal(minted.status, 201);
  const keyMe = await as(minted.body.key).get("/v1/whoami");
  assert.equal(keyMe.body.data.org_id, acme);
  assert.equal((await as(minted.body.key).get(`/entities/${p.session.entity_id}`)).status, 404);
  assert.equal((await as(minted.body.key).post("/auth/password/change", { current: "x", password: "attacker-chosen-1" })).status, 400);
  // A reset goes to the person's mailbox; a signup with the address changes nothing.
  assert.equal((await post("/auth/password/reset", { email: p.email })).status, 202);
  assert.equal((await post("/auth/signup", { name: "Evil", email: p.email, password: "attacker-chosen-1" })).status, 202);
  // Suspending and removing in B leave A alone.
  assert.equal((await admin.patch(`/entities/${inB.id}`, { status: "suspended" })).status, 200);
  assert.equal((await admin.del(`/v1/members/${inB.id}`)).status, 200);
  assert.equal((await login(p.email, "attacker-chosen-1")).status, 401);
  const still = await login(p.email, "victim-passphrase-1");
  assert.equal(still.status, 200);
  assert.equal(still.body.entity_id, p.session.entity_id);
  assert.equal((await as(p.session.token).get("/v1/whoami")).status, 200);
});

test("an account-wide disable refuses the person everywhere, and restoring brings back what each org allowed", async () => {
  const p = await person();
  assert.equal((await owner().post("/v1/members", { email: p.email })).status, 202);
  const acme = (await owner().get("/v1/whoami")).body.data.org_id;
  const inAcme = (await login(p.email, p.password, acme)).body;
  const key = (await as(p.session.token).post("/v1/keys", { name: "personal" })).body.data.plain_key;
  const admin = (body) => call(fx.server.origin, "PATCH", "/admin/accounts", { token: fx.server.vars.ADMIN_TOKEN, body });
  const probe = async () => [
    (await as(p.session.token).get("/v1/whoami")).status,
    (await as(inAcme.token).get("/v1/whoami")).status,
    (await as(key).get("/v1/whoami")).status,
    (await login(p.email, p.password)).status,
  ];
  assert.deepEqual(await probe(), [200, 200, 200, 200]);
  const disabled = await admin({ email: p.email.toUpperCase(), status: "disabled" });
  assert.equal(disabled.status, 200, disabled.text);
  assert.equal(disabled.body.status, "disabled");
  assert.deepEqual(await probe(), [401, 401, 401, 401]);
  const audit = (await owner().get("/v1/audit?event=auth.failed")).body.data;
  assert.ok(audit.some((e) => e.reason === "session_account_disabled"), "the precise reason is audited");
  assert.equal((await admin({ email: p.email, status: "active" })).status, 200);
  assert.deepEqual(await probe(), [200, 200, 200, 200]);
  assert.equal((await admin({ email: uniqueEmail("ghost"), status: "disabled" })).status, 404);
  assert.equal((await admin({ email: p.email, status: "deleted" })).status, 400);
});
