// Identity (issue 4) through HTTP against a real `wrangler dev`: entities, the three
// credential kinds, password rules, sessions, signup with email verification, and
// suspension or revocation taking effect on the very next request for every kind.
import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import argon2 from "@node-rs/argon2";
import { call, client, keyward, seedOrg, useKeyward } from "./helpers.mjs";

const fx = useKeyward({ prefix: "atom" });
const here = path.dirname(fileURLToPath(import.meta.url));
const certPem = readFileSync(path.join(here, "../../core/tests/fixtures/p256-service.pem"), "utf8");
const certFingerprint = new X509Certificate(certPem).fingerprint256.replaceAll(":", "").toLowerCase();

const as = (token) => client(fx.server.origin, token);
const owner = () => as(fx.owner.plain_key);
let serial = 0;
const uniqueEmail = (tag) => `${tag}-${Date.now()}-${serial++}@example.com`;

async function entity(body) {
  const r = await owner().post("/entities", { kind: "human", name: "someone", ...body });
  assert.equal(r.status, 201, r.text);
  return r.body;
}

function login(identifier, secret, origin = fx.server.origin) {
  return call(origin, "POST", "/auth/login", { body: { identifier, secret } });
}

/** The newest verification link sent to `email`, from the dev outbox. */
async function linkFor(email, origin = fx.server.origin) {
  for (let i = 0; i < 40; i++) {
    const box = await call(origin, "GET", `/dev/outbox?to=${encodeURIComponent(email)}`);
    const item = box.body.items.find((m) => m.subject === "Verify your email address");
    if (item) return item.text.match(/token=(\S+)/)[1];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no verification mail for ${email}`);
}

/** A signed-up, verified user's password and session. */
async function verifiedUser(password = "correct-horse-battery-9") {
  const email = uniqueEmail("user");
  assert.equal((await call(fx.server.origin, "POST", "/auth/signup", { body: { name: "User", email, password } })).status, 202);
  const token = await linkFor(email);
  assert.equal((await call(fx.server.origin, "GET", `/auth/email/verify?token=${token}`)).status, 200);
  const session = await login(email, password);
  assert.equal(session.status, 200, session.text);
  return { email, password, ...session.body };
}

test("entities: admins create, list, read and change; members see only themselves", async () => {
  const member = await entity({ name: "Member", email: uniqueEmail("m") });
  assert.match(member.id, /^ent_[0-9a-f]{32}$/);
  assert.equal(member.role, "member");
  assert.equal(member.status, "active");
  assert.equal(member.email_verified, false);
  assert.equal((await owner().post("/entities", { kind: "human", name: "dup", email: member.email })).status, 409);
  assert.equal((await owner().post("/entities", { kind: "robot", name: "x" })).status, 400);

  const device = await entity({ kind: "device", name: "device-01" });
  const seen = new Set();
  let cursor;
  do {
    const r = await owner().get(`/entities?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
    assert.equal(r.status, 200);
    assert.ok(r.body.items.length <= 2);
    r.body.items.forEach((e) => seen.add(e.id));
    cursor = r.body.next_cursor;
  } while (cursor);
  assert.ok(seen.has(member.id) && seen.has(device.id) && seen.has(fx.owner.entity_id));

  const renamed = await owner().patch(`/entities/${device.id}`, { name: "device-01b", role: "admin" });
  assert.equal(renamed.status, 200);
  assert.equal(renamed.body.name, "device-01b");
  assert.equal(renamed.body.role, "admin");

  // The member's own key (id_secret, minted by the owner for it) reads itself only.
  const key = (await owner().post(`/entities/${member.id}/credentials/api-keys`, { description: "m" })).body.key;
  assert.equal((await as(key).get(`/entities/${member.id}`)).status, 200);
  const other = await as(key).get(`/entities/${device.id}`);
  assert.equal(other.status, 403);
  assert.match(other.body.error.message, /permission/);
  assert.equal((await as(key).get("/entities")).status, 403);
  assert.equal((await as(key).patch(`/entities/${member.id}`, { status: "suspended" })).status, 403);

  // Another org's entity is 404, not 403.
  const foreign = seedOrg(fx.server, { name: "elsewhere" });
  assert.equal((await owner().get(`/entities/${foreign.entity}`)).status, 404);
  assert.equal((await owner().patch(`/entities/${foreign.entity}`, { name: "x" })).status, 404);

  // Nobody changes their own role or status (the sole owner hears the rule that binds
  // them: the org keeps an active owner); deletion is final.
  const selfSuspend = await owner().patch(`/entities/${fx.owner.entity_id}`, { status: "suspended" });
  assert.equal(selfSuspend.status, 409);
  assert.match(selfSuspend.body.error.message, /at least one active owner/);
  assert.equal((await as(key).patch(`/entities/${member.id}`, { name: "self-rename" })).status, 403, "members manage no entity, themselves included");
  assert.equal((await owner().patch(`/entities/${device.id}`, { status: "deleted" })).status, 200);
  assert.equal((await owner().patch(`/entities/${device.id}`, { status: "active" })).status, 409);
  assert.equal((await owner().patch(`/entities/${member.id}`, { version: 9 })).status, 400, "no mass assignment");
});

