// The `keyward` CLI end to end (issue 11) against a real `wrangler dev`: `keyward login
// --no-browser` prints the URL and headless Chromium completes the sign-in; then whoami,
// kv put/get/ls/rm (binary-safe, from an argument, a file and stdin), keys
// create/list/revoke with and without --json; an access token that expires is refreshed
// on its own, also by two processes at once without tripping reuse detection; logout
// revokes; exit codes say the kind of failure; tables are looked at in a real terminal
// (tmux), captured into .cache/screenshots/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { call, client, useKeyward } from "./helpers.mjs";
import { formPost } from "./oauth-helpers.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const bin = path.join(root, "pkg", "dist", "cli", "bin.js");
const shots = path.join(root, ".cache", "screenshots");
// Access tokens live 6 s: the CLI refreshes them (a quarter of their life before expiry).
const fx = useKeyward({ prefix: "ptmc", vars: { OAUTH_ACCESS_TOKEN_TTL_SECONDS: "6" } });
const config = mkdtempSync(path.join(os.tmpdir(), "keyward-cli-"));
const env = { ...process.env, XDG_CONFIG_HOME: config, KEYWARD_TOKEN: "", KEYWARD_ENDPOINT: "" };
let browser;
let person;

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
});
after(async () => {
  await browser?.close();
  rmSync(config, { recursive: true, force: true });
});

/** Runs the CLI; resolves to { code, stdout (Buffer), stderr }. */
function cli(args, { input, extraEnv = {}, onStderr } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...env, ...extraEnv }, stdio: ["pipe", "pipe", "pipe"] });
    const out = [];
    let err = "";
    child.stdout.on("data", (d) => out.push(d));
    child.stderr.on("data", (d) => {
      err += d;
      onStderr?.(err);
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.end(input);
  });
}
const text = (r) => r.stdout.toString("utf8");

/** Signs `who` in through the pages in Chromium and allows access for acme. */
async function approveInBrowser(url, who, orgName = "acme") {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForSelector("text=Allow access?");
  await page.getByText(orgName, { exact: false }).first().click();
  await page.getByRole("button", { name: "Allow" }).click();
  await page.waitForSelector("text=Sign-in received");
  await context.close();
}

async function signUp() {
  const email = `cli-${Date.now()}@example.com`;
  const password = "cli-passphrase-42";
  assert.equal((await call(fx.server.origin, "POST", "/auth/signup", { body: { name: "Cli", email, password } })).status, 202);
  fx.server.sql(`UPDATE accounts SET email_verified_at = 1 WHERE email = '${email}'`);
  assert.equal((await client(fx.server.origin, fx.owner.plain_key).post("/v1/members", { email, role: "admin" })).status, 202);
  return { email, password };
}

const tokenFile = () => path.join(config, "keyward", "profiles", `${new URL(fx.server.origin).host.replace(/[^a-zA-Z0-9.-]/g, "_")}.json`);

async function login() {
  let opened = false;
  let approval;
  const run = cli(["login", "--endpoint", fx.server.origin, "--no-browser"], {
    onStderr: (err) => {
      const url = err.match(/(http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+)/)?.[1];
      if (url && !opened) {
        opened = true;
        approval = approveInBrowser(url, person);
      }
    },
  });
  const result = await run;
  await approval;
  return result;
}

test("login: the URL is printed, the browser signs in, the tokens are stored 0600 in a 0700 directory", async () => {
  person = await signUp();
  const result = await login();
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /Open this URL in a browser to sign in/);
  assert.match(result.stderr, /Waiting for the browser sign-in/);
  assert.match(text(result), /Signed in to http:\/\/127\.0\.0\.1:\d+ \(org org_[0-9a-f]{32}, admin\)/);
  assert.equal(statSync(tokenFile()).mode & 0o777, 0o600);
  assert.equal(statSync(path.dirname(path.dirname(tokenFile()))).mode & 0o777, 0o700);
  const stored = JSON.parse(readFileSync(tokenFile(), "utf8"));
  assert.match(stored.accessToken, /^ptmc_oat_/);
  assert.doesNotMatch(result.stderr + text(result), /ptmc_o[ar]t_/, "no token is ever printed");
  const me = await cli(["whoami", "--json"]);
  assert.equal(me.code, 0, me.stderr);
  assert.equal(JSON.parse(text(me)).auth_method, "oauth");
  assert.match(text(await cli(["whoami"])), /method:\s+oauth/);
});

