/**
 * `keyward`, the command line of the Keyward SDK: sign in through the browser, then call
 * the API with tokens that refresh themselves. Every command takes `--json` (one JSON
 * document on stdout, for scripts) and `--help`; failures print one line on stderr and
 * exit with a code that tells their kind (see `keyward --help`).
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { Client } from "../client.js";
import type { ApiKey } from "../resources/api-keys.js";
import { parseEndpoint } from "../endpoint.js";
import { AuthenticationError, NotFoundError } from "../errors.js";
import { OAuthSession, discover } from "../oauth.js";
import { login } from "./login.js";
import { EXIT, UsageError, describeError, exitCodeOf, fields, table } from "./output.js";
import { lastEndpoint, profileStore } from "./profile.js";

const HELP = `keyward: the command line of a Keyward service

Usage: keyward <command> [options]

Commands:
  login                     sign in through the browser and store tokens for the endpoint
  logout                    revoke the tokens at the service, then forget them
  whoami                    what your credential resolves to
  keys create|list|show|update|revoke
                            your API keys
  kv put|get|ls|rm          values in namespaces
  audit                     the org's audit log (owners and admins)

Options (every command):
  --endpoint <url>          the service (host:port means https; http:// only on loopback).
                            Default: KEYWARD_ENDPOINT, else the endpoint of the last login
  --json                    print one JSON document, for scripts
  -h, --help                this help, or a command's (keyward kv --help)

Credentials: KEYWARD_TOKEN (an API key or access token) overrides the stored login.
Stored logins live in $XDG_CONFIG_HOME/keyward (default ~/.config/keyward), one 0600
token file per endpoint.

Exit codes: 0 ok, 1 other failure, 2 usage, 3 authentication, 4 permission,
5 not found, 6 network.`;

const COMMAND_HELP: Record<string, string> = {
  login: `Usage: keyward login [--endpoint <url>] [--no-browser]

Registers this CLI with the service once, opens your browser to sign in (or prints the
URL with --no-browser), waits for you to allow access, and stores the tokens.`,
  logout: `Usage: keyward logout [--endpoint <url>]

Revokes the stored grant at the service, then deletes the token file.`,
  whoami: `Usage: keyward whoami [--json]`,
  keys: `Usage:
  keyward keys create --name <name> [--namespaces a,b] [--rate-limit <rpm>]
                      [--expires-at <RFC 3339>] [--scheme lookup|id_secret]
  keyward keys list
  keyward keys show <id>
  keyward keys update <id> [--name <name>] [--namespaces a,b] [--rate-limit <rpm>]
                      [--expires-at <RFC 3339>|none]
  keyward keys revoke <id>

The plain key is printed once, by create.`,
  kv: `Usage:
  keyward kv put <namespace> <key> [<value>]   value from the argument, --file <path>, or stdin
  keyward kv get <namespace> <key>             the bytes, unchanged, on stdout
  keyward kv ls <namespace> [--prefix <p>]
  keyward kv rm <namespace> <key>`,
  audit: `Usage: keyward audit [--event <name>] [--limit <n>]   newest first (default 20)`,
};

const OPTIONS = {
  endpoint: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  "no-browser": { type: "boolean" },
  name: { type: "string" },
  namespaces: { type: "string" },
  "rate-limit": { type: "string" },
  "expires-at": { type: "string" },
  scheme: { type: "string" },
  file: { type: "string" },
  prefix: { type: "string" },
  event: { type: "string" },
  limit: { type: "string" },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

/** The endpoint: `--endpoint`, else `KEYWARD_ENDPOINT`, else the last login's. */
async function endpointOf(values: Values, io: Io): Promise<string> {
  const given = values.endpoint || io.env.KEYWARD_ENDPOINT || (await lastEndpoint(io.env));
  if (!given) throw new UsageError("no endpoint: pass --endpoint, set KEYWARD_ENDPOINT, or run keyward login --endpoint <url>");
  return parseEndpoint(given);
}

