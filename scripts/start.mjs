// `npm start`: builds the Worker and serves Keyward on 127.0.0.1:8787 (or $PORT) under
// `wrangler dev`, with D1, KV and Durable Object state persisted in .state/.
//
// Every setting the Worker knows (the table at the top of worker/src/config.rs) that is
// set in this process's environment is passed to the Worker, over the local defaults:
// `SESSION_TTL_SECONDS=120 npm start`. Secrets named there override worker/.dev.vars.
import { readFileSync } from "node:fs";
import path from "node:path";
import { root } from "./lib.mjs";
import { LOCAL_SETTINGS, ensureDevVars, migrate, startServer } from "./devserver.mjs";

/** `{name: kind}` of every setting in config.rs's table (`var` or `secret`). */
function knownSettings() {
  const source = readFileSync(path.join(root, "worker/src/config.rs"), "utf8");
  return Object.fromEntries([...source.matchAll(/^\/\/! \| `([A-Z][A-Z0-9_]*)` \| (var|secret) \|/gm)].map((m) => [m[1], m[2]]));
}

const known = knownSettings();
const fromEnv = Object.fromEntries(Object.keys(known).filter((name) => process.env[name] !== undefined).map((name) => [name, process.env[name]]));
const port = Number(process.env.PORT ?? 8787);
const persistTo = path.join(root, ".state");
const secrets = ensureDevVars();
migrate(persistTo);
const vars = { ...LOCAL_SETTINGS, ...fromEnv };
const server = await startServer({ port, persistTo, vars, stdio: "inherit", timeoutMs: 600_000 });
const shown = Object.entries(vars).map(([k, v]) => (known[k] === "secret" ? `${k}=(from the environment)` : `${k}=${v}`));
console.log(`Settings applied: ${shown.join(" ")}; messages at ${server.origin}/dev/outbox`);
console.log(`\nKeyward is serving on ${server.origin}`);
console.log(`Bootstrap the first org:\n  curl -X POST ${server.origin}/admin/bootstrap -H "Authorization: Bearer ${secrets.ADMIN_TOKEN}" -H 'Content-Type: application/json' -d '{"org_name":"acme"}'`);
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
