/**
 * `keyward login`: the Primitive seed's "CLI device login". Finds the server's OAuth
 * endpoints from its API, registers a public client once per endpoint (remembered in the
 * profile directory), listens on a random port of 127.0.0.1 for the redirect (RFC 8252:
 * the registered `http://127.0.0.1/callback` matches any port), opens the browser or
 * prints the URL, waits with a visible progress line, exchanges the code and stores the
 * tokens in the endpoint's 0600 token file.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { KeywardError, NetworkError } from "../errors.js";
import { authorizationRequest, discover, exchangeCode, register } from "../oauth.js";
import type { StoredTokens } from "../oauth.js";
import { configDir, profileStore, rememberEndpoint } from "./profile.js";

export interface LoginOptions {
  endpoint: string;
  /** Print the URL instead of opening a browser. */
  noBrowser: boolean;
  /** Where progress goes (stderr): never the tokens. */
  progress: NodeJS.WritableStream;
  /** Give up after this long (default 5 minutes). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

const REDIRECT = "http://127.0.0.1/callback";

/** The client registered at `issuer` by an earlier login, or a new registration. */
async function clientFor(issuer: string, registerNew: () => Promise<string>, env: NodeJS.ProcessEnv): Promise<string> {
  const file = path.join(configDir(env), "clients.json");
  const known: Record<string, string> = await readFile(file, "utf8").then(
    (t) => JSON.parse(t) as Record<string, string>,
    () => ({}),
  );
  const existing = known[issuer];
  if (existing) return existing;
  const clientId = await registerNew();
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${JSON.stringify({ ...known, [issuer]: clientId }, null, 2)}\n`, { mode: 0o600 });
  return clientId;
}

/** Opens `url` in the desktop's browser; false if no opener could be started. */
function openBrowser(url: string): Promise<boolean> {
  const command = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  return new Promise((resolve) => {
    const child = spawn(command, [url], { stdio: "ignore", detached: true });
    child.once("error", () => resolve(false));
    child.once("spawn", () => {
      child.unref();
      resolve(true);
    });
  });
}

const PAGE = (title: string, text: string) =>
  `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${title}</title>` +
  `<body style="font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem"><h1>${title}</h1><p>${text}</p></body></html>`;

/** Waits for one redirect to /callback on a random 127.0.0.1 port. */
async function callbackServer(): Promise<{ port: number; callback: Promise<URL>; close: () => void }> {
  let deliver: (url: URL) => void = () => {};
  const callback = new Promise<URL>((resolve) => (deliver = resolve));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname !== "/callback") {
      res.writeHead(404).end();
      return;
    }
    const failed = url.searchParams.has("error");
    // `connection: close`: a browser must not keep the CLI alive on a kept-alive socket.
    res.writeHead(failed ? 400 : 200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", connection: "close" });
    res.end(failed ? PAGE("Sign-in failed", "Return to the terminal for details.") : PAGE("Sign-in received", "Return to the terminal: it finishes signing in and shows the result. You can close this tab."));
    deliver(new URL(url.pathname + url.search, `http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const close = () => {
    server.close();
    server.closeAllConnections();
  };
  return { port: (server.address() as AddressInfo).port, callback, close };
}

/** A progress line that redraws itself on a terminal and prints once elsewhere. */
function progressLine(out: NodeJS.WritableStream, text: string): () => void {
  const tty = (out as NodeJS.WriteStream).isTTY === true;
  if (!tty) {
    out.write(`${text}\n`);
    return () => {};
  }
  const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
  const started = Date.now();
  let i = 0;
  const draw = () => out.write(`\r${frames[i++ % frames.length]} ${text} ${Math.floor((Date.now() - started) / 1000)}s `);
  draw();
  const timer = setInterval(draw, 100);
  return () => {
    clearInterval(timer);
    out.write("\r\x1b[2K");
  };
}

/** Runs the whole login; resolves to the stored tokens. */
export async function login(options: LoginOptions): Promise<StoredTokens> {
  const env = options.env ?? process.env;
  const { authorizationServer: as } = await discover(options.endpoint);
  const clientId = await clientFor(as.issuer, () => register(as, { redirectUris: [REDIRECT], clientName: "Keyward CLI" }), env);
  const listener = await callbackServer();
  try {
    const request = await authorizationRequest(as, clientId, `http://127.0.0.1:${listener.port}/callback`);
    const opened = !options.noBrowser && (await openBrowser(request.url.href));
    options.progress.write(
      opened
        ? `Opened your browser to sign in. If it did not open, visit:\n  ${request.url.href}\n`
        : `Open this URL in a browser to sign in:\n  ${request.url.href}\n`,
    );
    const stop = progressLine(options.progress, "Waiting for the browser sign-in (Ctrl-C to cancel)");
    const timeoutMs = options.timeoutMs ?? 300_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new NetworkError(`no sign-in within ${Math.round(timeoutMs / 1000)} s`, "login_timeout")), timeoutMs);
    });
    let callback: URL;
    try {
      callback = await Promise.race([listener.callback, timedOut]);
    } finally {
      clearTimeout(timer);
      stop();
    }
    const error = callback.searchParams.get("error");
    if (error) {
      throw new KeywardError(`sign-in refused: ${callback.searchParams.get("error_description") ?? error}`, error);
    }
    const tokens = await exchangeCode(as, clientId, request, callback);
    await profileStore(options.endpoint, env).save(tokens);
    await rememberEndpoint(options.endpoint, env);
    return tokens;
  } finally {
    listener.close();
  }
}
