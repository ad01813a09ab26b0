// Shared by the hostile suites: a snapshot of the identity tables (and of which
// namespaces exist), raw HTTP exchanges parsed like `call`, the garbage credentials every
// suite opens its 401 cases with, the check every refused answer must pass, and the
// barrage loop that sends the cases, checks the answers and the 401 rule, runs the 2xx
// controls and compares the tables (and any state a suite reads itself, such as KV
// values) before and after.
import { randomBytes } from "node:crypto";
import { call, rawExchange } from "./helpers.mjs";

/** The X-Request-Id the server mints: `req_` and 32 hex digits. */
const REQUEST_ID = /^req_[0-9a-f]{32}$/;

/**
 * Every identity table of `server`'s D1, and `namespaces` (which namespaces exist; their
 * values are in KV, see `runBarrage`'s `state`), rows in a stable order. Credentials
 * leave out `last_used_at`: a key that authenticates records its use.
 */
export function identitySnapshot(server) {
  const rows = (table, order = "id") => server.sql(`SELECT * FROM ${table} ORDER BY ${order}`);
  return {
    orgs: rows("orgs"),
    entities: rows("entities"),
    credentials: server.sql(
      "SELECT id, org_id, entity_id, kind, name, scheme, key_prefix, lookup_hash, secret_phc, rate_limit_rpm, namespaces, created_at, expires_at, revoked_at, version, cert_fingerprint, cert_subject, cert_not_before, cert_not_after FROM credentials ORDER BY id",
    ),
    sessions: rows("sessions"),
    signing_keys: rows("signing_keys", "kid"),
    email_verifications: rows("email_verifications", "token_hash"),
    accounts: rows("accounts"),
    passwords: rows("passwords"),
    invitations: rows("invitations"),
    password_resets: rows("password_resets", "token_hash"),
    namespaces: rows("namespaces"),
  };
}

/** The tables (or entries) whose rows differ between two snapshots, as `table: a → b rows`. */
export function changedTables(a, b) {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((table) => JSON.stringify(a[table]) !== JSON.stringify(b[table]))
    .map((table) => `${table}: ${a[table]?.length ?? "no"} → ${b[table]?.length ?? "no"} rows`);
}

/** Parses what a raw exchange read (latin1, perhaps chunked) into `call`'s `{ status, headers, body, text }`. */
function parseResponse(data) {
  const split = data.indexOf("\r\n\r\n");
  const [statusLine, ...lines] = data.slice(0, split).split("\r\n");
  const headers = new Headers(lines.map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]));
  let body = data.slice(split + 4);
  if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) {
    let out = "";
    for (let at = 0; ; ) {
      const eol = body.indexOf("\r\n", at);
      const size = parseInt(body.slice(at, eol), 16);
      if (!size) break;
      out += body.slice(eol + 2, eol + 2 + size);
      at = eol + 4 + size;
    }
    body = out;
  }
  const text = Buffer.from(body, "latin1").toString("utf8");
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: Number(statusLine.split(" ")[1]), headers, body: json, text };
}

/** A raw HTTP/1.1 exchange, for requests Node's http refuses to send; parsed like `call`. */
export async function rawCall(origin, request) {
  return parseResponse(await rawExchange(origin, request));
}

/** Sends one case: `opts.raw` as a string with a request line over a raw socket, anything else with `call`. */
function send(origin, method, path, opts) {
  return typeof opts.raw === "string" && / HTTP\/1\.1\r\n/.test(opts.raw) ? rawCall(origin, opts.raw) : call(origin, method, path, opts);
}

/** An answer's text with its request id replaced by `req_`, to compare bodies byte for byte. */
export function withoutRequestId(r) {
  return r.text.replaceAll(r.body?.error?.request_id ?? "\u0000", "req_");
}

/** Options for `call` that send `value` as the whole Authorization header. */
export function bearer(value) {
  return { headers: { authorization: value } };
}

/**
 * The garbage credentials that open each suite's list of 401 cases, as `call` options: no
 * header, an empty Bearer, Basic, an overlong and an unknown `prefix` key, and `key` (a
 * real one) with its tail changed.
 */
export function garbageCredentials(prefix, key) {
  return [
    {},
    bearer("Bearer "),
    bearer("Basic dXNlcjpwYXNz"),
    { token: `${prefix}_${"A".repeat(600)}` },
    { token: `${prefix}_${randomBytes(32).toString("base64url")}` },
    { token: `${key.slice(0, -4)}0000` },
  ];
}

const keys = (object) => Object.keys(object).sort().join(",");

/**
 * Checks one answer to a hostile case; returns what is wrong with it (empty when nothing
 * is): a 4xx (exactly `expect`: a status, or `{ status, code?, message? }` with `message`
 * a RegExp), a minted request id, the error in its family's shape; or, when `expect` is a
 * function of the answer returning what is wrong with it, whatever it checks (for a case
 * whose answer need not be such a refusal: a raw request the runtime answers itself, a
 * path it normalises into the caller's own namespace). Either way, none of `foreignIds`
 * and none of `secrets` in the body.
 */
function problems(label, path, r, expect, { foreignIds, secrets }) {
  const out = typeof expect === "function" ? expect(r).map((why) => `${label} → ${r.status}: ${why}`) : refusalProblems(label, path, r, expect);
  if (foreignIds.some((id) => r.text.includes(id))) out.push(`${label} leaked another org's ids`);
  if (secrets.some((s) => r.text.includes(s))) out.push(`${label} echoed a secret: ${r.text.slice(0, 200)}`);
  return out;
}

