// Shared by the end-to-end tests: a real `wrangler dev` on a free loopback port with a
// fresh local state folder, the secrets the tests need to know, and small HTTP and D1
// helpers. Every server is stopped by its PID in `after`.
import { after, before } from "node:test";
import { spawnSync } from "node:child_process";
import http from "node:http";
import net from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { pbkdf2Sync, randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { LOCAL_SETTINGS, freePort, migrate, startServer, wranglerEnv } from "../../scripts/devserver.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * Starts a Keyward server with a fresh state folder (or `persistTo`, to restart on the
 * same state). Returns `{ origin, stop, restart, sql, vars, persistTo }`.
 */
export async function keyward({ prefix = "ptmc", persistTo, vars: extra = {}, readyWhen } = {}) {
  const state = persistTo ?? mkdtempSync(path.join(tmpdir(), "keyward-e2e-"));
  const vars = {
    ...LOCAL_SETTINGS,
    KEY_PREFIX: prefix,
    HASH_SECRET: randomBytes(32).toString("hex"),
    ADMIN_TOKEN: randomBytes(32).toString("hex"),
    SIGNING_SECRET: randomBytes(32).toString("hex"),
    ...extra,
  };
  migrate(state);
  let server = await startServer({ port: await freePort(), persistTo: state, vars, readyWhen });
  const handle = {
    vars,
    persistTo: state,
    get origin() {
      return server.origin;
    },
    /** What `wrangler dev` printed (warnings and errors). */
    log() {
      return server.log();
    },
    /** The PID of the `wrangler dev` process (its workerd runs beneath it). */
    pid() {
      return server.child.pid;
    },
    async stop() {
      await server.stop();
    },
    /**
     * Kills `wrangler dev` and every process beneath it (workerd) with SIGKILL, as a
     * crash would: nothing gets to flush or finish. `restart()` then starts it again.
     */
    async kill() {
      const tree = descendants(server.child.pid);
      for (const pid of [server.child.pid, ...tree]) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      await server.stop();
    },
    /**
     * Stops the server and starts it again on the same state (a new port), with the
     * settings `changed` over the first start's.
     */
    async restart(changed = {}) {
      await server.stop();
      Object.assign(vars, changed);
      server = await startServer({ port: await freePort(), persistTo: state, vars });
    },
    /**
     * Runs SQL against the local D1 database and returns the rows. The database file is
     * shared with the running server, whose writes after an answer (audit entries, a key's
     * last use) can hold its lock for a moment: SQLITE_BUSY is retried a few times.
     */
    sql(command) {
      for (let attempt = 1; ; attempt++) {
        const r = spawnSync(
          process.execPath,
          [path.join(root, "node_modules/wrangler/bin/wrangler.js"), "d1", "execute", "DB", "--local", "--persist-to", state, "--json", "--command", command],
          { cwd: path.join(root, "worker"), env: { ...wranglerEnv, WRANGLER_LOG: "log" }, encoding: "utf8" },
        );
        if (r.status === 0) return JSON.parse(r.stdout)[0].results;
        if (attempt >= 5 || !/SQLITE_BUSY/.test(`${r.stderr}${r.stdout}`)) throw new Error(`d1 execute failed: ${r.stderr}\n${r.stdout}`);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250 * attempt);
      }
    },
    /** The lookup hash of a key as the server stores it, computed by node:crypto. */
    lookupHash(key) {
      return pbkdf2Sync(key, vars.HASH_SECRET, 1000, 32, "sha256").toString("hex");
    },
    cleanup() {
      if (!persistTo) rmSync(state, { recursive: true, force: true });
    },
  };
  return handle;
}

