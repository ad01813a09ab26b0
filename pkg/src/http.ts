/**
 * One request to the service, end to end: the bearer token (and one refresh after a
 * 401 when it comes from a `TokenSource`), the per-attempt timeout and the caller's
 * `AbortSignal`, retries of idempotent calls (`retry.ts`), and the mapping of every
 * answer that is not a success to a typed error. Nothing here knows any endpoint.
 */
import {
  AuthenticationError,
  ConflictError,
  KeywardError,
  NetworkError,
  NotFoundError,
  PermissionError,
  RateLimitError,
  ValidationError,
} from "./errors.js";
import { RETRY_STATUSES, type RetryPolicy, parseRetryAfter, retryDelay } from "./retry.js";
import type { TokenSource } from "./token-source.js";

/** The subset of `fetch` the client uses; inject one to test, proxy or instrument. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Options every method takes last. */
export interface CallOptions {
  /** Aborts the call: it rejects promptly with the signal's reason (an `AbortError` by default). */
  signal?: AbortSignal;
  /** This call's per-attempt timeout in ms, instead of the client's. */
  timeoutMs?: number;
}

/** Only the `CallOptions` of a larger options object (so list filters never leak into a request). */
export function callOptions(options: CallOptions = {}): CallOptions {
  const out: CallOptions = {};
  if (options.signal !== undefined) out.signal = options.signal;
  if (options.timeoutMs !== undefined) out.timeoutMs = options.timeoutMs;
  return out;
}

/** One page of a list, and the cursor of the next one (`null` at the end). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** What an endpoint module asks the transport to send. */
export interface Call extends CallOptions {
  method: Method;
  /** The path below the endpoint, its segments already encoded (`path.ts`). */
  path: string;
  /** Query parameters; `undefined` and `null` ones are left out. */
  query?: Record<string, string | number | null | undefined>;
  /** A JSON body. */
  json?: unknown;
  /** A raw body, sent as `application/octet-stream`. */
  bytes?: Uint8Array;
  /** Send the bearer token (default true; false for the public `/auth` endpoints). */
  auth?: boolean;
  /** May be sent again after a failure (default: GET, PUT and DELETE). */
  idempotent?: boolean;
}

/** The settings a `Client` resolved; see `ClientOptions`. */
export interface TransportConfig {
  baseUrl: string;
  token: string | TokenSource | null;
  fetch: FetchLike;
  timeoutMs: number;
  retry: RetryPolicy;
  userAgent: string | undefined;
  /** The jitter's random source (tests pin it). */
  random: () => number;
}

/** `Retry-After` of the answer an error came from, for the retry loop. */
const retryAfterOf = new WeakMap<KeywardError, number>();

export class Transport {
  constructor(readonly config: TransportConfig) {}

  /** The JSON answer: `data` of a `/v1` envelope, or the bare body of `/auth` and `/entities`. */
  json<T>(call: Call): Promise<T> {
    return this.send(call, "application/json", async (res) => unwrap(call.path, await readJson(res)).data as T);
  }

  /** One page of a list: `/v1` `{data: [...], next_cursor}` or bare `{items: [...], next_cursor}`. */
  page<T>(call: Call): Promise<Page<T>> {
    return this.send(call, "application/json", async (res) => {
      const { data, nextCursor } = unwrap(call.path, await readJson(res));
      const items = isV1(call.path) ? data : (data as { items?: unknown } | null)?.items;
      if (!Array.isArray(items)) throw unexpected(res, "a list answer without a list");
      return { items: items as T[], nextCursor };
    });
  }

  /** The raw bytes of a success (a namespace value). */
  bytes(call: Call): Promise<Uint8Array> {
    return this.send(call, "application/octet-stream", async (res) => new Uint8Array(await res.arrayBuffer()));
  }

  /**
   * Sends `call`, retrying as the policy allows, and reads a success with `read` (inside
   * the attempt's timeout). Throws the typed error of the last failure.
   */
  private async send<T>(call: Call, accept: string, read: (res: Response) => Promise<T>): Promise<T> {
    const { signal } = call;
    signal?.throwIfAborted();
    const idempotent = call.idempotent ?? (call.method === "GET" || call.method === "PUT" || call.method === "DELETE");
    const source = call.auth === false ? null : this.config.token;
    let token = typeof source === "string" ? source : await source?.getToken();
    let refreshed = false;
    for (let retry = 0; ; ) {
      try {
        return await this.attempt(call, accept, token, read);
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        if (!(err instanceof KeywardError)) throw err;
        // A 401 means nothing was done: a token source gets one chance to refresh,
        // whatever the method, and it does not count as a retry.
        if (err instanceof AuthenticationError && source !== null && typeof source === "object" && !refreshed) {
          refreshed = true;
          token = await source.getToken({ forceRefresh: true });
          continue;
        }
        const transient = err instanceof NetworkError || (err.status !== undefined && RETRY_STATUSES.has(err.status));
        if (!idempotent || !transient || retry >= this.config.retry.max) throw err;
        const delay = retryDelay(retry, this.config.retry, retryAfterOf.get(err), this.config.random);
        if (delay === undefined) throw err;
        await sleep(delay, signal);
        retry += 1;
      }
    }
  }

