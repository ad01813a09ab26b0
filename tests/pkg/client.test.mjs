// `Client` with an injected fetch (no server): endpoint parsing, the environment,
// every status's typed error, the retry schedule (Retry-After honoured, jitter bounded,
// POST never retried), timeouts and AbortSignal, a TokenSource refreshed once after a
// 401, path encoding, pagination and the request shapes. The package is imported by
// path (this checkout's build): node_modules/keyward may point at another checkout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  AuthenticationError,
  Client,
  ConflictError,
  KeywardError,
  NetworkError,
  NotFoundError,
  PermissionError,
  RateLimitError,
  VERSION,
  ValidationError,
} from "../../pkg/dist/node.js";
import { parseEndpoint } from "../../pkg/dist/endpoint.js";
import { DEFAULT_RETRY, parseRetryAfter, retryDelay, retryPolicy } from "../../pkg/dist/retry.js";

const ENDPOINT = "https://kw.example";

/** A fake fetch answering from `script` in order (each a Response, a function of the request, or an Error to throw); records every call. */
function fakeFetch(...script) {
  const calls = [];
  const fetch = async (url, init) => {
    const call = { url: new URL(url), init, headers: new Headers(init.headers), at: performance.now() };
    calls.push(call);
    const step = script.length > 1 ? script.shift() : script[0];
    const answer = typeof step === "function" ? await step(call) : step;
    if (answer instanceof Error) throw answer;
    return answer.clone();
  };
  return { fetch, calls };
}

const v1 = (data, status = 200, extra = {}) => Response.json({ success: true, data, ...extra }, { status });
const v1Error = (status, code, message, headers = {}) =>
  Response.json({ success: false, error: { code, message, request_id: "req_body" } }, { status, headers: { "x-request-id": "req_header", ...headers } });
const client = (fetch, options = {}) => new Client({ endpoint: ENDPOINT, token: "ptmc_test", fetch, ...options });

test("endpoint: host:port means https, URLs are kept, http only on loopback", () => {
  const ok = {
    "auth.example.com:443": "https://auth.example.com",
    "auth.example.com:8443": "https://auth.example.com:8443",
    "auth.example.com": "https://auth.example.com",
    "localhost:8787": "https://localhost:8787",
    "https://auth.example.com/": "https://auth.example.com",
    "https://auth.example.com/keyward/": "https://auth.example.com/keyward",
    "http://127.0.0.1:8787": "http://127.0.0.1:8787",
    "http://localhost:8787/": "http://localhost:8787",
    "http://[::1]:8787": "http://[::1]:8787",
    "  HTTPS://Auth.Example.com  ": "https://auth.example.com",
  };
  for (const [given, expected] of Object.entries(ok)) assert.equal(parseEndpoint(given), expected, given);
  for (const bad of ["", "http://auth.example.com", "http://10.0.0.1:80", "http://127.0.0.2", "ftp://auth.example.com", "https://u:p@auth.example.com", "https://auth.example.com/?x=1", "https://auth.example.com/#f", "auth.example.com:443/path", "https://", "exa mple.com"]) {
    assert.throws(() => parseEndpoint(bad), (err) => err instanceof ValidationError && err.code === "invalid_endpoint", bad);
  }
  assert.equal(new Client({ endpoint: "auth.example.com:443", token: "t" }).endpoint, "https://auth.example.com");
  assert.throws(() => new Client({ endpoint: "http://auth.example.com", token: "t" }), /http:\/\/ is allowed only on localhost/);
});