test("kv: put from an argument, a file and stdin; get is binary-safe; ls and rm; --json", async () => {
  assert.equal((await client(fx.server.origin, fx.owner.plain_key).post("/v1/namespaces", { name: "cli" })).status, 201);
  assert.equal((await cli(["kv", "put", "cli", "greeting", "hello"])).code, 0);
  assert.equal(text(await cli(["kv", "get", "cli", "greeting"])), "hello");
  const bytes = randomBytes(2048);
  bytes[0] = 0;
  const file = path.join(config, "blob.bin");
  writeFileSync(file, bytes);
  assert.equal((await cli(["kv", "put", "cli", "from/file", "--file", file])).code, 0);
  assert.ok((await cli(["kv", "get", "cli", "from/file"])).stdout.equals(bytes), "a file round trip, byte for byte");
  const piped = randomBytes(300);
  const put = await cli(["kv", "put", "cli", "from-stdin", "--json"], { input: piped });
  assert.deepEqual(JSON.parse(text(put)), { namespace: "cli", key: "from-stdin", size: 300 });
  assert.ok((await cli(["kv", "get", "cli", "from-stdin"])).stdout.equals(piped), "stdin round trip");
  assert.deepEqual(text(await cli(["kv", "ls", "cli"])).trim().split("\n"), ["from-stdin", "from/file", "greeting"]);
  assert.deepEqual(JSON.parse(text(await cli(["kv", "ls", "cli", "--prefix", "from", "--json"]))), ["from-stdin", "from/file"]);
  const got = JSON.parse(text(await cli(["kv", "get", "cli", "greeting", "--json"])));
  assert.equal(Buffer.from(got.base64, "base64").toString(), "hello");
  assert.equal((await cli(["kv", "rm", "cli", "greeting"])).code, 0);
  const missing = await cli(["kv", "get", "cli", "greeting"]);
  assert.equal(missing.code, 5, "not found");
  assert.match(missing.stderr, /not found/);
});

