// `npm run bench:http`: load on the running service with autocannon (loopback only).
//
// Starts Keyward under `wrangler dev` and, in the same run, a peer Worker built on
// @cloudflare/workers-oauth-provider (bench/peer-oauth), then measures:
//   - GET /health, GET /v1/whoami with a `lookup` key, with an `id_secret` key (cached),
//     with an OAuth access token (one call to the grant's Durable Object, exact per-grant
//     rate window), and the peer's access-token-validated route: req/s, p50, p99;
//   - OAuth refresh rotations (sequential: each needs the previous token) and code
//     exchanges (each after a sign-in through the pages): latency, and rotations/s;
//   - `id_secret` cold verification: one request each on fresh keys (argon2id runs);
//   - CPU per request of the workerd process (from /proc), which bounds the Worker's
//     CPU per request from above; whoami minus health isolates the cost of a verify;
//   - POST /auth/login (argon2id at the password profile): req/s and CPU per login,
//     spread over many users, since each identifier allows 10 attempts a minute;
//   - timing of refusals: unknown identifier vs wrong password at login, and unknown id
//     vs wrong secret for `id_secret` keys, 1,000 interleaved requests each, medians
//     and their ratio (a ratio near 1 means timing does not tell them apart);
//   - webhooks (bench/webhooks.mjs): a key mint with and without an endpoint subscribed
//     to its event, and deliveries per second to a loopback receiver.
// Figures are printed as a markdown table for docs/benchmarks.md.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { run } from "./lib.mjs";
import { bootstrap, call, keyward } from "../tests/e2e/helpers.mjs";
import { formPost, oauthKit } from "../tests/e2e/oauth-helpers.mjs";
import { startKvPeer, startPeer } from "../bench/peer.mjs";
import { deliveryRate, startQueuePeer } from "../bench/queue-peer.mjs";
import { webhookFigures } from "../bench/webhooks.mjs";

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const TICK_MS = 10; // Linux USER_HZ = 100

/** All descendants of `pid` (from /proc), including itself. */
function processTree(pid) {
  const parents = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parents.set(Number(entry), Number(fields[1]));
    } catch {
      // exited meanwhile
    }
  }
  const tree = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [child, parent] of parents) {
      if (tree.has(parent) && !tree.has(child)) {
        tree.add(child);
        grew = true;
      }
    }
  }
  return [...tree];
}

/** CPU ticks (user + system) of the workerd processes under `pid`. */
function workerdTicks(pid) {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const comm = readFileSync(`/proc/${p}/comm`, "utf8").trim();
      if (!comm.startsWith("workerd")) continue;
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks;
}

async function load(name, url, token, pid, extra = {}) {
  const before = workerdTicks(pid);
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    ...extra,
  });
  const cpuMs = (workerdTicks(pid) - before) * TICK_MS;
  const total = result.requests.total;
  const non2xx = result.non2xx + result.errors;
  return {
    name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuPerReq: total ? cpuMs / total : NaN,
    total,
    non2xx,
  };
}

