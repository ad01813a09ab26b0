// Migration 0003 (accounts and memberships) on a database made by the previous
// migrations and holding their kind of data: 0001 and 0002 are applied alone to a fresh
// local D1, rows are written in the old schema (a person with a password, a session,
// a pending verification and a lookup key; a service with an email and a password;
// a person without one), then the real migrations run and a real `wrangler dev` serves
// the result.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { hash } from "@node-rs/argon2";
import { call, keyward } from "./helpers.mjs";
import { wranglerEnv } from "../../scripts/devserver.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const wranglerJs = path.join(root, "node_modules/wrangler/bin/wrangler.js");
const work = mkdtempSync(path.join(tmpdir(), "keyward-migration-"));
const state = path.join(work, "state");
let server;
after(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** A wrangler config that knows only the database and the first two migrations. */
function oldSchemaConfig() {
  const dir = path.join(work, "migrations");
  mkdirSync(dir);
  for (const name of ["0001_init.sql", "0002_identity.sql"]) copyFileSync(path.join(root, "worker/migrations", name), path.join(dir, name));
  const config = path.join(work, "wrangler.toml");
  writeFileSync(
    config,
    `name = "keyward-old"\ncompatibility_date = "2026-04-01"\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "keyward"\ndatabase_id = "00000000-0000-0000-0000-000000000000"\nmigrations_dir = "${dir}"\n`,
  );
  return config;
}

function wrangler(config, ...args) {
  const r = spawnSync(process.execPath, [wranglerJs, ...args, "--local", "--persist-to", state, "--config", config], {
    cwd: work,
    env: wranglerEnv,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`wrangler ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test("0003 turns people into accounts with one membership each, and everything keeps working", async () => {
  const config = oldSchemaConfig();
  wrangler(config, "d1", "migrations", "apply", "DB");
  const secret = randomBytes(32).toString("hex");
  const hex = (n) => randomBytes(n).toString("hex");
  const now = Math.floor(Date.now() / 1000);
  const org = `org_${hex(16)}`;
  const alice = `ent_${hex(16)}`;
  const svc = `ent_${hex(16)}`;
  const bob = `ent_${hex(16)}`;
  const [alicePw, svcPw, aliceKeyId] = [hex(16), hex(16), hex(16)];
  const session = hex(16);
  const key = `ptmc_${randomBytes(32).toString("base64url")}`;
  const lookupHash = pbkdf2Sync(key, secret, 1000, 32, "sha256").toString("hex");
  const phc = await hash("correct horse battery staple", { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 });
  const verification = createHmac("sha256", secret).update("ptmcv_unused").digest("hex");
  wrangler(
    config,
    "d1",
    "execute",
    "DB",
    "--command",
    `INSERT INTO orgs (id, name, created_at) VALUES ('${org}', 'acme', ${now});
     INSERT INTO entities (id, org_id, kind, name, email, email_verified_at, role, status, created_at, updated_at)
       VALUES ('${alice}', '${org}', 'human', 'Alice', 'alice@acme.example', ${now}, 'owner', 'active', ${now}, ${now}),
              ('${svc}', '${org}', 'service', 'svc', 'svc@acme.example', NULL, 'member', 'active', ${now}, ${now}),
              ('${bob}', '${org}', 'human', 'Bob', NULL, NULL, 'member', 'active', ${now}, ${now});
     INSERT INTO credentials (id, org_id, entity_id, kind, name, secret_phc, created_at)
       VALUES ('${alicePw}', '${org}', '${alice}', 'password', 'password', '${phc}', ${now}),
              ('${svcPw}', '${org}', '${svc}', 'password', 'password', '${phc}', ${now});
     INSERT INTO credentials (id, org_id, entity_id, kind, name, scheme, key_prefix, lookup_hash, rate_limit_rpm, created_at)
       VALUES ('${aliceKeyId}', '${org}', '${alice}', 'api_key', 'old key', 'lookup', '${key.slice(0, 12)}', '${lookupHash}', 60, ${now});
     INSERT INTO sessions (id, org_id, entity_id, credential_id, kid, created_at, expires_at)
       VALUES ('${session}', '${org}', '${alice}', '${alicePw}', 'k1', ${now}, ${now + 3600});
     INSERT INTO email_verifications (token_hash, entity_id, email, created_at, expires_at)
       VALUES ('${verification}', '${alice}', 'alice@acme.example', ${now}, ${now + 86400});`,
  );

  server = await keyward({ persistTo: state, vars: { HASH_SECRET: secret } });
  const accounts = server.sql("SELECT id, email, email_verified_at, status, last_org_id FROM accounts");
  assert.deepEqual(accounts, [
    { id: `acc_${alice.slice(4)}`, email: "alice@acme.example", email_verified_at: now, status: "active", last_org_id: org },
  ]);
  const entities = server.sql("SELECT id, account_id FROM entities ORDER BY name");
  assert.deepEqual(
    Object.fromEntries(entities.map((e) => [e.id, e.account_id])),
    { [alice]: accounts[0].id, [bob]: null, [svc]: null },
    "only the person with an email got an account",
  );
  assert.deepEqual(server.sql("SELECT id, account_id FROM passwords"), [{ id: alicePw, account_id: accounts[0].id }]);
  assert.equal(server.sql("SELECT count(*) AS n FROM credentials WHERE kind = 'password'")[0].n, 0);
  assert.deepEqual(server.sql("SELECT id, account_id, password_id FROM sessions"), [{ id: session, account_id: accounts[0].id, password_id: alicePw }]);
  assert.deepEqual(server.sql("SELECT token_hash, account_id FROM email_verifications"), [{ token_hash: verification, account_id: accounts[0].id }]);

  // The old password signs in, into the one org, and the old key still authenticates.
  const login = await call(server.origin, "POST", "/auth/login", { body: { identifier: "Alice@ACME.example", secret: "correct horse battery staple" } });
  assert.equal(login.status, 200, login.text);
  assert.equal(login.body.entity_id, alice);
  const orgs = await call(server.origin, "GET", "/auth/orgs", { token: login.body.token });
  assert.deepEqual(orgs.body.items.map((o) => [o.org_id, o.role, o.current]), [[org, "owner", true]]);
  const whoami = await call(server.origin, "GET", "/v1/whoami", { token: key });
  assert.equal(whoami.status, 200);
  assert.equal(whoami.body.data.user_id, alice);
  const me = await call(server.origin, "GET", `/entities/${alice}`, { token: key });
  assert.equal(me.body.email, "alice@acme.example");
  assert.equal(me.body.email_verified, true);
  // The service's password is gone with its email: services sign in with keys.
  const svcLogin = await call(server.origin, "POST", "/auth/login", { body: { identifier: "svc@acme.example", secret: "correct horse battery staple" } });
  assert.equal(svcLogin.status, 401);
});
