/**
 * A `Client`'s settings: what the caller passed, else the environment (Node), else the
 * defaults. Everything is checked here, once, so a bad setting fails at construction
 * with a `ValidationError` rather than at the first request.
 */
import { parseEndpoint } from "./endpoint.js";
import { ValidationError } from "./errors.js";
import type { FetchLike, TransportConfig } from "./http.js";
import { type RetryOptions, retryPolicy } from "./retry.js";
import type { TokenSource } from "./token-source.js";
import { VERSION } from "./version.js";

/** Options of `new Client(...)`. */
export interface ClientOptions {
  /**
   * The service: `host:port` (https, as in the Primatomic seed) or a URL; `http://` only
   * on localhost, 127.0.0.1 or [::1]. Default: `KEYWARD_ENDPOINT` (Node).
   */
  endpoint?: string;
  /**
   * The bearer credential: an API key, a session JWT or an OAuth access token, or a
   * `TokenSource` that hands out (and refreshes) one. Default: `KEYWARD_TOKEN` (Node).
   * `null`: no credential, for the public `/auth` endpoints only (login, signup, …).
   */
  token?: string | TokenSource | null;
  /** The `fetch` to use (default: the platform's `globalThis.fetch`, looked up per request). */
  fetch?: FetchLike;
  /** Per-attempt timeout in ms, body included (default 30,000). */
  timeoutMs?: number;
  /** Retries of idempotent calls: a count (default 2) or the full `RetryOptions`. */
  retries?: number | RetryOptions;
  /**
   * The `User-Agent` header. Default: `keyward-js/<version>` in Node and Workers; none in
   * browsers, where the service's CORS preflight allows only `Authorization` and
   * `Content-Type` (setting one there makes every call fail its preflight).
   */
  userAgent?: string;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

/** Resolves options (and the environment) into the transport's settings. */
export function resolveOptions(options: ClientOptions = {}): TransportConfig {
  const env = environment();
  const endpoint = options.endpoint ?? env?.KEYWARD_ENDPOINT;
  if (endpoint === undefined || endpoint === "") {
    throw new ValidationError(
      "no endpoint: pass new Client({ endpoint }) or set KEYWARD_ENDPOINT (host:port, or a URL)",
      "missing_endpoint",
    );
  }
  const token = options.token !== undefined ? options.token : env?.KEYWARD_TOKEN || undefined;
  if (token === undefined || token === "") {
    throw new ValidationError(
      "no token: pass new Client({ token }) or set KEYWARD_TOKEN (an API key, a session JWT or an OAuth access token); token: null for the public /auth endpoints only",
      "missing_token",
    );
  }
  if (token !== null && typeof token !== "string" && typeof token?.getToken !== "function") {
    throw new ValidationError("token must be a string, a TokenSource (with getToken) or null", "invalid_option");
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // setTimeout's limit: a larger delay would fire at once.
  if (typeof timeoutMs !== "number" || !(timeoutMs > 0 && timeoutMs <= 2_147_483_647)) {
    throw new ValidationError("timeoutMs must be a number of milliseconds, > 0 and < 2^31", "invalid_option");
  }
  const fetch = options.fetch ?? ((input: string, init: RequestInit) => globalThis.fetch(input, init));
  if (typeof fetch !== "function") throw new ValidationError("fetch must be a function", "invalid_option");
  return {
    baseUrl: parseEndpoint(endpoint),
    token,
    fetch,
    timeoutMs,
    retry: retryPolicy(options.retries),
    userAgent: options.userAgent ?? defaultUserAgent(),
    random: Math.random,
  };
}

/** `process.env` in Node; nothing in browsers and Workers (no ambient environment there). */
function environment(): Record<string, string | undefined> | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
}

function defaultUserAgent(): string | undefined {
  const g = globalThis as { process?: { versions?: { node?: string } }; navigator?: { userAgent?: string } };
  const server = g.process?.versions?.node !== undefined || g.navigator?.userAgent === "Cloudflare-Workers";
  return server ? `keyward-js/${VERSION}` : undefined;
}