run("node", ["scripts/build-worker.mjs"]);
// The per-grant limit is lifted so the load measures the check, not the limiter.
const server = await keyward({ prefix: "ptmc", vars: { ALLOW_UNVERIFIED_EMAIL_LOGIN: "true", OAUTH_RATE_LIMIT_RPM: "100000" } });
const rows = [];
let peer;
let queueState;
try {
  const owner = await bootstrap(server);
  const mint = async (scheme) =>
    (await call(server.origin, "POST", "/v1/keys", { token: owner.plain_key, body: { name: `bench-${scheme}`, scheme, rate_limit_rpm: 100000 } })).body.data;
  const lookup = await mint("lookup");
  const idSecret = await mint("id_secret");
  const pid = server.pid();

  rows.push(await load("GET /health (no auth)", `${server.origin}/health`, null, pid));
  rows.push(await load("GET /v1/whoami, lookup key", `${server.origin}/v1/whoami`, lookup.plain_key, pid));
  rows.push(await load("GET /v1/whoami, id_secret key (cached)", `${server.origin}/v1/whoami`, idSecret.plain_key, pid));

  // OAuth: a person signs in through the pages, the code is exchanged, the access token
  // is loaded like a key; then sequential refresh rotations and code exchanges.
  const kit = oauthKit({ server, owner });
  await kit.ready();
  const exchanges = [];
  let tokens;
  for (let i = 0; i < 10; i++) {
    const { params, verifier } = await kit.codeFlow(kit.ctx.who);
    const start = performance.now();
    tokens = await kit.exchange(params, verifier);
    exchanges.push(performance.now() - start);
  }
  exchanges.sort((a, b) => a - b);
  rows.push(await load("GET /v1/whoami, OAuth access token", `${server.origin}/v1/whoami`, tokens.access_token, pid));
  const rotations = 100; // under the 120 token requests a minute a client may make
  let refresh = tokens.refresh_token;
  const rotationStart = performance.now();
  for (let i = 0; i < rotations; i++) {
    const r = await formPost(server.origin, { grant_type: "refresh_token", refresh_token: refresh, client_id: kit.ctx.client.client_id });
    if (r.status !== 200) throw new Error(`rotation ${i} failed: ${r.status} ${r.text}`);
    refresh = r.body.refresh_token;
  }
  const rotationMs = (performance.now() - rotationStart) / rotations;

  // Namespace values: a 1 KiB value read and written through the service with a lookup
  // key that may use the namespace (compared below with the KV peer, no authentication).
  const value = randomBytes(1024);
  await call(server.origin, "POST", "/v1/namespaces", { token: owner.plain_key, body: { name: "bench" } });
  const kvKey = (await call(server.origin, "POST", "/v1/keys", { token: owner.plain_key, body: { name: "bench-kv", namespaces: ["bench"], rate_limit_rpm: 100000 } })).body.data;
  const valueUrl = `${server.origin}/v1/namespaces/bench/keys/k`;
  const put = { method: "PUT", body: value, headers: { authorization: `Bearer ${kvKey.plain_key}`, "content-type": "application/octet-stream" } };
  if ((await fetch(valueUrl, put)).status !== 200) throw new Error("namespace PUT failed");
  rows.push(await load("GET /v1/namespaces/{ns}/keys/{key}, 1 KiB, lookup key", valueUrl, kvKey.plain_key, pid));
  rows.push(await load("PUT /v1/namespaces/{ns}/keys/{key}, 1 KiB, lookup key", valueUrl, null, pid, put));

  // Webhooks: what an event adds to a key mint, and deliveries per second.
  const webhooks = await webhookFigures({ origin: server.origin, token: lookup.plain_key, cpuMs: () => workerdTicks(pid) * TICK_MS, sql: server.sql });

  // Cold id_secret: a fresh key each time, so the worker runs argon2id (light profile).
  const cold = [];
  for (let i = 0; i < 15; i++) {
    const key = await mint("id_secret");
    const start = performance.now();
    const r = await call(server.origin, "GET", "/v1/whoami", { token: key.plain_key });
    cold.push(performance.now() - start);
    if (r.status !== 200) throw new Error(`cold verify failed: ${r.status}`);
  }
  cold.sort((a, b) => a - b);
  const warm = [];
  for (let i = 0; i < 15; i++) {
    const start = performance.now();
    await call(server.origin, "GET", "/v1/whoami", { token: idSecret.plain_key });
    warm.push(performance.now() - start);
  }
  warm.sort((a, b) => a - b);

  // Users with passwords, for login throughput and the login timing comparison.
  const users = [];
  for (let i = 0; i < 200; i++) {
    const email = `bench-${i}@example.com`;
    const e = await call(server.origin, "POST", "/entities", { token: owner.plain_key, body: { kind: "human", name: `u${i}`, email } });
    await call(server.origin, "POST", `/entities/${e.body.id}/credentials/password`, { token: owner.plain_key, body: { password: `bench-password-${i}` } });
    users.push({ identifier: email, secret: `bench-password-${i}` });
  }
  // Login throughput: successful logins rotating over the first 100 users (10 s at the
  // measured rate stays under each identifier's 10 attempts a minute only if the rate is
  // below 100/s; non-2xx are reported, so an over-limit run shows).
  let next = 0;
  rows.push(
    await load("POST /auth/login (argon2id m=19456 t=2)", `${server.origin}/auth/login`, null, pid, {
      method: "POST",
      headers: { "content-type": "application/json" },
      requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify(users[next++ % 100]) }) }],
    }),
  );

  // Timing of refusals, sequential and interleaved. Wrong passwords go to users 100-199,
  // whose limits the load above did not touch: ten attempts each, the most a minute allows.
  const timed = async (method, path, body, token) => {
    const start = performance.now();
    const r = await call(server.origin, method, path, { body, token });
    return { ms: performance.now() - start, status: r.status };
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const pairs = Math.min(1000, Number(process.env.BENCH_TIMING_PAIRS ?? 1000));
  const unknownLogin = [];
  const wrongLogin = [];
  for (let i = 0; i < pairs; i++) {
    unknownLogin.push(await timed("POST", "/auth/login", { identifier: `nobody-${i}@example.com`, secret: "wrong-password" }));
    wrongLogin.push(await timed("POST", "/auth/login", { identifier: users[100 + (i % 100)].identifier, secret: "wrong-password" }));
  }
  const idKey = await mint("id_secret");
  const [, id] = idKey.plain_key.split("_");
  // Fresh unknown ids each start a new Durable Object; one unknown id repeated reaches a
  // warm object, which isolates what the dummy argon2id equalises.
  const unknownId = [];
  const unknownWarm = [];
  const wrongSecret = [];
  const repeated = randomBytes(16).toString("hex");
  for (let i = 0; i < pairs; i++) {
    const secret = randomBytes(32).toString("hex");
    unknownId.push(await timed("GET", "/v1/whoami", undefined, `ptmc_${randomBytes(16).toString("hex")}_${secret}`));
    unknownWarm.push(await timed("GET", "/v1/whoami", undefined, `ptmc_${repeated}_${secret}`));
    wrongSecret.push(await timed("GET", "/v1/whoami", undefined, `ptmc_${id}_${secret}`));
  }
  const statuses = (xs) => [...new Set(xs.map((x) => x.status))].join("/");
  const timing = [
    ["login: unknown identifier vs wrong password", unknownLogin, wrongLogin],
    ["id_secret key: unknown id (fresh each time) vs wrong secret", unknownId, wrongSecret],
    ["id_secret key: unknown id (repeated) vs wrong secret", unknownWarm, wrongSecret],
  ].map(([what, a, b]) => ({ what, a: median(a.map((x) => x.ms)), b: median(b.map((x) => x.ms)), sa: statuses(a), sb: statuses(b) }));

  peer = await startPeer();
  rows.push(await load("peer: workers-oauth-provider token check", peer.url, peer.token, peer.pid));
  const peerFlow = await peer.flowTimings(rotations);
  await peer.stop();
  peer = await startKvPeer();
  const peerValue = `${peer.origin}/kv/k`;
  const peerPut = { method: "PUT", body: value, headers: { "content-type": "application/octet-stream" } };
  if ((await fetch(peerValue, peerPut)).status !== 200) throw new Error("KV peer PUT failed");
  rows.push(await load("KV peer (no auth): GET /kv/{key}, 1 KiB", peerValue, null, peer.pid));
  rows.push(await load("KV peer (no auth): PUT /kv/{key}, 1 KiB", peerValue, null, peer.pid, peerPut));
  await peer.stop();
  // The webhook peer: the same deliveries on Cloudflare Queues (unsigned, unlogged).
  queueState = mkdtempSync(path.join(tmpdir(), "keyward-queue-peer-"));
  peer = await startQueuePeer(queueState);
  const queueRate = await deliveryRate(peer, 500);

  const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : "–");
  console.log(`\n## HTTP benchmarks (autocannon -c ${CONNECTIONS} -d ${DURATION}, wrangler dev 4.86.0, ${new Date().toISOString().slice(0, 10)})\n`);
  console.log("| route | req/s | p50 ms | p99 ms | workerd CPU ms/req | requests | non-2xx |");
  console.log("|---|---|---|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.name} | ${fmt(r.rps)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${fmt(r.cpuPerReq, 2)} | ${r.total} | ${r.non2xx} |`);
  const [health, ours] = rows;
  const theirs = rows.find((r) => r.name.startsWith("peer: workers-oauth-provider"));
  console.log(`\nlookup-key whoami ÷ peer token check: ${(ours.rps / theirs.rps).toFixed(2)}× the req/s`);
  console.log(`CPU of a lookup verify (whoami − health, workerd): ${(ours.cpuPerReq - health.cpuPerReq).toFixed(2)} ms/req`);
  console.log(`id_secret single request, median latency: cold (argon2id) ${cold[7].toFixed(1)} ms, cached ${warm[7].toFixed(1)} ms`);
  const oauthRow = rows.find((r) => r.name.includes("OAuth access token"));
  console.log(`OAuth access-token whoami ÷ peer token check: ${(oauthRow.rps / theirs.rps).toFixed(2)}× the req/s, ${(oauthRow.cpuPerReq / theirs.cpuPerReq).toFixed(2)}× the CPU per request`);
  console.log(`OAuth refresh rotation, sequential: ${rotationMs.toFixed(1)} ms each (${(1000 / rotationMs).toFixed(0)}/s on one chain); peer ${peerFlow.rotationMs.toFixed(1)} ms (${(rotationMs / peerFlow.rotationMs).toFixed(2)}× its time)`);
  console.log(`OAuth code exchange, median of 10: ${exchanges[5].toFixed(1)} ms; peer ${peerFlow.exchangeMedianMs.toFixed(1)} ms (${(exchanges[5] / peerFlow.exchangeMedianMs).toFixed(2)}× its time)`);
  for (const verb of ["GET", "PUT"]) {
    const ours = rows.find((r) => r.name.startsWith(`${verb} /v1/namespaces`));
    const bare = rows.find((r) => r.name.startsWith(`KV peer (no auth): ${verb}`));
    console.log(`namespace ${verb}: ${(ours.rps / bare.rps).toFixed(2)}× the KV peer's req/s; Keyward adds ${(ours.cpuPerReq - bare.cpuPerReq).toFixed(2)} ms of workerd CPU per request`);
  }
  const w = webhooks;
  console.log(`\n## Webhooks\n`);
  console.log("| POST /v1/keys, one after another | p50 ms | p90 ms | workerd CPU ms/mint |");
  console.log("|---|---|---|---|");
  console.log(`| no endpoint in the org (the event is still written), back to back | ${w.plain.median.toFixed(1)} | ${w.plain.p90.toFixed(1)} | ${w.plain.cpuPerMint.toFixed(2)} |`);
  console.log(`| an endpoint subscribed (delivered after the answer), back to back | ${w.subscribed.median.toFixed(1)} | ${w.subscribed.p90.toFixed(1)} | ${w.subscribed.cpuPerMint.toFixed(2)} (${w.subscribed.cpuWithDelivery.toFixed(2)} with its delivery) |`);
  // CPU is not shown 100 ms apart: the idle runtime's own ticks in the gaps swamp it.
  console.log(`| no endpoint, 100 ms apart | ${w.plainSpaced.median.toFixed(1)} | ${w.plainSpaced.p90.toFixed(1)} | – |`);
  console.log(`| an endpoint subscribed, 100 ms apart | ${w.subscribedSpaced.median.toFixed(1)} | ${w.subscribedSpaced.p90.toFixed(1)} | – |`);
  console.log(`\nsubscribed ÷ no endpoint, median mint latency: ${(w.subscribed.median / w.plain.median).toFixed(2)}× back to back, ${(w.subscribedSpaced.median / w.plainSpaced.median).toFixed(2)}× 100 ms apart`);
  console.log(`backlog of ${w.drained.count} events drained by one endpoint: ${w.drained.perSec.toFixed(0)} deliveries/s (signed, each attempt logged in D1); Cloudflare Queues peer (bench/queue-peer, unsigned, unlogged): ${queueRate.perSecond.toFixed(0)}/s, so ${(w.drained.perSec / queueRate.perSecond).toFixed(2)}× its rate`);
  console.log(`burst of ${w.burst} mints from 10 clients: ${w.mintsPerSec.toFixed(0)} mints/s, ${w.deliveriesPerSec.toFixed(0)} deliveries/s to one endpoint until the last arrived; an event arrived ${w.lagMedianMs.toFixed(0)} ms (p50) / ${w.lagP90Ms.toFixed(0)} ms (p90) after its mint was sent; ${w.duplicates} duplicates`);
  console.log(`\n## Timing of refusals (${pairs} interleaved sequential requests each, median ms)\n`);
  console.log("| comparison | first | second | ratio | statuses |");
  console.log("|---|---|---|---|---|");
  for (const t of timing) console.log(`| ${t.what} | ${t.a.toFixed(2)} | ${t.b.toFixed(2)} | ${(t.a / t.b).toFixed(3)} | ${t.sa} vs ${t.sb} |`);
} finally {
  await peer?.stop();
  if (queueState) rmSync(queueState, { recursive: true, force: true });
  await server.stop();
  server.cleanup();
}
