// The measured alternative to the outbox Durable Object for webhooks (issue 10): the same
// deliveries on Cloudflare Queues, under the same local runtime (`wrangler dev`). It starts
// bench/queue-peer (a JavaScript Worker that produces to and consumes one queue, POSTs each
// message to its URL, acks on 2xx and retries in 2 s otherwise) and measures:
//   - deliveries/s: 500 messages enqueued in 5 requests, timed until a loopback receiver
//     has all 500, and how many arrived twice;
//   - retries without a crash (the control): the receiver down, 30 messages attempted,
//     then the receiver up: how many arrive, on which attempt, and the gap between a
//     message's attempts (what the local broker does with `retry({delaySeconds})`);
//   - crash survival: the same, but wrangler dev and its workerd are killed with SIGKILL
//     before the receiver comes up, and restarted on the same --persist-to state: how many
//     of the 30 arrive within 60 s (the outbox keeps 30 of 30, tests/e2e/webhook-restart);
//   - what the local broker accepts as a send's delaySeconds (86400 and 86401).
// `node bench/queue-peer.mjs` prints a markdown summary; the limits wrangler and miniflare
// enforce are read from their source and cited in the summary.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, stopServer, wranglerEnv } from "../scripts/devserver.mjs";
import { startReceiver } from "../tests/e2e/webhook-receiver.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const wranglerJs = path.join(here, "..", "node_modules", "wrangler", "bin", "wrangler.js");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts bench/queue-peer under `wrangler dev` on a free loopback port with its state in
 * `persistTo`; resolves once it answers, to { origin, pid, enqueue, attempts, stop, crash }.
 */
export async function startQueuePeer(persistTo) {
  const port = await freePort();
  const args = [wranglerJs, "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(await freePort()), "--persist-to", persistTo, "--log-level", "warn", "--show-interactive-dev-session=false"];
  // Its own process group (workerd is spawned beneath it, not detached), so that a crash
  // can be a SIGKILL to the whole group at once.
  const child = spawn(process.execPath, args, { cwd: path.join(here, "queue-peer"), env: wranglerEnv, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const origin = `http://127.0.0.1:${port}`;
  const peer = {
    origin,
    pid: child.pid,
    /** Sends `n` (≤ 100) messages with ids `${tag}-0`… for `url`. */
    async enqueue(n, url, tag) {
      const r = await fetch(`${origin}/enqueue?${new URLSearchParams({ n, url, tag })}`, { method: "POST" });
      if (!r.ok) throw new Error(`enqueue: HTTP ${r.status} ${await r.text()}`);
    },
    /** Every attempt so far as [id, attempt, ms]. */
    attempts: async () => (await (await fetch(`${origin}/attempts`)).json()).attempts,
    stop: () => stopServer(child),
    /** SIGKILL to wrangler dev and everything beneath it, as a crash would. */
    async crash() {
      const exited = new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once("exit", r)));
      process.kill(-child.pid, "SIGKILL");
      await exited;
      while (spawnSync("pgrep", ["-g", String(child.pid)]).status === 0) await sleep(50); // workerd too
    },
  };
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(250)) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${out}`);
    try {
      await peer.attempts();
      return peer;
    } catch {
      // not listening yet
    }
  }
  await peer.stop();
  throw new Error(`wrangler dev did not become ready:\n${out}`);
}

/** Distinct message ids the receiver got with `prefix`, and how many bodies were repeats. */
function tally(receiver, prefix) {
  const ids = receiver.received.map((r) => JSON.parse(r.body).id).filter((id) => id.startsWith(prefix));
  return { distinct: new Set(ids).size, duplicates: ids.length - new Set(ids).size };
}

/** 500 messages in 5 requests of 100: { seconds, perSecond, duplicates }. */
export async function deliveryRate(peer, total = 500) {
  const receiver = await startReceiver();
  try {
    await peer.enqueue(10, receiver.url, "warm"); // the first batch compiles and connects
    await receiver.until(() => tally(receiver, "warm-").distinct === 10);
    const start = performance.now();
    await Promise.all(Array.from({ length: total / 100 }, (_, i) => peer.enqueue(100, receiver.url, `rate${i}`)));
    await receiver.until(() => tally(receiver, "rate").distinct === total, 120_000);
    const seconds = (performance.now() - start) / 1000;
    await sleep(2000); // a late duplicate would arrive now
    return { seconds, perSecond: total / seconds, duplicates: tally(receiver, "rate").duplicates };
  } finally {
    await receiver.close();
  }
}

/** Enqueues `n` messages to a port where nothing listens; resolves once each was attempted. */
async function enqueueToDeadPort(peer, n, tag) {
  const port = await freePort();
  await peer.enqueue(n, `http://127.0.0.1:${port}/hook`, tag);
  for (const deadline = Date.now() + 30_000; ; await sleep(100)) {
    const tried = new Set((await peer.attempts()).filter(([id]) => id.startsWith(`${tag}-`)).map(([id]) => id));
    if (tried.size === n) return port;
    if (Date.now() > deadline) throw new Error(`only ${tried.size} of ${n} attempted`);
  }
}

/** Waits up to `ms` for `n` distinct ids with `tag` at the receiver; returns how many came. */
async function arrivals(receiver, tag, n, ms) {
  await receiver.until(() => tally(receiver, `${tag}-`).distinct === n, ms).catch(() => {});
  return tally(receiver, `${tag}-`).distinct;
}

