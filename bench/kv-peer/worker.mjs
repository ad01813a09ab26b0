// PUT and GET /kv/{key}: raw bytes in KV, nothing else (no authentication, no limits).
export default {
  async fetch(request, env) {
    const key = decodeURIComponent(new URL(request.url).pathname.slice("/kv/".length));
    if (request.method === "PUT") {
      await env.KV.put(key, await request.arrayBuffer());
      return Response.json({ key });
    }
    if (request.method === "GET") {
      const value = await env.KV.get(key, "arrayBuffer");
      return value === null ? new Response("not found", { status: 404 }) : new Response(value, { headers: { "content-type": "application/octet-stream" } });
    }
    return new Response("method not allowed", { status: 405 });
  },
};
