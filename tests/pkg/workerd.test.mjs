// The package inside a Worker under workerd: a tiny worker, bundled by wrangler (which
// picks the package's `workerd` export and imports the .wasm as a module), calls the
// real service (another `wrangler dev`) with `Client` and uses the wasm-backed helpers
// synchronously, without `ready()`. The worker returns what it saw as JSON.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "../../pkg/dist/node.js";
import { freePort, stopServer, wranglerEnv } from "../../scripts/devserver.mjs";
import { root } from "../../scripts/lib.mjs";
import { bootstrap, keyward } from "../e2e/helpers.mjs";
import { pkgDir } from "./browser-helpers.mjs";

const WORKER = `
import { Client, PermissionError, AuthenticationError, KeywardError, parseKey, keyPrefix, pkce, checkNamespaceName } from "keyward";

const plain = (e) => ({ name: e.name, message: e.message, status: e.status, code: e.code, requestId: e.requestId, keyward: e instanceof KeywardError });

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return new Response("ok");
    const out = {};
    // The helpers first: synchronous in workerd, no ready() needed.
    out.parsed = parseKey(env.TOKEN);
    out.prefix = keyPrefix(env.TOKEN);
    out.challenge = pkce.challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    try { checkNamespaceName("Not Valid"); } catch (e) { out.nameError = e.code; }

    const client = new Client({ endpoint: env.ENDPOINT, token: env.TOKEN });
    out.whoami = await client.whoami();
    out.put = await client.putKey("myapp", "from/a worker", new Uint8Array([0, 7, 255]));
    out.back = Array.from(await client.getKey("myapp", "from/a worker"));
    out.keys = [];
    for await (const key of client.listKeys("myapp")) out.keys.push(key);
    try { await client.putKey("other", "mykey", "value"); } catch (e) { out.denied = { ...plain(e), isPermission: e instanceof PermissionError }; }
    try { await new Client({ endpoint: env.ENDPOINT, token: "ptmc_" + "A".repeat(43) }).whoami(); }
    catch (e) { out.refused = { ...plain(e), isAuthentication: e instanceof AuthenticationError }; }
    return Response.json(out);
  },
};
`;

let service; // the Keyward service
let owner;
let granted;
let app; // the test worker: { origin, child }
let dir;

/** Starts `wrangler dev` on the test worker in `dir`; resolves once /health answers. */
async function startWorker(vars) {
  const port = await freePort();
  const args = [path.join(root, "node_modules", "wrangler", "bin", "wrangler.js"), "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(await freePort()), "--show-interactive-dev-session=false", "--log-level", "warn"];
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  const child = spawn(process.execPath, args, { cwd: dir, env: wranglerEnv, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const origin = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; ) {
    if (child.exitCode !== null) throw new Error(`wrangler dev (test worker) exited:\n${log}`);
    try {
      if ((await fetch(`${origin}/health`)).ok) return { origin, child, log: () => log };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stopServer(child);
  throw new Error(`the test worker did not start:\n${log}`);
}

before(async () => {
  service = await keyward({ prefix: "ptmc" });
  owner = await bootstrap(service);
  const admin = new Client({ endpoint: service.origin, token: owner.plain_key });
  await admin.namespaces.create("myapp");
  await admin.namespaces.create("other");
  granted = await admin.apiKeys.create({ name: "worker", namespaces: ["myapp"] });

  dir = mkdtempSync(path.join(tmpdir(), "keyward-worker-"));
  mkdirSync(path.join(dir, "node_modules"));
  symlinkSync(pkgDir, path.join(dir, "node_modules", "keyward"), "dir");
  writeFileSync(path.join(dir, "worker.mjs"), WORKER);
  writeFileSync(path.join(dir, "wrangler.toml"), `name = "keyward-sdk-test"\nmain = "worker.mjs"\ncompatibility_date = "2026-04-01"\nsend_metrics = false\n`);
  app = await startWorker({ ENDPOINT: service.origin, TOKEN: granted.plain_key });
});

after(async () => {
  if (app) await stopServer(app.child);
  await service?.stop();
  service?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("workerd: Client calls the service from a Worker, the helpers run synchronously, errors keep their classes", async () => {
  const r = await fetch(`${app.origin}/`);
  const text = await r.text();
  assert.equal(r.status, 200, `${text}\n${app.log()}`);
  const out = JSON.parse(text);
  assert.deepEqual(out.parsed, { scheme: "lookup", keyPrefix: granted.key_prefix, credentialId: null });
  assert.equal(out.prefix, granted.key_prefix);
  assert.equal(out.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  assert.equal(out.nameError, "invalid_namespace");

  assert.equal(out.whoami.key_id, granted.id);
  assert.deepEqual(out.whoami.namespaces, ["myapp"]);
  assert.deepEqual(out.put, { namespace: "myapp", key: "from/a worker", size: 3 });
  assert.deepEqual(out.back, [0, 7, 255]);
  assert.deepEqual(out.keys, ["from/a worker"]);
  assert.equal(out.denied.isPermission, true);
  assert.equal(out.denied.name, "PermissionError");
  assert.ok(out.denied.message.toLowerCase().includes("permission"));
  assert.match(out.denied.requestId, /^req_/);
  assert.equal(out.refused.isAuthentication, true);
  assert.ok(out.refused.message.toLowerCase().includes("authentication"));
});