/** What is wrong with a refusal: see `problems`. */
function refusalProblems(label, path, r, expect) {
  const out = [];
  const want = typeof expect === "number" ? { status: expect } : expect;
  if (r.status < 400 || r.status >= 500) out.push(`${label} → ${r.status} ${r.text.slice(0, 200)}`);
  else if (want && r.status !== want.status) out.push(`${label} → ${r.status}, expected ${want.status}: ${r.text.slice(0, 200)}`);
  const requestId = r.headers.get("x-request-id");
  if (!REQUEST_ID.test(requestId ?? "")) out.push(`${label} → X-Request-Id ${requestId}`);
  const v1 = path.startsWith("/v1/");
  const err = r.body?.error;
  const shaped =
    err &&
    keys(r.body) === (v1 ? "error,success" : "error") &&
    keys(err) === "code,message,request_id" &&
    typeof err.code === "string" &&
    typeof err.message === "string" &&
    err.request_id === requestId &&
    (!v1 || r.body.success === false);
  if (!shaped) out.push(`${label} → ${r.status} not in the ${v1 ? "/v1" : "bare"} family's shape: ${r.text.slice(0, 200)}`);
  if (want?.code && err?.code !== want.code) out.push(`${label} → code ${JSON.stringify(err?.code)}, expected ${want.code}`);
  if (want?.message && !want.message.test(err?.message ?? "")) out.push(`${label} → message ${JSON.stringify(err?.message)} does not match ${want.message}`);
  return out;
}

/** How a case shows in failures and traces: method, path and what it sent. */
function caseLabel(method, path, opts) {
  const payload = typeof opts.raw === "string" ? opts.raw : opts.raw ? opts.raw.toString("latin1") : undefined;
  const shown = opts.body ?? payload ?? opts.headers?.authorization ?? (opts.token ? `token ${String(opts.token).slice(0, 12)}` : "");
  return `${method} ${path.slice(0, 80)} ${JSON.stringify(shown).slice(0, 80)}`;
}

/**
 * Sends every hostile case (`[method, path, opts, expect?]`, see `problems`) and checks
 * each answer, that the client's X-Request-Id is never echoed, and the 401 rule: all 401s
 * of a family (bare, /v1; login's aside) are the same bytes and challenge, each of
 * `families` answered some, and the bare family's carry the `Bearer realm=` challenge.
 * Then runs the 2xx `controls` (`[method, path, opts, status, check]`, `check(r)`
 * returning what is wrong), prints `# <label>: N requests, …`, and compares the identity
 * tables with a snapshot taken first, and so `state` (an async function returning an
 * object of arrays: what a suite reads back itself, such as KV values through the API)
 * if given. Returns `{ failures, fivexx, before, after, stateBefore, stateAfter }`.
 * KEYWARD_E2E_TRACE=1 prints each answer.
 */
export async function runBarrage({ server, cases, controls = [], label, foreignIds = [], secrets = [], families = ["bare"], state }) {
  const before = identitySnapshot(server);
  const stateBefore = await state?.();
  const failures = [];
  const unauthorized = new Map(); // family → { body, challenge } of its 401s
  let fivexx = 0;
  for (const [method, path, opts, expect] of cases) {
    const shown = caseLabel(method, path, opts);
    let r;
    try {
      r = await send(server.origin, method, path, opts);
    } catch (error) {
      failures.push(`${shown} → ${error.message}`);
      continue;
    }
    if (r.status >= 500) fivexx += 1;
    if (process.env.KEYWARD_E2E_TRACE) console.log(`# ${r.status} ${r.body?.error?.code} ${shown}`);
    failures.push(...problems(shown, path, r, expect, { foreignIds, secrets }));
    if (r.headers.get("x-request-id") === "req_forged") failures.push(`${shown} echoed the client's X-Request-Id`);
    if (r.status === 401 && path !== "/auth/login") {
      const family = path.startsWith("/v1/") ? "v1" : "bare";
      const seen = { body: withoutRequestId(r), challenge: r.headers.get("www-authenticate") };
      if (!unauthorized.has(family)) unauthorized.set(family, seen);
      else if (JSON.stringify(unauthorized.get(family)) !== JSON.stringify(seen)) failures.push(`${shown} → a different 401: ${JSON.stringify(seen)}`);
    }
  }
  for (const family of families) if (!unauthorized.has(family)) failures.push(`the ${family} family answered no 401`);
  if (unauthorized.has("bare") && !unauthorized.get("bare").challenge?.startsWith("Bearer realm=")) failures.push("the bare family's 401s carry no challenge");
  for (const [method, path, opts, status, check] of controls) {
    const shown = `control ${method} ${path.slice(0, 80)}`;
    const r = await send(server.origin, method, path, opts);
    if (r.status !== status) failures.push(`${shown} → ${r.status}, expected ${status}: ${r.text.slice(0, 200)}`);
    if (!REQUEST_ID.test(r.headers.get("x-request-id") ?? "")) failures.push(`${shown} → X-Request-Id ${r.headers.get("x-request-id")}`);
    failures.push(...check(r).map((why) => `${shown}: ${why}`));
  }
  console.log(`# ${label}: ${cases.length} requests, ${fivexx} 5xx (and ${controls.length} 2xx controls)`);
  const after = identitySnapshot(server);
  failures.push(...changedTables(before, after).map((table) => `identity table changed: ${table}`));
  const stateAfter = await state?.();
  if (state) failures.push(...changedTables(stateBefore, stateAfter).map((entry) => `state changed: ${entry}`));
  return { failures, fivexx, before, after, stateBefore, stateAfter };
}
