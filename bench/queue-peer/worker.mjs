// A webhook sender on Cloudflare Queues, the shape the outbox would take on Queues:
//   POST /enqueue?n=N&url=U&tag=T  sends N messages {id: `${T}-${i}`, url: U, body}, by
//                                  sendBatch (at most 100 a call);
//   POST /send-delay?d=S           sends one message with delaySeconds S (to see what
//                                  the local broker accepts);
//   GET /attempts                  every delivery attempt so far, [id, attempt, ms] (in
//                                  isolate memory: a restart empties it);
// and the consumer POSTs each message's body to its url: ack on 2xx, otherwise retry in
// RETRY_DELAY_SECONDS (a refused connection counts as a failure).
const attempts = [];

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname === "/enqueue") {
      const n = Number(url.searchParams.get("n") ?? 1);
      const target = url.searchParams.get("url");
      const tag = url.searchParams.get("tag") ?? "m";
      if (!(n >= 1 && n <= 100) || !target) return new Response("n in 1..100 and url required", { status: 400 });
      const messages = Array.from({ length: n }, (_, i) => {
        const id = `${tag}-${i}`;
        return { body: { id, url: target, body: JSON.stringify({ id, sent_at: Date.now() }) } };
      });
      await env.QUEUE.sendBatch(messages);
      return Response.json({ sent: n });
    }
    if (request.method === "POST" && url.pathname === "/send-delay") {
      try {
        await env.QUEUE.send({ id: "delay-probe", url: "http://127.0.0.1:9/", body: "" }, { delaySeconds: Number(url.searchParams.get("d")) });
        return Response.json({ accepted: true });
      } catch (err) {
        return Response.json({ accepted: false, error: String(err) });
      }
    }
    if (request.method === "GET" && url.pathname === "/attempts") return Response.json({ attempts });
    return new Response("not found", { status: 404 });
  },

  async queue(batch, env) {
    const delaySeconds = Number(env.RETRY_DELAY_SECONDS);
    await Promise.all(
      batch.messages.map(async (msg) => {
        attempts.push([msg.body.id, msg.attempts, Date.now()]);
        try {
          const headers = { "content-type": "application/json", "x-attempt": String(msg.attempts) };
          const res = await fetch(msg.body.url, { method: "POST", headers, body: msg.body.body });
          if (res.ok) return msg.ack();
        } catch {
          // connection refused or reset: a failed attempt like a non-2xx answer
        }
        msg.retry({ delaySeconds });
      }),
    );
  },
};
