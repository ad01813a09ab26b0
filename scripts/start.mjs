// `npm start`: builds the Worker and serves Keyward on 127.0.0.1:8787 (or $PORT) under
// `wrangler dev`, with D1, KV and Durable Object state persisted in .state/.
import path from "node:path";
import { root } from "./lib.mjs";
import { LOCAL_SETTINGS, ensureDevVars, migrate, startServer } from "./devserver.mjs";

const port = Number(process.env.PORT ?? 8787);
const persistTo = path.join(root, ".state");
const secrets = ensureDevVars();
migrate(persistTo);
const server = await startServer({ port, persistTo, vars: LOCAL_SETTINGS, stdio: "inherit", timeoutMs: 600_000 });
console.log(`Local settings: ${Object.entries(LOCAL_SETTINGS).map(([k, v]) => `${k}=${v}`).join(" ")}; messages at ${server.origin}/dev/outbox`);
console.log(`\nKeyward is serving on ${server.origin}`);
console.log(`Bootstrap the first org:\n  curl -X POST ${server.origin}/admin/bootstrap -H "Authorization: Bearer ${secrets.ADMIN_TOKEN}" -H 'Content-Type: application/json' -d '{"org_name":"acme"}'`);
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
