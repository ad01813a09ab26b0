// Webhook figures for `npm run bench:http` (issue 10), against the same `wrangler dev`:
//   - what an event adds to the request that causes it: `POST /v1/keys` one after
//     another, first with no endpoint in the org (the event is still written, in the
//     mint's own D1 batch), then with an endpoint subscribed to `key.minted` (the outbox
//     is woken after the answer and delivers to a loopback receiver). Each both back to
//     back (the next mint shares the one local workerd and D1 with the last one's
//     delivery) and 100 ms apart (the delivery is done before the next mint);
//   - a burst of mints from 10 clients, timed until the last delivery arrives, and how
//     long after its mint was sent each event arrived (here the mints, not the
//     deliveries, set the pace);
//   - deliveries per second: a backlog of the burst's events drained by a new endpoint
//     (its cursor set back by SQL before the burst), timed until the receiver has them
//     all: what one endpoint's outbox can deliver, signed and logged.
import { call } from "../tests/e2e/helpers.mjs";
import { startReceiver } from "../tests/e2e/webhook-receiver.mjs";

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];

/**
 * `token` may mint keys in the org; `cpuMs()` reads the workerd process tree's CPU time.
 * Returns the figures, each a plain number.
 */
export async function webhookFigures({ origin, token, cpuMs, sql, sequential = 100, burst = 500 }) {
  let n = 0;
  const mint = async () => {
    const sentAt = Date.now();
    const r = await call(origin, "POST", "/v1/keys", { token, body: { name: `wh-${n++}` } });
    if (r.status !== 201) throw new Error(`mint failed: ${r.status} ${r.text}`);
    return { id: r.body.data.id, sentAt };
  };
  const oneByOne = async (count, gapMs = 0) => {
    const times = [];
    const cpu0 = cpuMs();
    for (let i = 0; i < count; i++) {
      if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      const start = performance.now();
      await mint();
      times.push(performance.now() - start);
    }
    return { median: median(times), p90: p90(times), cpuPerMint: (cpuMs() - cpu0) / count };
  };
  await oneByOne(20); // warm-up
  const plain = await oneByOne(sequential);
  const plainSpaced = await oneByOne(sequential, 100);
  const rx = await startReceiver();
  try {
    const created = await call(origin, "POST", "/v1/webhooks", { token, body: { url: rx.url, event_types: ["key.minted"] } });
    if (created.status !== 201) throw new Error(`endpoint failed: ${created.status} ${created.text}`);
    const cpu0 = cpuMs();
    const subscribed = await oneByOne(sequential);
    await rx.until((r) => r.length >= sequential, 120_000, "the sequential mints' deliveries");
    // CPU of the mints and of their deliveries (made after each answer).
    subscribed.cpuWithDelivery = (cpuMs() - cpu0) / sequential;
    const subscribedSpaced = await oneByOne(sequential, 100);
    await rx.until((r) => r.length >= 2 * sequential, 120_000, "the spaced mints' deliveries");

    rx.received.length = 0;
    const [{ seq: lastBefore }] = sql("SELECT COALESCE(MAX(seq), 0) AS seq FROM webhook_events");
    const sent = new Map();
    const start = Date.now();
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (n < 20 + 4 * sequential + burst) {
          const m = await mint();
          sent.set(m.id, m.sentAt);
        }
      }),
    );
    const mintedIn = Date.now() - start;
    await rx.until((r) => r.length >= sent.size, 300_000, "the burst's deliveries");
    const last = Math.max(...rx.received.map((d) => d.at));
    const lags = rx.received.map((d) => d.at - sent.get(JSON.parse(d.body).data.key_id)).filter(Number.isFinite);

    // The backlog: a new endpoint whose cursor is set back to before the burst.
    const drain = await startReceiver();
    let drained;
    try {
      const backlog = await call(origin, "POST", "/v1/webhooks", { token, body: { url: drain.url, event_types: ["key.minted"] } });
      sql(`UPDATE webhook_endpoints SET event_cursor = ${lastBefore} WHERE id = '${backlog.body.data.id}'`);
      const drainStart = Date.now();
      await mint(); // its event wakes the outbox, which takes the whole backlog
      await drain.until((r) => r.length >= sent.size + 1, 300_000, "the backlog");
      drained = { count: drain.received.length, perSec: drain.received.length / ((Math.max(...drain.received.map((d) => d.at)) - drainStart) / 1000) };
    } finally {
      await drain.close();
    }
    return {
      drained,
      plain,
      plainSpaced,
      subscribed,
      subscribedSpaced,
      burst: sent.size,
      mintsPerSec: sent.size / (mintedIn / 1000),
      deliveriesPerSec: sent.size / ((last - start) / 1000),
      lagMedianMs: median(lags),
      lagP90Ms: p90(lags),
      duplicates: rx.received.length - new Set(rx.received.map((d) => d.headers["webhook-id"])).size,
    };
  } finally {
    await rx.close();
  }
}