/** The stored login for `endpoint`, as a token source that refreshes itself. */
async function storedSession(endpoint: string, env: NodeJS.ProcessEnv): Promise<OAuthSession> {
  const store = profileStore(endpoint, env);
  if (!(await store.load())) throw new AuthenticationError(`authentication required: not signed in to ${endpoint}`, "not_signed_in");
  return new OAuthSession(async () => (await discover(endpoint)).authorizationServer, store);
}

/** A client with `KEYWARD_TOKEN`, else the stored login for the endpoint. */
async function clientFor(values: Values, io: Io): Promise<Client> {
  const endpoint = await endpointOf(values, io);
  const token = io.env.KEYWARD_TOKEN || (await storedSession(endpoint, io.env));
  return new Client({ endpoint, token });
}

const list = (text: string | undefined) => text?.split(",").map((s) => s.trim()).filter(Boolean);

function integer(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`${name} must be a whole number`);
  return Number(text);
}

function positional(args: string[], index: number, what: string): string {
  const value = args[index];
  if (value === undefined) throw new UsageError(`missing <${what}>`);
  return value;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

type Printer = (data: unknown, human: () => string) => void;

/** Refuses an unknown subcommand before anything else (endpoint, credentials) is asked. */
function subcommand(command: "keys" | "kv", sub: string | undefined, known: string[]): void {
  if (sub === undefined || !known.includes(sub)) {
    throw new UsageError(`unknown ${command} command ${sub ?? "(none)"}: one of ${known.join(", ")}`);
  }
}

async function keys(sub: string | undefined, args: string[], values: Values, io: Io, print: Printer): Promise<void> {
  subcommand("keys", sub, ["create", "list", "show", "update", "revoke"]);
  const client = await clientFor(values, io);
  const keyRow = (k: ApiKey) => [
    k.id,
    k.name,
    k.key_prefix,
    k.namespaces.join(","),
    k.rate_limit_rpm,
    k.revoked_at ? "revoked" : "active",
    k.expires_at,
  ];
  const COLUMNS = ["id", "name", "prefix", "namespaces", "rpm", "status", "expires"];
  switch (sub) {
    case "create": {
      if (!values.name) throw new UsageError("keys create needs --name");
      const namespaces = list(values.namespaces);
      const rpm = integer(values["rate-limit"], "--rate-limit");
      const scheme = values.scheme;
      if (scheme !== undefined && scheme !== "lookup" && scheme !== "id_secret") throw new UsageError("--scheme is lookup or id_secret");
      const key = await client.apiKeys.create({
        name: values.name,
        ...(namespaces ? { namespaces } : {}),
        ...(rpm !== undefined ? { rate_limit_rpm: rpm } : {}),
        ...(values["expires-at"] ? { expires_at: values["expires-at"] } : {}),
        ...(scheme ? { scheme } : {}),
      });
      print(key, () => `${table(COLUMNS, [keyRow(key)])}\n\nkey (shown once, store it now):\n${key.plain_key}`);
      return;
    }
    case "list": {
      const all: ApiKey[] = [];
      for await (const key of client.apiKeys.list()) all.push(key);
      print(all, () => (all.length ? table(COLUMNS, all.map(keyRow)) : "no keys"));
      return;
    }
    case "show": {
      const key = await client.apiKeys.get(positional(args, 0, "id"));
      print(key, () => fields(Object.entries(key)));
      return;
    }
    case "update": {
      const namespaces = list(values.namespaces);
      const rpm = integer(values["rate-limit"], "--rate-limit");
      const expires = values["expires-at"];
      const key = await client.apiKeys.update(positional(args, 0, "id"), {
        ...(values.name ? { name: values.name } : {}),
        ...(namespaces ? { namespaces } : {}),
        ...(rpm !== undefined ? { rate_limit_rpm: rpm } : {}),
        ...(expires !== undefined ? { expires_at: expires === "none" ? null : expires } : {}),
      });
      print(key, () => table(COLUMNS, [keyRow(key)]));
      return;
    }
    case "revoke": {
      const key = await client.apiKeys.revoke(positional(args, 0, "id"));
      print(key, () => `revoked ${key.id} (${key.key_prefix}…)`);
      return;
    }
  }
}

async function kv(sub: string | undefined, args: string[], values: Values, io: Io, print: Printer): Promise<void> {
  subcommand("kv", sub, ["put", "get", "ls", "rm"]);
  const client = await clientFor(values, io);
  const namespace = positional(args, 0, "namespace");
  switch (sub) {
    case "put": {
      const key = positional(args, 1, "key");
      const given = args[2];
      if (given !== undefined && values.file) throw new UsageError("give the value as an argument or --file, not both");
      const value = values.file ? await readFile(values.file) : given !== undefined && given !== "-" ? Buffer.from(given) : await readAll(io.stdin);
      const stored = await client.putKey(namespace, key, value);
      print(stored, () => `stored ${stored.size} bytes at ${namespace}/${key}`);
      return;
    }
    case "get": {
      const key = positional(args, 1, "key");
      const value = await client.getKey(namespace, key);
      if (value === null) throw new NotFoundError(`not found: ${namespace}/${key}`, "not_found", 404);
      if (values.json) {
        io.stdout.write(`${JSON.stringify({ namespace, key, size: value.length, base64: Buffer.from(value).toString("base64") })}\n`);
      } else {
        io.stdout.write(value);
      }
      return;
    }
    case "ls": {
      const names: string[] = [];
      for await (const name of client.listKeys(namespace, values.prefix !== undefined ? { prefix: values.prefix } : {})) names.push(name);
      print(names, () => names.join("\n"));
      return;
    }
    case "rm": {
      const key = positional(args, 1, "key");
      const deleted = await client.deleteKey(namespace, key);
      print(deleted, () => `deleted ${namespace}/${key}`);
      return;
    }
  }
}

/** Runs one command line; resolves to the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    io.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n\n${HELP}\n`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const [command, sub, ...rest] = positionals;
  if (!command || (values.help && !COMMAND_HELP[command])) {
    (values.help || command === undefined ? io.stdout : io.stderr).write(`${HELP}\n`);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  if (values.help) {
    io.stdout.write(`${COMMAND_HELP[command]}\n`);
    return EXIT.ok;
  }
  const print: Printer = (data, human) => io.stdout.write(`${values.json ? JSON.stringify(data, null, 2) : human()}\n`);
  try {
    switch (command) {
      case "login": {
        const endpoint = await endpointOf(values, io);
        await login({ endpoint, noBrowser: values["no-browser"] === true, progress: io.stderr, env: io.env });
        const me = await new Client({ endpoint, token: await storedSession(endpoint, io.env) }).whoami();
        print({ endpoint, ...me }, () => `Signed in to ${endpoint} (org ${me.org_id}, ${me.role}).`);
        return EXIT.ok;
      }
      case "logout": {
        const endpoint = await endpointOf(values, io);
        if (await profileStore(endpoint, io.env).load()) await (await storedSession(endpoint, io.env)).signOut();
        print({ endpoint, signed_out: true }, () => `Signed out of ${endpoint}.`);
        return EXIT.ok;
      }
      case "whoami": {
        const me = await (await clientFor(values, io)).whoami();
        print(me, () => fields([["org", me.org_id], ["user", me.user_id], ["role", me.role], ["method", me.auth_method], ["credential", me.key_id], ["namespaces", me.namespaces], ["client", me.client_id]]));
        return EXIT.ok;
      }
      case "keys":
        await keys(sub, rest, values, io, print);
        return EXIT.ok;
      case "kv":
        await kv(sub, rest, values, io, print);
        return EXIT.ok;
      case "audit": {
        const client = await clientFor(values, io);
        const limit = integer(values.limit, "--limit") ?? 20;
        const page = await client.audit.list({ limit, ...(values.event ? { event: values.event } : {}) }).page();
        print(page.items, () =>
          page.items.length
            ? table(["at", "event", "reason", "actor", "credential"], page.items.map((e) => [e.at, e.event, e.reason, e.actor_id, e.key_prefix ?? e.credential_id]))
            : "no entries",
        );
        return EXIT.ok;
      }
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } catch (err) {
    io.stderr.write(`${describeError(err)}\n`);
    if (err instanceof UsageError && COMMAND_HELP[command]) io.stderr.write(`\n${COMMAND_HELP[command]}\n`);
    return exitCodeOf(err);
  }
}