test("keys: create, list, revoke, with and without --json; tables look right in a terminal", async () => {
  const created = await cli(["keys", "create", "--name", "ci", "--namespaces", "cli", "--json"]);
  assert.equal(created.code, 0, created.stderr);
  const key = JSON.parse(text(created));
  assert.match(key.plain_key, /^ptmc_/);
  assert.deepEqual(key.namespaces, ["cli"]);
  const human = await cli(["keys", "create", "--name", "human"]);
  assert.match(text(human), /key \(shown once, store it now\):\nptmc_/);
  const listed = JSON.parse(text(await cli(["keys", "list", "--json"])));
  assert.ok(listed.some((k) => k.id === key.id));
  const revoked = await cli(["keys", "revoke", key.id]);
  assert.match(text(revoked), new RegExp(`revoked ${key.id}`));
  const withKey = await cli(["kv", "get", "cli", "from-stdin"], { extraEnv: { KEYWARD_TOKEN: key.plain_key, KEYWARD_ENDPOINT: fx.server.origin } });
  assert.equal(withKey.code, 3, "a revoked key: authentication");
  const limited = JSON.parse(text(await cli(["keys", "create", "--name", "elsewhere", "--namespaces", "cli", "--json"])));
  assert.equal((await client(fx.server.origin, fx.owner.plain_key).post("/v1/namespaces", { name: "secret" })).status, 201);
  const denied = await cli(["kv", "get", "secret", "x"], { extraEnv: { KEYWARD_TOKEN: limited.plain_key, KEYWARD_ENDPOINT: fx.server.origin } });
  assert.equal(denied.code, 4, "permission");
  assert.match(denied.stderr, /permission/);
  assert.equal((await cli(["keys", "frobnicate"])).code, 2, "usage");
  assert.equal((await cli(["--no-such-flag"])).code, 2, "usage");
  assert.match(text(await cli(["kv", "--help"])), /keyward kv put <namespace> <key>/);

  // In a real terminal (160 columns): the table's columns line up under their headers.
  if (spawnSync("tmux", ["-V"]).status !== 0) throw new Error("tmux is missing: scripts/setup.sh installs it");
  const session = `keyward-cli-${process.pid}`;
  const shell = `env XDG_CONFIG_HOME=${config} KEYWARD_TOKEN= KEYWARD_ENDPOINT= ${process.execPath} ${bin}`;
  spawnSync("tmux", ["new-session", "-d", "-s", session, "-x", "160", "-y", "40", `${shell} keys list; ${shell} kv ls cli; ${shell} whoami; sleep 30`]);
  try {
    let screen = "";
    for (let i = 0; i < 100 && !/method:/.test(screen); i++) {
      await new Promise((r) => setTimeout(r, 100));
      screen = spawnSync("tmux", ["capture-pane", "-p", "-t", session], { encoding: "utf8" }).stdout;
    }
    mkdirSync(shots, { recursive: true });
    writeFileSync(path.join(shots, "cli-terminal.txt"), screen);
    const lines = screen.split("\n");
    const header = lines.find((l) => l.startsWith("ID "));
    assert.ok(header, screen);
    const nameAt = header.indexOf("NAME");
    const rows = lines.filter((l) => /^[0-9a-f]{32} /.test(l));
    assert.ok(rows.length >= 2, screen);
    for (const row of rows) assert.ok(row[nameAt - 1] === " " && row[nameAt] !== " ", `aligned under NAME:\n${screen}`);
    assert.ok(lines.every((l) => l.length < 160), "no line fills the terminal (none wrapped)");
  } finally {
    spawnSync("tmux", ["kill-session", "-t", session]);
  }
});

test("an expired access token is refreshed on its own, also by two processes at once; logout revokes", async () => {
  const before = JSON.parse(readFileSync(tokenFile(), "utf8"));
  await new Promise((r) => setTimeout(r, 6500));
  const [a, b] = await Promise.all([cli(["whoami", "--json"]), cli(["whoami", "--json"])]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const after = JSON.parse(readFileSync(tokenFile(), "utf8"));
  assert.notEqual(after.refreshToken, before.refreshToken, "rotated");
  const third = await cli(["whoami"]);
  assert.equal(third.code, 0, "the grant is alive: the two processes did not present one refresh token twice");
  const reused = await formPost(fx.server.origin, { grant_type: "refresh_token", refresh_token: before.refreshToken, client_id: before.clientId });
  assert.equal(reused.body.error, "invalid_grant");

  const current = JSON.parse(readFileSync(tokenFile(), "utf8"));
  // That replay of a rotated token was reuse: the grant ended. Sign in again to test logout.
  const again = await login();
  assert.equal(again.code, 0, again.stderr);
  const fresh = JSON.parse(readFileSync(tokenFile(), "utf8"));
  assert.notEqual(fresh.refreshToken, current.refreshToken);
  const out = await cli(["logout"]);
  assert.equal(out.code, 0, out.stderr);
  assert.throws(() => statSync(tokenFile()), /ENOENT/, "the token file is gone");
  const afterLogout = await formPost(fx.server.origin, { grant_type: "refresh_token", refresh_token: fresh.refreshToken, client_id: fresh.clientId });
  assert.equal(afterLogout.body.error, "invalid_grant", "revoked at the service");
  const signedOut = await cli(["whoami"]);
  assert.equal(signedOut.code, 3);
  assert.match(signedOut.stderr, /keyward login/);
});