  /** One HTTP exchange, bounded by the timeout and the caller's signal. */
  private async attempt<T>(call: Call, accept: string, token: string | undefined, read: (res: Response) => Promise<T>): Promise<T> {
    const timeoutMs = call.timeoutMs ?? this.config.timeoutMs;
    const timeout = new NetworkError(`no answer from ${this.config.baseUrl} within ${timeoutMs} ms`, "timeout");
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(timeout), timeoutMs);
    const forward = () => controller.abort(call.signal?.reason);
    call.signal?.addEventListener("abort", forward, { once: true });
    // Rejects as soon as the attempt is aborted, even if `fetch` or a body read ignores
    // the signal (an injected fetch may).
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
    });
    try {
      const work = async () => {
        const res = await this.config.fetch(this.url(call), this.init(call, accept, token, controller.signal));
        if (!res.ok) throw await errorFrom(res);
        return read(res);
      };
      return await Promise.race([work(), aborted]);
    } catch (err) {
      if (call.signal?.aborted) throw call.signal.reason;
      if (controller.signal.aborted) throw timeout;
      if (err instanceof KeywardError) throw err;
      const failure = new NetworkError(`could not reach ${this.config.baseUrl}: ${describe(err)}`, "network_error");
      failure.cause = err;
      throw failure;
    } finally {
      clearTimeout(timer);
      call.signal?.removeEventListener("abort", forward);
    }
  }

  private url(call: Call): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(call.query ?? {})) {
      if (value !== undefined && value !== null) params.set(name, String(value));
    }
    const query = params.toString();
    return `${this.config.baseUrl}${call.path}${query ? `?${query}` : ""}`;
  }

  private init(call: Call, accept: string, token: string | undefined, signal: AbortSignal): RequestInit {
    const headers: Record<string, string> = { accept };
    if (token !== undefined) headers.authorization = `Bearer ${checkToken(token)}`;
    if (this.config.userAgent !== undefined) headers["user-agent"] = this.config.userAgent;
    const init: RequestInit = { method: call.method, headers, signal };
    if (call.json !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(call.json);
    } else if (call.bytes !== undefined) {
      headers["content-type"] = "application/octet-stream";
      init.body = call.bytes as Uint8Array<ArrayBuffer>;
    }
    return init;
  }
}

/** A bearer token must fit in a header: visible ASCII only (a stray newline would otherwise surface as a network error). */
function checkToken(token: string): string {
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new ValidationError("the token is empty or has characters a header cannot carry (whitespace, non-ASCII)", "malformed_token");
  }
  return token;
}

function isV1(path: string): boolean {
  return path.startsWith("/v1/");
}

/** `/v1` answers `{success: true, data, next_cursor?}`; the bare families answer the body itself. */
function unwrap(path: string, body: unknown): { data: unknown; nextCursor: string | null } {
  const record = (body ?? {}) as { success?: unknown; data?: unknown; next_cursor?: unknown };
  if (isV1(path)) {
    if (record.success !== true || !("data" in record)) throw new KeywardError("the service answered without its success envelope", "unexpected_response");
    return { data: record.data, nextCursor: typeof record.next_cursor === "string" ? record.next_cursor : null };
  }
  return { data: body, nextCursor: typeof record.next_cursor === "string" ? record.next_cursor : null };
}

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw unexpected(res, "a success that is not JSON");
  }
}

function unexpected(res: Response, what: string): KeywardError {
  return new KeywardError(`the service answered ${what} (HTTP ${res.status})`, "unexpected_response", res.status, res.headers.get("x-request-id") ?? undefined);
}

/**
 * The typed error of an answer that is not a success. The service's `code`, `message`
 * and `request_id` come from either error shape (`{success: false, error: {...}}` or
 * `{error: {...}}`; RFC 6749's `{error, error_description}` too); the request id falls
 * back to `X-Request-Id`. Messages keep the server's words, prefixed where needed so a
 * 401 always says "authentication" and a 403 "permission" (the Primatomic seed's users
 * test `str(e)` for them).
 */
export async function errorFrom(res: Response): Promise<KeywardError> {
  let body: unknown;
  try {
    body = JSON.parse(await res.text());
  } catch {
    body = undefined;
  }
  const error = (body as { error?: unknown } | undefined)?.error;
  let code: string | undefined;
  let message: string | undefined;
  let requestId: string | undefined;
  if (typeof error === "object" && error !== null) {
    const e = error as { code?: unknown; message?: unknown; request_id?: unknown };
    if (typeof e.code === "string") code = e.code;
    if (typeof e.message === "string") message = e.message;
    if (typeof e.request_id === "string") requestId = e.request_id;
  } else if (typeof error === "string") {
    code = error;
    const description = (body as { error_description?: unknown }).error_description;
    if (typeof description === "string") message = description;
  }
  requestId ??= res.headers.get("x-request-id") ?? undefined;
  const status = res.status;
  code ??= `http_${status}`;
  message ??= `HTTP ${status}${res.statusText ? ` ${res.statusText}` : ""}`;
  const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"));
  const made = typedError(status, code, message, requestId, retryAfterMs);
  if (retryAfterMs !== undefined) retryAfterOf.set(made, retryAfterMs);
  return made;
}

function typedError(status: number, code: string, message: string, requestId: string | undefined, retryAfterMs: number | undefined): KeywardError {
  switch (status) {
    case 400:
    case 413:
    case 422:
      return new ValidationError(message, code, status, requestId);
    case 401:
      return new AuthenticationError(saying(message, "authentication", "authentication failed"), code, status, requestId);
    case 403:
      return new PermissionError(saying(message, "permission", "permission denied"), code, status, requestId);
    case 404:
      return new NotFoundError(message, code, status, requestId);
    case 409:
      return new ConflictError(message, code, status, requestId);
    case 429:
      return new RateLimitError(message, code, status, requestId, retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000));
    default:
      return new KeywardError(message, code, status, requestId);
  }
}

function saying(message: string, word: string, prefix: string): string {
  return message.toLowerCase().includes(word) ? message : `${prefix}: ${message}`;
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = () => {
      signal?.removeEventListener("abort", stop);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", stop, { once: true });
  });
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? ` (${err.cause.message})` : "";
    return `${err.message}${cause}`;
  }
  return String(err);
}
