// Starts Keyward's Worker under `wrangler dev` and stops it by PID: used by `npm start`
// and by the end-to-end tests. Local D1/KV/Durable Object state lives in `persistTo`
// and survives restarts.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import net from "node:net";
import path from "node:path";
import { root } from "./lib.mjs";

const workerDir = path.join(root, "worker");
const wranglerJs = path.join(root, "node_modules", "wrangler", "bin", "wrangler.js");
export const wranglerEnv = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_LOG: process.env.WRANGLER_LOG ?? "warn" };

/** A free TCP port on loopback. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The secrets a local server needs, each 32 random bytes in hex. */
const LOCAL_SECRETS = ["HASH_SECRET", "ADMIN_TOKEN", "SIGNING_SECRET"];

/**
 * Local secrets in worker/.dev.vars (ignored by git): created on first start, and any
 * secret a newer version needs is appended, never replacing one that exists.
 */
export function ensureDevVars() {
  const file = path.join(workerDir, ".dev.vars");
  const read = () =>
    existsSync(file)
      ? Object.fromEntries(readFileSync(file, "utf8").split("\n").filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split(/=(.*)/s).slice(0, 2)))
      : {};
  const missing = LOCAL_SECRETS.filter((name) => !read()[name]);
  if (missing.length) {
    const header = existsSync(file) ? "" : "# Local secrets, generated on first start. Never commit this file.\n";
    const lines = missing.map((name) => `${name}=${randomBytes(32).toString("hex")}\n`).join("");
    writeFileSync(file, header + lines, { mode: 0o600, flag: "a" });
    console.log(`wrote ${missing.join(", ")} to ${file}`);
  }
  return read();
}

/**
 * Settings of a local server (`npm start` and the tests): development mode, the dev
 * outbox at GET /dev/outbox, client certificates named by the X-Client-Cert-Fingerprint
 * header (there is no mTLS locally), and open self-registration. Production keeps the
 * committed defaults of wrangler.toml, where all of these are off.
 */
export const LOCAL_SETTINGS = { ENVIRONMENT: "development", DEV_OUTBOX: "true", DEV_CLIENT_CERT_HEADER: "true", SELF_REGISTRATION_ENABLED: "true" };

/** Applies D1 migrations to the local database in `persistTo`. */
export function migrate(persistTo) {
  const r = spawnSync(process.execPath, [wranglerJs, "d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo], {
    cwd: workerDir,
    env: wranglerEnv,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`d1 migrations apply failed:\n${r.stdout}\n${r.stderr}`);
}

/**
 * Starts `wrangler dev` on 127.0.0.1:`port` and resolves once /health answers as
 * `readyWhen` wants (by default 2xx; a test of a misconfigured deployment takes any answer).
 * `vars` are passed with --var (settings and, in tests, secrets).
 */
export async function startServer({ port, persistTo, vars = {}, stdio = "pipe", timeoutMs = 180_000, readyWhen = (r) => r.ok }) {
  // Each server gets its own inspector port: two servers starting together would both
  // take the default 9229, and one would exit.
  const inspectorPort = await freePort();
  const args = [wranglerJs, "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort), "--persist-to", persistTo, "--show-interactive-dev-session=false", "--log-level", "warn"];
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  const child = spawn(process.execPath, args, { cwd: workerDir, env: wranglerEnv, stdio: ["ignore", stdio, stdio], detached: false });
  let log = "";
  if (stdio === "pipe") {
    child.stdout.on("data", (d) => (log += d));
    child.stderr.on("data", (d) => (log += d));
  }
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${log}`);
    try {
      const r = await fetch(`${origin}/health`);
      if (readyWhen(r)) return { origin, child, port, log: () => log, stop: () => stopServer(child) };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stopServer(child);
  throw new Error(`wrangler dev did not become ready in ${timeoutMs} ms:\n${log}`);
}

/** Stops the server by its PID and waits for it to exit. */
export function stopServer(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