test("passwords: 8 characters minimum, 1,024 accepted, common ones refused, NFKC-equal spellings log in", async () => {
  const email = uniqueEmail("pw");
  const e = await entity({ email });
  const set = (password) => owner().post(`/entities/${e.id}/credentials/password`, { password });
  const seven = await set("abcdefg");
  assert.equal(seven.status, 400);
  assert.equal(seven.body.error.code, "password_too_short");
  assert.equal((await set("abcdefgh")).status, 201);
  assert.equal((await set("k".repeat(1024))).status, 201);
  const common = await set("password1");
  assert.equal(common.status, 400);
  assert.equal(common.body.error.code, "password_common");
  assert.match(common.body.error.message, /common/);

  // Fullwidth letters are NFKC-equal to ASCII: set one spelling, log in with the other.
  assert.equal((await set("ｃｏｒｒｅｃｔ-ｈｏｒｓｅ-9")).status, 201);
  verifyBySql(e.id);
  assert.equal((await login(email, "correct-horse-9")).status, 200);
  assert.equal((await login(email, "ｃｏｒｒｅｃｔ-ｈｏｒｓｅ-9")).status, 200);
  const list = (await owner().get(`/entities/${e.id}/credentials`)).body.items.filter((c) => c.kind === "password");
  assert.equal(list.filter((c) => c.status === "active").length, 1, "one live password; older ones revoked");

  // Once the person has proved the address, the password is theirs: the admin who set
  // it can neither set nor revoke it any more (issue 8).
  const live = list.find((c) => c.status === "active");
  const revoke = await owner().del(`/entities/${e.id}/credentials/${live.id}`);
  assert.equal(revoke.status, 403);
  assert.match(revoke.body.error.message, /permission/);
  assert.equal((await set("another-password-77")).status, 403);
  assert.equal((await login(email, "correct-horse-9")).status, 200, "unchanged");
});

/** Marks the address of a person's account verified, as a verification link would. */
function verifyBySql(entityId) {
  fx.server.sql(`UPDATE accounts SET email_verified_at = 1 WHERE id = (SELECT account_id FROM entities WHERE id = '${entityId}')`);
}

