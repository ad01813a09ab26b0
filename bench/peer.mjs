// Benchmark peer: starts bench/peer-oauth (Cloudflare's workers-oauth-provider) under
// `wrangler dev`, obtains an access token through the real flow (dynamic registration,
// authorization code + PKCE S256, token exchange) and hands back a route that validates it,
// and times the peer's code exchanges and refresh rotations (`flowTimings`), measured the
// same way as ours in scripts/bench-http.mjs. `node bench/peer.mjs` starts it, prints one
// response and the timings, and stops it.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, stopServer, wranglerEnv } from "../scripts/devserver.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const peerDir = path.join(here, "peer-oauth");
const wranglerJs = path.join(here, "..", "node_modules", "wrangler", "bin", "wrangler.js");
const REDIRECT_URI = "http://127.0.0.1:9/callback"; // never contacted: we read the code from Location

const b64url = (buf) => buf.toString("base64url");

async function expectOk(res, what) {
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
  return res;
}

/** Calls `probe` until it returns something other than undefined (a Worker that is not
 * listening yet makes it throw); fails if wrangler exits or `timeoutMs` passes. */
async function waitFor(child, log, probe, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${log()}`);
    try {
      const ready = await probe();
      if (ready !== undefined) return ready;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev did not become ready in ${timeoutMs} ms:\n${log()}`);
}

/** A form POST to the peer's token endpoint; resolves to the parsed answer. */
async function tokenRequest(meta, body, what) {
  const res = await expectOk(
    await fetch(meta.token_endpoint, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(body) }),
    what,
  );
  return res.json();
}

/** Dynamic registration of a public client; resolves to its client_id. */
async function register(meta) {
  const reg = await expectOk(
    await fetch(meta.registration_endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ client_name: "keyward-bench", redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: "none" }),
    }),
    "client registration",
  );
  return (await reg.json()).client_id;
}

/** The authorization request (the peer approves at once); resolves to { code, verifier }. */
async function authorize(meta, client_id) {
  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(16));
  const url = new URL(meta.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id,
    redirect_uri: REDIRECT_URI,
    state,
    code_challenge: b64url(createHash("sha256").update(verifier).digest()),
    code_challenge_method: "S256",
  });
  const auth = await fetch(url, { redirect: "manual" });
  const location = auth.headers.get("location");
  if (auth.status !== 302 || !location) throw new Error(`authorize: HTTP ${auth.status} ${await auth.text()}`);
  const back = new URL(location);
  if (back.searchParams.get("state") !== state || !back.searchParams.get("code")) throw new Error(`authorize: bad redirect ${location}`);
  return { code: back.searchParams.get("code"), verifier };
}

/** The code exchange; resolves to the token answer. */
const exchange = (meta, client_id, { code, verifier }) =>
  tokenRequest(meta, { grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, client_id, code_verifier: verifier }, "token exchange");

/**
 * Ten code exchanges (each timed alone, after its authorization) and `rotations`
 * sequential refresh rotations on one chain: { exchangeMedianMs, rotationMs }.
 */
async function flowTimings(meta, rotations = 100) {
  const client_id = await register(meta);
  const exchanges = [];
  let tokens;
  for (let i = 0; i < 10; i++) {
    const code = await authorize(meta, client_id);
    const start = performance.now();
    tokens = await exchange(meta, client_id, code);
    exchanges.push(performance.now() - start);
  }
  exchanges.sort((a, b) => a - b);
  let refresh = tokens.refresh_token;
  const start = performance.now();
  for (let i = 0; i < rotations; i++) {
    refresh = (await tokenRequest(meta, { grant_type: "refresh_token", refresh_token: refresh, client_id }, `rotation ${i}`)).refresh_token;
  }
  return { exchangeMedianMs: exchanges[5], rotationMs: (performance.now() - start) / rotations };
}

/**
 * Starts the Worker in `dir` under `wrangler dev` on a free loopback port with fresh
 * local state; resolves to { origin, child, stop }.
 */
async function startWorker(dir) {
  const port = await freePort();
  const persistTo = mkdtempSync(path.join(os.tmpdir(), "keyward-peer-")); // fresh KV each run
  const args = [wranglerJs, "dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persistTo, "--log-level", "warn", "--show-interactive-dev-session=false"];
  const child = spawn(process.execPath, args, {
    cwd: dir,
    env: { ...wranglerEnv, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const stop = async () => {
    await stopServer(child); // SIGTERM, SIGKILL after 10 s, waits for exit
    rmSync(persistTo, { recursive: true, force: true });
  };
  return { origin: `http://127.0.0.1:${port}`, child, stop, log: () => out };
}

/** Starts the OAuth peer; resolves to { origin, token, url, pid, stop, flowTimings }. */
export async function startPeer() {
  const { origin, child, stop, log } = await startWorker(peerDir);
  try {
    // The RFC 8414 metadata names the peer's endpoints.
    const meta = await waitFor(child, log, async () => {
      const r = await fetch(`${origin}/.well-known/oauth-authorization-server`);
      return r.ok ? r.json() : undefined;
    });
    const client_id = await register(meta);
    const token = (await exchange(meta, client_id, await authorize(meta, client_id))).access_token;
    const url = `${origin}/api/whoami`;
    await expectOk(await fetch(url, { headers: { Authorization: `Bearer ${token}` } }), "GET /api/whoami");
    return { origin, token, url, pid: child.pid, stop, flowTimings: (rotations) => flowTimings(meta, rotations) };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Starts the KV peer (bench/kv-peer: KV calls, no authentication); resolves to { origin, pid, stop }. */
export async function startKvPeer() {
  const { origin, child, stop, log } = await startWorker(path.join(here, "kv-peer"));
  try {
    await waitFor(child, log, async () => ((await fetch(`${origin}/kv/ready`, { method: "PUT", body: "1" })).ok ? true : undefined));
    return { origin, pid: child.pid, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const peer = await startPeer();
  try {
    const res = await fetch(peer.url, { headers: { Authorization: `Bearer ${peer.token}` } });
    console.log(`peer (pid ${peer.pid}) token-validated route: GET ${peer.url}`);
    console.log(`${res.status} ${await res.text()}`);
    const t = await peer.flowTimings(20);
    console.log(`code exchange median ${t.exchangeMedianMs.toFixed(1)} ms; refresh rotation ${t.rotationMs.toFixed(1)} ms each`);
  } finally {
    await peer.stop();
  }
}