/** The control: receiver down, 30 attempted, receiver up, no crash. */
export async function retriesWithoutCrash(peer, n = 30) {
  const port = await enqueueToDeadPort(peer, n, "ctl");
  await sleep(3000); // a few retries each, to see their spacing
  const receiver = await startReceiver({ port });
  try {
    const start = performance.now();
    const arrived = await arrivals(receiver, "ctl", n, 60_000);
    const seconds = (performance.now() - start) / 1000;
    const log = (await peer.attempts()).filter(([id]) => id.startsWith("ctl-"));
    const gaps = [];
    for (const [id, attempt, at] of log) {
      const prev = log.find(([i, a]) => i === id && a === attempt - 1);
      if (prev) gaps.push((at - prev[2]) / 1000);
    }
    gaps.sort((a, b) => a - b);
    const onAttempt = receiver.received.map((r) => Number(r.headers["x-attempt"]));
    return { arrived, seconds, gapMedian: gaps[gaps.length >> 1], gapMin: gaps[0], gapMax: gaps.at(-1), attempts: [Math.min(...onAttempt), Math.max(...onAttempt)] };
  } finally {
    await receiver.close();
  }
}

/**
 * Crash survival: receiver down, 30 attempted, SIGKILL, receiver up, wrangler dev again on
 * the same state. Resolves to { arrived, attemptsAfter, peer } (the restarted peer).
 */
export async function crashSurvival(peer, persistTo, n = 30, waitMs = 60_000) {
  const port = await enqueueToDeadPort(peer, n, "crash");
  await peer.crash();
  const receiver = await startReceiver({ port });
  try {
    const again = await startQueuePeer(persistTo);
    const arrived = await arrivals(receiver, "crash", n, waitMs);
    return { arrived, attemptsAfter: (await again.attempts()).length, peer: again };
  } finally {
    await receiver.close();
  }
}

/** Whether a send with `delaySeconds: d` is accepted, and the error if not. */
export async function sendDelayAccepted(peer, d) {
  return (await fetch(`${peer.origin}/send-delay?d=${d}`, { method: "POST" })).json();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const persistTo = mkdtempSync(path.join(os.tmpdir(), "keyward-queue-peer-"));
  let peer = await startQueuePeer(persistTo);
  try {
    const rate = await deliveryRate(peer);
    const ctl = await retriesWithoutCrash(peer);
    const crash = await crashSurvival(peer, persistTo);
    peer = crash.peer;
    const [day, overDay] = [await sendDelayAccepted(peer, 86400), await sendDelayAccepted(peer, 86401)];
    const f = (x, d = 1) => x.toFixed(d);
    console.log(`## Cloudflare Queues under wrangler dev (bench/queue-peer, issue 10)

| measure | result |
| --- | --- |
| deliveries/s (500 messages, batches of 10) | ${f(rate.perSecond)} /s (all 500 in ${f(rate.seconds, 2)} s), ${rate.duplicates} duplicates |
| control: receiver down, 30 attempted, then up (no crash) | ${ctl.arrived} of 30 in ${f(ctl.seconds, 2)} s, delivered on attempt ${ctl.attempts.join("–")}; gap between attempts median ${f(ctl.gapMedian, 2)} s (min ${f(ctl.gapMin, 2)}, max ${f(ctl.gapMax, 2)}) for retry({delaySeconds: 2}) |
| crash: same, SIGKILL of wrangler dev + workerd, restart on the same --persist-to | **${crash.arrived} of 30** within 60 s; ${crash.attemptsAfter} attempts after the restart |
| send({delaySeconds: 86400}) / 86401 | ${day.accepted ? "accepted" : `refused: ${day.error}`} / ${overDay.accepted ? "accepted" : `refused: ${overDay.error}`} |

Limits enforced locally (read from the source, wrangler 4.86.0 / miniflare 4.20260426.0):
- node_modules/miniflare/dist/src/workers/queues/broker.worker.js:47 — a send's delay and the consumer's
  retry_delay: integer 0..86400 s; :57-62 — max_batch_size ≤ 100, max_batch_timeout ≤ 60 s, max_retries ≤ 100;
  :81 — default max_retries 2 (3 attempts), then the message is dropped or dead-lettered (:249-264).
  A retry's own delaySeconds (msg.retry) is used as given, unchecked (:245, :256-257).
- broker.worker.js:193, :257, :298 — messages and their delays live in an in-memory array and timers;
  node_modules/miniflare/dist/src/index.js:83179-83180 — "Miniflare's Queue broker is in-memory only",
  durableObjectStorage inMemory: nothing is persisted, --persist-to or not.
- node_modules/wrangler/wrangler-dist/cli.js:39383-39436 — wrangler.toml consumer keys are type-checked only
  (max_retries, retry_delay: numbers); cli.js:289066-289068 — \`wrangler queues\` commands: delivery delay
  0..86400 s, message retention 60..1209600 s (86400 on the free tier, cli.js:289148).
- Keyward's WEBHOOK_RETRY_SCHEDULE (worker/src/config.rs:20: 7 retries, longest step 36000 s, 99305 s ≈ 27.6 h
  in all) fits max_retries and the delay bound, but outlasts a 86400 s retention (the free tier's most)
  if retention counts from the first send. Cloudflare's production limits page was not consulted here.`);
  } finally {
    await peer.stop();
    rmSync(persistTo, { recursive: true, force: true });
  }
}
