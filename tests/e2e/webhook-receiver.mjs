// A webhook receiver on loopback for the delivery tests: it records every request
// (headers and raw body) and answers as its `mode` says: `ok` (204), `fail` (500),
// `redirect` (302 to /elsewhere on itself), or `hang` (never answers, so the sender's
// timeout ends the attempt).
import http from "node:http";

export async function startReceiver({ port = 0, mode = "ok" } = {}) {
  const received = [];
  const hanging = new Set();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      received.push({ at: Date.now(), method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), mode: receiver.mode });
      if (receiver.mode === "hang") {
        hanging.add(res);
        return;
      }
      if (receiver.mode === "redirect") {
        res.writeHead(302, { location: `http://127.0.0.1:${receiver.port}/elsewhere`, connection: "close" });
        res.end();
        return;
      }
      res.writeHead(receiver.mode === "ok" ? 204 : 500, { connection: "close" });
      res.end();
    });
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const receiver = {
    mode,
    received,
    port: server.address().port,
    get url() {
      return `http://127.0.0.1:${receiver.port}/hook`;
    },
    /** Waits until `predicate(received)` holds; throws after `timeoutMs`. */
    async until(predicate, timeoutMs = 30_000, what = "deliveries") {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; received ${received.length}: ${received.map((r) => r.body).join("\n")}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(resolve));
    },
  };
  return receiver;
}