test("a hash with weaker argon2 parameters is upgraded at the next successful login", async () => {
  const email = uniqueEmail("upgrade");
  const e = await entity({ email });
  assert.equal((await owner().post(`/entities/${e.id}/credentials/password`, { password: "upgrade-me-please" })).status, 201);
  const weak = await argon2.hash("upgrade-me-please", { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 });
  const live = `FROM passwords WHERE account_id = (SELECT account_id FROM entities WHERE id = '${e.id}') AND revoked_at IS NULL`;
  fx.server.sql(`UPDATE passwords SET secret_phc = '${weak}' WHERE id = (SELECT id ${live})`);
  verifyBySql(e.id);
  assert.equal((await login(email, "upgrade-me-please")).status, 200);
  const [row] = fx.server.sql(`SELECT secret_phc ${live}`);
  assert.match(row.secret_phc, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.equal((await login(email, "upgrade-me-please")).status, 200, "the upgraded hash verifies");
});

test("login: an unknown identifier and a wrong password answer the same bytes", async () => {
  const { email, password } = await verifiedUser();
  const strip = (r) => ({ status: r.status, body: { error: { ...r.body.error, request_id: "-" } }, auth: r.headers.get("www-authenticate") });
  const wrong = await login(email, "not-the-password");
  const unknown = await login(uniqueEmail("nobody"), password);
  assert.equal(wrong.status, 401);
  assert.deepEqual(strip(unknown), strip(wrong));
  assert.equal((await login("not an email", password)).status, 400);
});

test("login attempts are limited per identifier (10 a minute)", async () => {
  const email = uniqueEmail("flood");
  const answers = [];
  for (let i = 0; i < 11; i++) answers.push((await login(email, "whatever-password")).status);
  assert.deepEqual(answers.slice(0, 10), Array(10).fill(401));
  assert.equal(answers[10], 429);
  const other = await login(uniqueEmail("calm"), "whatever-password");
  assert.equal(other.status, 401, "another identifier is not limited");
});

test("signup: verification link, resend retires the old link, same answers for known and unknown addresses", async () => {
  const email = uniqueEmail("signup");
  const password = "a-long-passphrase-7";
  const first = await call(fx.server.origin, "POST", "/auth/signup", { body: { name: "Alice", email: email.toUpperCase(), password } });
  assert.equal(first.status, 202);
  assert.equal(first.body.email, email, "the normalised address");
  const oldLink = await linkFor(email);
  assert.match(oldLink, /^atomv_[A-Za-z0-9_-]{43}$/);
  const early = await login(email, password);
  assert.equal(early.status, 403);
  assert.equal(early.body.error.code, "email_not_verified");

  const resend = await call(fx.server.origin, "POST", "/auth/email/resend", { body: { email } });
  const unknown = await call(fx.server.origin, "POST", "/auth/email/resend", { body: { email: uniqueEmail("ghost") } });
  assert.equal(resend.status, 202);
  assert.deepEqual({ ...unknown.body, email: "-" }, { ...resend.body, email: "-" });
  let newLink;
  for (let i = 0; i < 40 && (!newLink || newLink === oldLink); i++) newLink = await linkFor(email);
  assert.notEqual(newLink, oldLink);
  assert.equal((await call(fx.server.origin, "GET", `/auth/email/verify?token=${oldLink}`)).status, 400, "a resend retires the old link");
  const verified = await call(fx.server.origin, "GET", `/auth/email/verify?token=${newLink}`);
  assert.equal(verified.status, 200);
  assert.equal(verified.body.email, email);
  assert.equal((await call(fx.server.origin, "GET", `/auth/email/verify?token=${newLink}`)).status, 400, "single use");

  const session = await login(email, password);
  assert.equal(session.status, 200);
  const me = await call(fx.server.origin, "GET", "/v1/whoami", { token: session.body.token });
  assert.equal(me.body.data.auth_method, "session");
  assert.equal(me.body.data.role, "owner", "owner of a new personal org");

  const again = await call(fx.server.origin, "POST", "/auth/signup", { body: { name: "Mallory", email, password: "another-passphrase-8" } });
  assert.equal(again.status, 202);
  assert.deepEqual(again.body, first.body, "a taken address answers the same");
  assert.equal((await login(email, "another-passphrase-8")).status, 401, "and changes nothing");
});

test("signups and verification emails are limited per address", async () => {
  const email = uniqueEmail("busy");
  const statuses = [];
  for (let i = 0; i < 4; i++) {
    statuses.push((await call(fx.server.origin, "POST", "/auth/email/resend", { body: { email } })).status);
  }
  assert.deepEqual(statuses, [202, 202, 202, 429]);
});

test("certificates: register by PEM, authenticate by fingerprint, revoke at once", async () => {
  const e = await entity({ kind: "service", name: "svc" });
  const added = await owner().post(`/entities/${e.id}/credentials/certificates`, { pem: certPem, description: "svc cert" });
  assert.equal(added.status, 201, added.text);
  assert.equal(added.body.fingerprint_sha256, certFingerprint);
  assert.equal(added.body.subject.includes("CN="), true);
  assert.equal((await owner().post(`/entities/${e.id}/credentials/certificates`, { pem: certPem })).status, 409);

  const withCert = (fp) => call(fx.server.origin, "GET", "/v1/whoami", { headers: { "x-client-cert-fingerprint": fp } });
  const me = await withCert(certFingerprint);
  assert.equal(me.status, 200, me.text);
  assert.equal(me.body.data.auth_method, "certificate");
  assert.equal(me.body.data.user_id, e.id);
  assert.equal((await withCert("ab".repeat(32))).status, 401);

  const listed = (await owner().get(`/entities/${e.id}/credentials`)).body.items;
  assert.deepEqual(listed.map((c) => [c.kind, c.identifier]), [["certificate", `sha256:${certFingerprint}`]]);
  assert.equal((await owner().del(`/entities/${e.id}/credentials/${added.body.credential_id}`)).status, 200);
  assert.equal((await withCert(certFingerprint)).status, 401, "revoked on the very next request");
});

test("suspension fails every credential kind on the next request; reactivation restores them", async () => {
  const { email, password, entity_id: id, token: session } = await verifiedUser();
  const signer = as(session);
  const idSecret = (await signer.post(`/entities/${id}/credentials/api-keys`, { description: "device" })).body.key;
  const lookup = (await as(idSecret).post("/v1/keys", { name: "lookup", scheme: "lookup" })).body.data.plain_key;
  const cert = await signer.post(`/entities/${id}/credentials/certificates`, { pem: certPem });
  assert.equal(cert.status, 201, cert.text);
  const probes = {
    session: () => as(session).get("/v1/whoami"),
    id_secret: () => as(idSecret).get("/v1/whoami"),
    lookup: () => as(lookup).get("/v1/whoami"),
    certificate: () => call(fx.server.origin, "GET", "/v1/whoami", { headers: { "x-client-cert-fingerprint": certFingerprint } }),
  };
  const statuses = async () => Object.fromEntries(await Promise.all(Object.entries(probes).map(async ([k, f]) => [k, (await f()).status])));
  assert.deepEqual(await statuses(), { session: 200, id_secret: 200, lookup: 200, certificate: 200 });

  // The user is the owner of their personal org; suspending needs another owner there.
  const [row] = fx.server.sql(`SELECT org_id FROM entities WHERE id = '${id}'`);
  const admin = seedOrg(fx.server, { name: "personal-admin" });
  fx.server.sql(`UPDATE entities SET org_id = '${row.org_id}' WHERE id = '${admin.entity}'; UPDATE credentials SET org_id = '${row.org_id}' WHERE id = '${admin.keyId}'`);
  for (const status of ["suspended", "inactive"]) {
    const r = await as(admin.key).patch(`/entities/${id}`, { status });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(await statuses(), { session: 401, id_secret: 401, lookup: 401, certificate: 401 }, status);
    assert.equal((await login(email, password)).status, 401, `${status}: login refused`);
  }
  assert.equal((await as(admin.key).patch(`/entities/${id}`, { status: "active" })).status, 200);
  assert.deepEqual(await statuses(), { session: 200, id_secret: 200, lookup: 200, certificate: 200 });

  // Revocation of one credential is live too.
  const keyId = idSecret.split("_")[1];
  assert.equal((await as(admin.key).del(`/entities/${id}/credentials/${keyId}`)).status, 200);
  assert.equal((await probes.id_secret()).status, 401);
  assert.equal((await probes.lookup()).status, 200, "only that credential");
});

test("without self-registration signup is refused; ALLOW_UNVERIFIED_EMAIL_LOGIN lets unverified addresses in, never suspended ones", async () => {
  const server = await keyward({ vars: { SELF_REGISTRATION_ENABLED: "false", ALLOW_UNVERIFIED_EMAIL_LOGIN: "true" } });
  try {
    const signup = await call(server.origin, "POST", "/auth/signup", { body: { name: "A", email: "a@example.com", password: "long-enough-pass" } });
    assert.equal(signup.status, 403);
    assert.equal(signup.body.error.code, "registration_disabled");
    const boot = (await call(server.origin, "POST", "/admin/bootstrap", { token: server.vars.ADMIN_TOKEN, body: { org_name: "b" } })).body;
    const t = boot.plain_key;
    const e = (await call(server.origin, "POST", "/entities", { token: t, body: { kind: "human", name: "u", email: "u@example.com" } })).body;
    const set = await call(server.origin, "POST", `/entities/${e.id}/credentials/password`, { token: t, body: { password: "long-enough-pass" } });
    assert.equal((await login("u@example.com", "long-enough-pass", server.origin)).status, 200);
    await call(server.origin, "PATCH", `/entities/${e.id}`, { token: t, body: { status: "suspended" } });
    assert.equal((await login("u@example.com", "long-enough-pass", server.origin)).status, 401);
    await call(server.origin, "PATCH", `/entities/${e.id}`, { token: t, body: { status: "active" } });
    assert.equal((await login("u@example.com", "long-enough-pass", server.origin)).status, 200);

    // The account is still held by the org (unverified, one membership): the admin's
    // revocation of its password refuses the next login.
    const revoked = await call(server.origin, "DELETE", `/entities/${e.id}/credentials/${set.body.credential_id}`, { token: t });
    assert.equal(revoked.status, 200, revoked.text);
    assert.equal(revoked.body.status, "revoked");
    assert.equal((await login("u@example.com", "long-enough-pass", server.origin)).status, 401);
  } finally {
    await server.stop();
    server.cleanup();
  }
});

test("development-only settings are refused outside ENVIRONMENT=development", async () => {
  const server = await keyward({ vars: { ENVIRONMENT: "production", DEV_CLIENT_CERT_HEADER: "true", DEV_OUTBOX: "false" }, readyWhen: (r) => r.status === 500 });
  try {
    for (const p of ["/v1/whoami", "/dev/outbox", "/auth/login"]) {
      const r = await call(server.origin, "GET", p, { headers: { "x-client-cert-fingerprint": certFingerprint } });
      assert.equal(r.status, 500, `${p}: the misconfigured deployment serves nothing`);
      assert.equal(r.body.error.code, "internal");
    }
    const why = /DEV_OUTBOX and DEV_CLIENT_CERT_HEADER are refused unless ENVIRONMENT=development/;
    for (let i = 0; i < 50 && !why.test(server.log()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(server.log(), why, "the log says why");
  } finally {
    await server.stop();
    server.cleanup();
  }
});