test("environment: new Client() reads KEYWARD_ENDPOINT and KEYWARD_TOKEN; a missing one is a clear ValidationError", async (t) => {
  const saved = { e: process.env.KEYWARD_ENDPOINT, t: process.env.KEYWARD_TOKEN };
  t.after(() => {
    for (const [name, value] of [["KEYWARD_ENDPOINT", saved.e], ["KEYWARD_TOKEN", saved.t]]) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  delete process.env.KEYWARD_ENDPOINT;
  delete process.env.KEYWARD_TOKEN;
  assert.throws(() => new Client(), (err) => err instanceof ValidationError && err.code === "missing_endpoint" && /KEYWARD_ENDPOINT/.test(err.message));
  process.env.KEYWARD_ENDPOINT = "auth.example.com:443";
  assert.throws(() => new Client(), (err) => err instanceof ValidationError && err.code === "missing_token" && /KEYWARD_TOKEN/.test(err.message));
  process.env.KEYWARD_TOKEN = "ptmc_from_env";
  const { fetch, calls } = fakeFetch(v1({ org_id: "org_1" }));
  const fromEnv = new Client({ fetch });
  assert.equal(fromEnv.endpoint, "https://auth.example.com");
  await fromEnv.whoami();
  assert.equal(calls[0].headers.get("authorization"), "Bearer ptmc_from_env");
  assert.equal(calls[0].url.href, "https://auth.example.com/v1/whoami");
  // Options win over the environment; token: null is an explicit "no credential".
  assert.equal(new Client({ endpoint: "http://127.0.0.1:1" }).endpoint, "http://127.0.0.1:1");
  process.env.KEYWARD_ENDPOINT = "http://not-loopback.example";
  assert.throws(() => new Client(), { code: "invalid_endpoint" });
  delete process.env.KEYWARD_TOKEN;
  assert.doesNotThrow(() => new Client({ endpoint: ENDPOINT, token: null }));
});

test("options are checked at construction", () => {
  assert.throws(() => new Client({ endpoint: ENDPOINT, token: "t", timeoutMs: 0 }), { code: "invalid_option" });
  assert.throws(() => new Client({ endpoint: ENDPOINT, token: "t", retries: -1 }), { code: "invalid_option" });
  assert.throws(() => new Client({ endpoint: ENDPOINT, token: "t", retries: { baseDelayMs: Number.NaN } }), { code: "invalid_option" });
  assert.throws(() => new Client({ endpoint: ENDPOINT, token: 42 }), { code: "invalid_option" });
  assert.throws(() => new Client({ endpoint: ENDPOINT, token: "" }), { code: "missing_token" });
});

test("errors: each status maps to its class, with status, the server's code and message, and the request id", async () => {
  const cases = [
    [400, "invalid_request", "limit must be 1-100", ValidationError],
    [413, "payload_too_large", "request body exceeds 1048576 bytes", ValidationError],
    [422, "unprocessable", "nope", ValidationError],
    [401, "unauthorized", "authentication failed: provide a valid bearer credential", AuthenticationError],
    [403, "forbidden", 'permission denied: this credential may not use the namespace "other"', PermissionError],
    [404, "not_found", "no such resource", NotFoundError],
    [409, "conflict", "a namespace with this name exists", ConflictError],
    [429, "rate_limit_exceeded", "slow down", RateLimitError],
    [405, "method_not_allowed", "method not allowed on this path", KeywardError],
    [500, "internal", "internal error", KeywardError],
  ];
  for (const [status, code, message, Class] of cases) {
    const { fetch } = fakeFetch(v1Error(status, code, message, { "retry-after": "7" }));
    const err = await client(fetch, { retries: 0 }).apiKeys.get("k1").catch((e) => e);
    assert.ok(err instanceof Class && err instanceof KeywardError, `${status} → ${Class.name}, got ${err?.name}`);
    assert.equal(err.name, Class.name);
    assert.equal(err.status, status);
    assert.equal(err.code, code);
    assert.equal(err.message, message);
    assert.equal(err.requestId, "req_body");
    if (Class === RateLimitError) assert.equal(err.retryAfter, 7);
  }
});

test("errors: bare bodies, the request id from X-Request-Id, and messages that always say authentication / permission", async () => {
  // /auth/login's 401 and a bare /entities 403 that do not use the words themselves.
  const login = fakeFetch(Response.json({ error: { code: "invalid_credentials", message: "invalid identifier or password", request_id: "req_1" } }, { status: 401 }));
  const err = await client(login.fetch).auth.login({ identifier: "a@b.example", secret: "x" }).catch((e) => e);
  assert.ok(err instanceof AuthenticationError);
  assert.equal(err.code, "invalid_credentials");
  assert.equal(err.message, "authentication failed: invalid identifier or password");
  assert.ok(err.message.toLowerCase().includes("authentication"));
  assert.equal(err.requestId, "req_1");

  const denied = fakeFetch(Response.json({ error: { code: "email_not_verified", message: "verify your email address first" } }, { status: 403, headers: { "x-request-id": "req_h" } }));
  const e2 = await client(denied.fetch).entities.get("ent_1").catch((e) => e);
  assert.ok(e2 instanceof PermissionError);
  assert.equal(e2.message, "permission denied: verify your email address first");
  assert.equal(e2.requestId, "req_h", "falls back to X-Request-Id");

  // Not JSON at all (a proxy's error page): the status still decides the class.
  const proxy = fakeFetch(new Response("<html>bad gateway</html>", { status: 404, statusText: "Not Found", headers: { "x-request-id": "req_p" } }));
  const e3 = await client(proxy.fetch).whoami().catch((e) => e);
  assert.ok(e3 instanceof NotFoundError);
  assert.equal(e3.code, "http_404");
  assert.equal(e3.requestId, "req_p");

  // A 2xx without the /v1 envelope is not silently accepted.
  const odd = fakeFetch(Response.json({ org_id: "x" }));
  const e4 = await client(odd.fetch).whoami().catch((e) => e);
  assert.equal(e4.code, "unexpected_response");
});

test("network failures are NetworkError with the cause kept", async () => {
  const { fetch, calls } = fakeFetch(new TypeError("fetch failed", { cause: new Error("ECONNREFUSED") }));
  const err = await client(fetch, { retries: 0 }).whoami().catch((e) => e);
  assert.ok(err instanceof NetworkError);
  assert.equal(err.code, "network_error");
  assert.equal(err.status, undefined);
  assert.match(err.message, /ECONNREFUSED/);
  assert.ok(err.cause instanceof TypeError);
  assert.equal(calls.length, 1);
});

test("retries: idempotent calls retry 429/502/503/504 and network errors, twice by default, then give up with the last error", async () => {
  const fast = { baseDelayMs: 1, maxDelayMs: 2 };
  for (const status of [429, 502, 503, 504]) {
    const { fetch, calls } = fakeFetch(v1Error(status, "x", "busy"), v1Error(status, "x", "busy"), v1({ org_id: "o" }));
    assert.deepEqual(await client(fetch, { retries: fast }).whoami(), { org_id: "o" }, String(status));
    assert.equal(calls.length, 3);
  }
  const down = fakeFetch(new TypeError("fetch failed"));
  const err = await client(down.fetch, { retries: fast }).getKey("ns", "k").catch((e) => e);
  assert.ok(err instanceof NetworkError);
  assert.equal(down.calls.length, 1 + DEFAULT_RETRY.max);

  const busy = fakeFetch(v1Error(503, "unavailable", "service temporarily unavailable"));
  const last = await client(busy.fetch, { retries: { ...fast, max: 4 } }).putKey("ns", "k", "v").catch((e) => e);
  assert.equal(last.status, 503);
  assert.equal(busy.calls.length, 5);
  for (const c of busy.calls) assert.equal(new TextDecoder().decode(c.init.body), "v", "a PUT sends its body again");

  const none = fakeFetch(v1Error(503, "unavailable", "down"));
  await assert.rejects(client(none.fetch, { retries: 0 }).deleteKey("ns", "k"), { status: 503 });
  assert.equal(none.calls.length, 1);
});

test("retries: never a POST or a PATCH, never a 4xx other than 429, never a 500", async () => {
  const fast = { baseDelayMs: 1, maxDelayMs: 2, max: 5 };
  const posts = [
    (c) => c.apiKeys.create({ name: "k" }),
    (c) => c.namespaces.create("ns"),
    (c) => c.members.add({ email: "a@b.example" }),
    (c) => c.auth.login({ identifier: "a@b.example", secret: "pw" }),
    (c) => c.apiKeys.update("k1", { name: "n" }),
  ];
  for (const failure of [() => v1Error(503, "unavailable", "x"), () => v1Error(429, "rate_limit_exceeded", "x", { "retry-after": "0" }), () => new TypeError("fetch failed"), () => v1Error(504, "x", "x")]) {
    for (const call of posts) {
      const { fetch, calls } = fakeFetch(failure());
      await assert.rejects(call(client(fetch, { retries: fast })));
      assert.equal(calls.length, 1, `${calls[0].init.method} ${calls[0].url.pathname} was sent once`);
    }
  }
  for (const status of [400, 401, 403, 404, 409, 413, 500]) {
    const { fetch, calls } = fakeFetch(v1Error(status, "x", "x"));
    await assert.rejects(client(fetch, { retries: fast }).whoami());
    assert.equal(calls.length, 1, String(status));
  }
});

test("retries: Retry-After is waited out (no sooner), and one longer than the cap is handed to the caller at once", async () => {
  const { fetch, calls } = fakeFetch(v1Error(429, "rate_limit_exceeded", "one write per second", { "retry-after": "1" }), v1({ namespace: "ns", key: "k", size: 1 }));
  await client(fetch).putKey("ns", "k", "v");
  assert.equal(calls.length, 2);
  const waited = calls[1].at - calls[0].at;
  assert.ok(waited >= 990, `waited ${waited} ms for Retry-After: 1`);
  assert.ok(waited < 1000 + DEFAULT_RETRY.baseDelayMs + 500, `waited ${waited} ms`);

  const long = fakeFetch(v1Error(429, "rate_limit_exceeded", "once per hour", { "retry-after": "3600" }));
  const started = performance.now();
  const err = await client(long.fetch).whoami().catch((e) => e);
  assert.ok(err instanceof RateLimitError);
  assert.equal(err.retryAfter, 3600);
  assert.equal(long.calls.length, 1);
  assert.ok(performance.now() - started < 500);

  const capped = fakeFetch(v1Error(503, "unavailable", "x", { "retry-after": "2" }));
  await assert.rejects(client(capped.fetch, { retries: { maxRetryAfterMs: 1000 } }).whoami(), { status: 503 });
  assert.equal(capped.calls.length, 1, "Retry-After above maxRetryAfterMs: not retried");

  assert.equal(parseRetryAfter("3"), 3000);
  assert.equal(parseRetryAfter("0.5"), 500);
  assert.equal(parseRetryAfter(new Date(Date.now() + 10_000).toUTCString()) > 8000, true);
  assert.equal(parseRetryAfter("soon"), undefined);
  assert.equal(parseRetryAfter(null), undefined);
});

test("retries: exponential backoff with full jitter, bounded by the window and the cap", async () => {
  const policy = retryPolicy({ baseDelayMs: 100, maxDelayMs: 1000 });
  const windows = [100, 200, 400, 800, 1000, 1000];
  windows.forEach((window, retry) => {
    assert.equal(retryDelay(retry, policy, undefined, () => 0), 0, "full jitter starts at 0");
    assert.equal(retryDelay(retry, policy, undefined, () => 0.999999), window - 1, `retry ${retry}: below its window`);
    for (let i = 0; i < 200; i++) {
      const d = retryDelay(retry, policy, undefined);
      assert.ok(d >= 0 && d < window, `retry ${retry}: ${d}`);
    }
  });
  assert.equal(retryDelay(0, policy, 1500, () => 0.5), 1500, "never sooner than Retry-After");
  assert.equal(retryDelay(3, policy, 10, () => 0.5), 400, "a short Retry-After does not shorten the backoff");
  assert.equal(retryDelay(0, policy, 60_001, () => 0), undefined, "beyond the cap: no retry");
  assert.deepEqual(retryPolicy(5), { ...DEFAULT_RETRY, max: 5 });

  // The schedule as sent: each wait below its doubling window.
  const { fetch, calls } = fakeFetch(v1Error(503, "x", "x"), v1Error(503, "x", "x"), v1Error(503, "x", "x"), v1({ ok: 1 }));
  await client(fetch, { retries: { max: 3, baseDelayMs: 60, maxDelayMs: 100 } }).whoami();
  const gaps = calls.slice(1).map((c, i) => c.at - calls[i].at);
  [60, 100, 100].forEach((window, i) => assert.ok(gaps[i] < window + 60, `gap ${i}: ${gaps[i]} ms, window ${window}`));
});

test("timeouts: an attempt with no answer fails as NetworkError `timeout` (and an idempotent call retries it)", async () => {
  const hang = fakeFetch(() => new Promise(() => {})); // ignores the signal on purpose
  const started = performance.now();
  const err = await client(hang.fetch, { timeoutMs: 50, retries: { max: 1, baseDelayMs: 1 } }).whoami().catch((e) => e);
  const took = performance.now() - started;
  assert.ok(err instanceof NetworkError);
  assert.equal(err.code, "timeout");
  assert.equal(hang.calls.length, 2);
  assert.ok(took >= 95 && took < 1000, `took ${took} ms`);
  assert.ok(hang.calls[0].init.signal.aborted, "the fetch's own signal is aborted too");

  // A slow body counts: the timeout covers reading the answer.
  const slowBody = fakeFetch(() => new Response(new ReadableStream({ start() {} }), { status: 200 }));
  await assert.rejects(client(slowBody.fetch, { timeoutMs: 50, retries: 0 }).getKey("ns", "k"), { code: "timeout" });

  // Per call.
  const perCall = fakeFetch(() => new Promise(() => {}));
  await assert.rejects(client(perCall.fetch, { retries: 0 }).whoami({ timeoutMs: 30 }), { code: "timeout" });
});

test("AbortSignal: aborts promptly with the signal's reason, in flight or during a backoff; an aborted signal sends nothing", async () => {
  const hang = fakeFetch(() => new Promise(() => {}));
  const controller = new AbortController();
  const pending = client(hang.fetch).whoami({ signal: controller.signal });
  setTimeout(() => controller.abort(), 20);
  const started = performance.now();
  const err = await pending.catch((e) => e);
  assert.equal(err.name, "AbortError");
  assert.ok(performance.now() - started < 500);

  const reason = new Error("user navigated away");
  const backoff = fakeFetch(v1Error(429, "rate_limit_exceeded", "x", { "retry-after": "30" }));
  const c2 = new AbortController();
  const waiting = client(backoff.fetch).whoami({ signal: c2.signal });
  setTimeout(() => c2.abort(reason), 50);
  const t0 = performance.now();
  assert.equal(await waiting.catch((e) => e), reason);
  assert.ok(performance.now() - t0 < 1000, "did not wait out the 30 s Retry-After");
  assert.equal(backoff.calls.length, 1);

  const never = fakeFetch(v1({}));
  await assert.rejects(client(never.fetch).listKeys("ns").page({ signal: AbortSignal.abort() }), { name: "AbortError" });
  assert.equal(never.calls.length, 0);

  // Lists pass the signal to every page.
  const pages = fakeFetch(v1([{ key: "a" }], 200, { next_cursor: "c1" }), () => new Promise(() => {}));
  const c3 = new AbortController();
  const seen = [];
  setTimeout(() => c3.abort(), 50);
  await assert.rejects(
    (async () => {
      for await (const key of client(pages.fetch).listKeys("ns", { signal: c3.signal })) seen.push(key);
    })(),
    { name: "AbortError" },
  );
  assert.deepEqual(seen, ["a"]);
});

test("TokenSource: a 401 asks it once for a fresh token (forceRefresh) and retries once, even a POST", async () => {
  const asked = [];
  let current = "old";
  const source = {
    async getToken(options) {
      asked.push(options?.forceRefresh === true);
      if (options?.forceRefresh) current = "new";
      return current;
    },
  };
  const onlyNew = (c) => (c.headers.get("authorization") === "Bearer new" ? v1({ id: "k2", plain_key: "ptmc_x" }, 201) : v1Error(401, "unauthorized", "authentication failed"));
  const { fetch, calls } = fakeFetch(onlyNew);
  const created = await client(fetch, { token: source }).apiKeys.create({ name: "k" });
  assert.equal(created.id, "k2");
  assert.deepEqual(asked, [false, true]);
  assert.deepEqual(calls.map((c) => c.headers.get("authorization")), ["Bearer old", "Bearer new"]);

  // Refused again: one refresh only, then the AuthenticationError.
  asked.length = 0;
  const always = fakeFetch(v1Error(401, "unauthorized", "authentication failed: provide a valid bearer credential"));
  const err = await client(always.fetch, { token: source }).whoami().catch((e) => e);
  assert.ok(err instanceof AuthenticationError);
  assert.deepEqual(asked, [false, true]);
  assert.equal(always.calls.length, 2);

  // A plain string token is not retried after a 401.
  const plain = fakeFetch(v1Error(401, "unauthorized", "authentication failed"));
  await assert.rejects(client(plain.fetch).whoami(), AuthenticationError);
  assert.equal(plain.calls.length, 1);

  // A source that cannot refresh throws, and that error reaches the caller.
  const dead = { getToken: async (o) => { if (o?.forceRefresh) throw new AuthenticationError("authentication failed: the refresh token was revoked", "invalid_grant"); return "stale"; } };
  const d = fakeFetch(v1Error(401, "unauthorized", "authentication failed"));
  await assert.rejects(client(d.fetch, { token: dead }).whoami(), { code: "invalid_grant" });
});

test("requests: headers, bodies, encoded path segments, public /auth calls without the token", async () => {
  const { fetch, calls } = fakeFetch((c) => (c.init.method === "GET" ? new Response(new Uint8Array([0, 255, 1])) : v1({ namespace: "ns", key: "k", size: 3 })));
  const c = client(fetch);
  await c.putKey("ns", "a/b c%2e?#+", new Uint8Array([0, 255, 1]));
  await c.putKey("ns", "s", "héllo");
  await c.putKey("ns", "ab", new Uint8Array([1, 2, 3, 4]).buffer);
  await c.putKey("ns", "view", new DataView(new Uint8Array([9, 8, 7, 6]).buffer, 1, 2));
  const got = await c.getKey("ns", "a/b c%2e?#+");
  assert.deepEqual([...got], [0, 255, 1]);
  assert.ok(got instanceof Uint8Array);
  assert.equal(calls[0].url.pathname, "/v1/namespaces/ns/keys/a%2Fb%20c%252e%3F%23%2B", "one segment, encoded once");
  assert.equal(calls[0].headers.get("content-type"), "application/octet-stream");
  assert.equal(calls[0].headers.get("authorization"), "Bearer ptmc_test");
  assert.equal(calls[0].headers.get("user-agent"), `keyward-js/${VERSION}`);
  assert.deepEqual([...calls[1].init.body], [...new TextEncoder().encode("héllo")]);
  assert.deepEqual([...calls[2].init.body], [1, 2, 3, 4]);
  assert.deepEqual([...calls[3].init.body], [8, 7]);

  // Dot segments cannot be addressed (URL parsers resolve them): refused before sending.
  for (const key of [".", ".."]) await assert.rejects(c.getKey("ns", key), { code: "unaddressable_segment" });
  await assert.rejects(c.apiKeys.get(".."), ValidationError);
  await assert.rejects(c.putKey("ns", "k", 42), { code: "invalid_argument" });
  assert.equal(calls.length, 5);

  const auth = fakeFetch(Response.json({ token: "eyJ.a.b", entity_id: "ent_1", session_id: "s", expires_at: "2030-01-01T00:00:00Z" }));
  const session = await client(auth.fetch).auth.login({ identifier: "a@b.example", secret: "pw", org_id: "org_1" });
  assert.equal(session.token, "eyJ.a.b");
  assert.equal(auth.calls[0].headers.get("authorization"), null, "login never sends the client's token");
  assert.deepEqual(JSON.parse(auth.calls[0].init.body), { identifier: "a@b.example", secret: "pw", org_id: "org_1" });
  assert.equal(auth.calls[0].headers.get("content-type"), "application/json");

  const bad = fakeFetch(v1({}));
  await assert.rejects(client(bad.fetch, { token: "ptmc_x\n" }).whoami(), { code: "malformed_token" });
  assert.equal(bad.calls.length, 0);

  const named = fakeFetch(v1({}));
  await client(named.fetch, { userAgent: "my-app/1.0" }).whoami();
  assert.equal(named.calls[0].headers.get("user-agent"), "my-app/1.0");

  // withToken keeps everything but the credential.
  const w = fakeFetch(v1({}));
  const other = client(w.fetch).withToken("eyJ.session");
  await other.whoami();
  assert.equal(w.calls[0].headers.get("authorization"), "Bearer eyJ.session");
  assert.equal(other.endpoint, ENDPOINT);
});

test("getKey: bytes, null on 404, PermissionError on 403", async () => {
  const { fetch } = fakeFetch(
    v1Error(404, "not_found", "no such resource"),
    v1Error(403, "forbidden", 'permission denied: this credential may not use the namespace "other"'),
  );
  const c = client(fetch);
  assert.equal(await c.getKey("ns", "missing"), null);
  const err = await c.getKey("other", "k").catch((e) => e);
  assert.ok(err instanceof PermissionError);
  assert.match(err.message, /permission/);
});

test("pagination: iterating follows next_cursor to the end; .page() is one page; filters reach the query", async () => {
  const pages = { "": [["a", "b"], "c1"], c1: [["c"], "c2"], c2: [["d"], null] };
  const { fetch, calls } = fakeFetch((c) => {
    const [keys, next] = pages[c.url.searchParams.get("cursor") ?? ""];
    return v1(keys.map((key) => ({ key })), 200, { next_cursor: next });
  });
  const c = client(fetch);
  const all = [];
  for await (const key of c.listKeys("ns", { prefix: "p/", limit: 2 })) all.push(key);
  assert.deepEqual(all, ["a", "b", "c", "d"]);
  assert.equal(calls.length, 3);
  assert.equal(calls[0].url.search, "?prefix=p%2F&limit=2");
  assert.equal(calls[1].url.searchParams.get("cursor"), "c1");

  const first = await c.listKeys("ns").page();
  assert.deepEqual(first, { items: ["a", "b"], nextCursor: "c1" });
  const second = await c.listKeys("ns").page({ cursor: first.nextCursor, limit: 1 });
  assert.deepEqual(second, { items: ["c"], nextCursor: "c2" });
  assert.equal(calls.at(-1).url.searchParams.get("limit"), "1");
  const last = await c.listKeys("ns", { cursor: "c2" }).page();
  assert.deepEqual(last, { items: ["d"], nextCursor: null });

  const audit = fakeFetch(v1([{ id: 3, event: "key.minted" }], 200, { next_cursor: null }));
  const events = [];
  for await (const e of client(audit.fetch).audit.list({ event: "key.minted", key: "ptmc_abc" })) events.push(e.id);
  assert.deepEqual(events, [3]);
  assert.equal(audit.calls[0].url.search, "?event=key.minted&key=ptmc_abc");

  // The bare family's list shape (/entities: {items, next_cursor}).
  const ents = fakeFetch(Response.json({ items: [{ id: "ent_1" }], next_cursor: "x" }), Response.json({ items: [{ id: "ent_2" }], next_cursor: null }));
  const ids = [];
  for await (const e of client(ents.fetch).entities.list()) ids.push(e.id);
  assert.deepEqual(ids, ["ent_1", "ent_2"]);

  // A server repeating a cursor would loop forever: refused.
  const loop = fakeFetch(v1([{ key: "x" }], 200, { next_cursor: "same" }));
  await assert.rejects(async () => {
    for await (const _ of client(loop.fetch).listKeys("ns")) void _;
  }, { code: "unexpected_response" });
});

test("webhooks: the delivery log page by page, one delivery with its attempts, redeliver; 409 and 404 typed", async () => {
  const msgId = `msg_${"0f".repeat(16)}`;
  const newest = { msg_id: msgId, event_type: "key.minted", status: "failed", attempts: 2, next_attempt_at: null, created_at: "2026-11-29T10:00:00Z", updated_at: "2026-11-29T10:01:05Z" };
  const older = { ...newest, msg_id: `msg_${"1e".repeat(16)}`, event_type: "key.revoked", status: "delivered", attempts: 1 };
  const attemptLog = [
    { attempt: 1, at: "2026-11-29T10:00:00Z", status_code: 500, duration_ms: 120, error: "http_status", next_attempt_at: "2026-11-29T10:01:00Z" },
    { attempt: 2, at: "2026-11-29T10:01:00Z", status_code: null, duration_ms: 5000, error: "timeout", next_attempt_at: null },
  ];
  const queued = { ...newest, status: "pending", next_attempt_at: "2026-11-29T11:00:00Z", updated_at: "2026-11-29T11:00:00Z" };
  const { fetch, calls } = fakeFetch(
    v1([newest], 200, { next_cursor: "c1" }),
    v1([older]),
    v1({ ...newest, attempt_log: attemptLog }),
    v1(queued, 202),
    v1Error(409, "conflict", "the endpoint is disabled; enable it (PATCH enabled: true) to redeliver"),
    v1Error(404, "not_found", "no such event in this organization"),
  );
  const hooks = client(fetch).webhooks;
  const seen = [];
  for await (const d of hooks.deliveries("wh_1", { limit: 1 })) seen.push(d);
  assert.deepEqual(seen, [newest, older]);
  assert.deepEqual(calls.slice(0, 2).map((x) => [x.init.method, x.url.pathname, x.url.search]), [
    ["GET", "/v1/webhooks/wh_1/deliveries", "?limit=1"],
    ["GET", "/v1/webhooks/wh_1/deliveries", "?limit=1&cursor=c1"],
  ]);

  // Ids are path segments, escaped whole.
  const detail = await hooks.delivery("wh 1", "msg/1");
  assert.deepEqual(detail, { ...newest, attempt_log: attemptLog });
  assert.equal(calls[2].init.method, "GET");
  assert.equal(calls[2].url.pathname, "/v1/webhooks/wh%201/deliveries/msg%2F1");

  assert.deepEqual(await hooks.redeliver("wh_1", msgId), queued);
  assert.equal(calls[3].init.method, "POST");
  assert.equal(calls[3].url.pathname, `/v1/webhooks/wh_1/deliveries/${msgId}/redeliver`);
  assert.equal(calls[3].init.body, undefined);

  const disabled = await hooks.redeliver("wh_1", msgId).catch((e) => e);
  assert.ok(disabled instanceof ConflictError);
  assert.equal(disabled.status, 409);
  assert.match(disabled.message, /disabled/);
  const missing = await hooks.redeliver("wh_1", msgId).catch((e) => e);
  assert.ok(missing instanceof NotFoundError);
  assert.equal(missing.code, "not_found");
  assert.equal(calls.length, 6, "a POST is not retried");
  await assert.rejects(hooks.delivery("wh_1", ".."), { code: "unaddressable_segment" });
  assert.equal(calls.length, 6);

  // An endpoint the service disabled after a day of failures says when and why.
  const failing = { id: "wh_1", url: "https://hooks.example/k", description: "", event_types: ["*"], enabled: false, disabled_reason: "failing", disabled_at: "2026-11-30T10:00:00Z", failing_since: "2026-11-29T10:00:00Z", created_at: "2026-11-01T00:00:00Z", updated_at: "2026-11-30T10:00:00Z" };
  const got = fakeFetch(v1(failing));
  assert.deepEqual(await client(got.fetch).webhooks.get("wh_1"), failing);
  assert.equal(got.calls[0].url.pathname, "/v1/webhooks/wh_1");
});

test("every /v1, /entities and /auth endpoint: method, path and body", async () => {
  const { fetch, calls } = fakeFetch((c) =>
    c.url.pathname.startsWith("/v1/")
      ? v1(c.init.method === "GET" && /\/(keys|namespaces|audit|grants|members|invitations)$/.test(c.url.pathname) ? [] : {}, 200, { next_cursor: null })
      : Response.json({ items: [] }),
  );
  const c = client(fetch);
  const drain = async (list) => {
    for await (const _ of list) void _;
  };
  const expected = [];
  const run = async (promise, method, path, body) => {
    await promise;
    expected.push([method, path, body]);
  };
  await run(c.whoami(), "GET", "/v1/whoami");
  await run(c.apiKeys.create({ name: "k", namespaces: ["a"], rate_limit_rpm: 10 }), "POST", "/v1/keys", { name: "k", namespaces: ["a"], rate_limit_rpm: 10 });
  await run(drain(c.apiKeys.list()), "GET", "/v1/keys");
  await run(c.apiKeys.get("k1"), "GET", "/v1/keys/k1");
  await run(c.apiKeys.update("k1", { expires_at: null }), "PATCH", "/v1/keys/k1", { expires_at: null });
  await run(c.apiKeys.revoke("k1"), "DELETE", "/v1/keys/k1");
  await run(drain(c.audit.list()), "GET", "/v1/audit");
  await run(c.namespaces.create("ns"), "POST", "/v1/namespaces", { name: "ns" });
  await run(drain(c.namespaces.list()), "GET", "/v1/namespaces");
  await run(c.namespaces.delete("ns"), "DELETE", "/v1/namespaces/ns");
  await run(c.deleteKey("ns", "k"), "DELETE", "/v1/namespaces/ns/keys/k");
  await run(drain(c.listKeys("ns")), "GET", "/v1/namespaces/ns/keys");
  await run(drain(c.grants.list()), "GET", "/v1/grants");
  await run(c.grants.revoke("g1"), "DELETE", "/v1/grants/g1");
  await run(c.members.add({ email: "a@b.example", role: "admin" }), "POST", "/v1/members", { email: "a@b.example", role: "admin" });
  await run(drain(c.members.list()), "GET", "/v1/members");
  await run(c.members.remove("ent_1"), "DELETE", "/v1/members/ent_1");
  await run(drain(c.invitations.list()), "GET", "/v1/invitations");
  await run(c.invitations.withdraw("inv_1"), "DELETE", "/v1/invitations/inv_1");
  await run(c.entities.create({ kind: "service", name: "svc" }), "POST", "/entities", { kind: "service", name: "svc" });
  await run(drain(c.entities.list()), "GET", "/entities");
  await run(c.entities.get("ent_1"), "GET", "/entities/ent_1");
  await run(c.entities.update("ent_1", { status: "suspended" }), "PATCH", "/entities/ent_1", { status: "suspended" });
  await run(c.credentials.list("ent_1"), "GET", "/entities/ent_1/credentials");
  await run(c.credentials.setPassword("ent_1", "pw"), "POST", "/entities/ent_1/credentials/password", { password: "pw" });
  await run(c.credentials.createApiKey("ent_1", { description: "d" }), "POST", "/entities/ent_1/credentials/api-keys", { description: "d" });
  await run(c.credentials.addCertificate("ent_1", { pem: "P" }), "POST", "/entities/ent_1/credentials/certificates", { pem: "P" });
  await run(c.credentials.revoke("ent_1", "c1"), "DELETE", "/entities/ent_1/credentials/c1");
  await run(c.auth.logout(), "POST", "/auth/logout");
  await run(c.auth.orgs(), "GET", "/auth/orgs");
  await run(c.auth.signup({ name: "A", email: "a@b.example", password: "pw" }), "POST", "/auth/signup", { name: "A", email: "a@b.example", password: "pw" });
  await run(c.auth.verifyEmail("ptmcv_x"), "GET", "/auth/email/verify");
  await run(c.auth.resendVerification("a@b.example"), "POST", "/auth/email/resend", { email: "a@b.example" });
  await run(c.auth.changePassword({ current: "a", password: "b" }), "POST", "/auth/password/change", { current: "a", password: "b" });
  await run(c.auth.requestPasswordReset("a@b.example"), "POST", "/auth/password/reset", { email: "a@b.example" });
  await run(c.auth.confirmPasswordReset({ token: "t", password: "p" }), "POST", "/auth/password/reset/confirm", { token: "t", password: "p" });
  await run(c.auth.acceptInvitation({ token: "t" }), "POST", "/auth/invitations/accept", { token: "t" });
  assert.deepEqual(
    calls.map((x) => [x.init.method, x.url.pathname, x.init.body === undefined ? undefined : JSON.parse(x.init.body)]),
    expected,
  );
  assert.equal(calls.find((x) => x.url.pathname === "/auth/email/verify").url.search, "?token=ptmcv_x");
  const publicPaths = ["/auth/signup", "/auth/email/verify", "/auth/email/resend", "/auth/password/reset", "/auth/password/reset/confirm", "/auth/invitations/accept"];
  for (const x of calls) {
    assert.equal(x.headers.get("authorization") === null, publicPaths.includes(x.url.pathname), x.url.pathname);
  }
});

test("the exported VERSION is package.json's", () => {
  const pkg = JSON.parse(readFileSync(new URL("../../pkg/package.json", import.meta.url), "utf8"));
  assert.equal(VERSION, pkg.version);
});