/** The PIDs of every process beneath `pid`, from `ps`. */
function descendants(pid) {
  const rows = spawnSync("ps", ["-e", "-o", "pid=,ppid="], { encoding: "utf8" }).stdout.trim().split("\n");
  const children = new Map();
  for (const row of rows) {
    const [child, parent] = row.trim().split(/\s+/).map(Number);
    children.set(parent, [...(children.get(parent) ?? []), child]);
  }
  const out = [];
  const walk = (p) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/**
 * A JSON request over a fresh loopback connection; returns `{ status, headers, body,
 * text }`. No keep-alive: a pooled socket that the dev server closes while idle can
 * swallow a request under bursts, which would test the client, not the service.
 */
export function call(origin, method, pathname, { token, body, headers = {}, raw, timeoutMs = 60_000 } = {}) {
  const h = { ...headers };
  if (token !== undefined) h.authorization = `Bearer ${token}`;
  let payload = raw;
  if (body !== undefined) {
    h["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  if (payload !== undefined) h["content-length"] = Buffer.byteLength(payload);
  return new Promise((resolve, reject) => {
    const req = http.request(`${origin}${pathname}`, { method, headers: h, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: new Headers(flatHeaders(res.headers)), body: json, text });
      });
      res.on("error", reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${pathname}: no answer in ${timeoutMs} ms`)));
    req.on("error", (error) => reject(new Error(`${method} ${origin}${pathname}: ${error.message}`)));
    req.end(payload);
  });
}

/** JSON requests to `origin` with one bearer token: `get`, `post`, `patch`, `del`. */
export function client(origin, token) {
  return {
    get: (p) => call(origin, "GET", p, { token }),
    post: (p, body) => call(origin, "POST", p, { token, body }),
    patch: (p, body) => call(origin, "PATCH", p, { token, body }),
    del: (p) => call(origin, "DELETE", p, { token }),
  };
}

/**
 * A raw HTTP/1.1 exchange over loopback, for requests Node's http refuses to send
 * (bare control bytes, folded or duplicate headers). Sends `request` (latin1) and
 * resolves with everything the server wrote, as a latin1 string.
 */
export function rawExchange(origin, request, { timeoutMs = 30_000 } = {}) {
  const { port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), "127.0.0.1", () => socket.end(Buffer.from(request, "latin1")));
    const chunks = [];
    socket.on("data", (d) => chunks.push(d));
    socket.on("end", () => resolve(Buffer.concat(chunks).toString("latin1")));
    socket.on("error", reject);
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error("timeout")));
  });
}

function flatHeaders(headers) {
  return Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v)]);
}

/** Bootstraps the first org; returns the bootstrap answer (with `plain_key`). */
export async function bootstrap(server, orgName = "acme") {
  const r = await call(server.origin, "POST", "/admin/bootstrap", {
    token: server.vars.ADMIN_TOKEN,
    body: { org_name: orgName, owner_email: `owner@${orgName}.example` },
  });
  if (r.status !== 201) throw new Error(`bootstrap failed: ${r.status} ${r.text}`);
  return r.body;
}

/**
 * Creates a second org with a member entity and one lookup key directly in D1 (there
 * is no public org-creation endpoint yet besides bootstrap). `entityStatus` lets a test
 * create a soft-deleted entity, `namespaces` the key's namespaces (`["*"]`: all).
 */
export function seedOrg(server, { name = "other", role = "owner", entityStatus = "active", prefix = server.vars.KEY_PREFIX, namespaces = [] } = {}) {
  const hex = (n) => randomBytes(n).toString("hex");
  const org = `org_${hex(16)}`;
  const entity = `ent_${hex(16)}`;
  const keyId = hex(16);
  const key = `${prefix}_${randomBytes(32).toString("base64url")}`;
  const now = Math.floor(Date.now() / 1000);
  server.sql(
    `INSERT INTO orgs (id, name, created_at) VALUES ('${org}', '${name}', ${now});
     INSERT INTO entities (id, org_id, kind, name, role, status, created_at, updated_at)
       VALUES ('${entity}', '${org}', 'service', '${name}-svc', '${role}', '${entityStatus}', ${now}, ${now});
     INSERT INTO credentials (id, org_id, entity_id, kind, name, scheme, key_prefix, lookup_hash, rate_limit_rpm, namespaces, created_at)
       VALUES ('${keyId}', '${org}', '${entity}', 'api_key', 'seeded', 'lookup', '${key.slice(0, 12)}', '${server.lookupHash(key)}', 60, '${JSON.stringify(namespaces)}', ${now});`,
  );
  return { org, entity, keyId, key };
}

/**
 * For a test file: starts a server with the given options and bootstraps it before the
 * tests, stops it after. Returns `{ server, owner }`, filled in once `before` ran.
 */
export function useKeyward(options) {
  const fx = { server: undefined, owner: undefined };
  before(async () => {
    fx.server = await keyward(options);
    fx.owner = await bootstrap(fx.server);
  });
  after(async () => {
    if (process.env.KEYWARD_E2E_LOG) console.log(fx.server?.log());
    await fx.server?.stop();
    fx.server?.cleanup();
  });
  return fx;
}
