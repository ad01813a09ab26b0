/**
 * When to try a request again, and how long to wait first: exponential backoff with
 * full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"), never sooner
 * than the server's `Retry-After`, and never waiting longer than a cap: a server that
 * asks for more gets its answer passed to the caller at once.
 *
 * Only idempotent calls are retried (GET, PUT, DELETE): a POST that timed out may have
 * created something, and trying again could create it twice. The statuses retried are
 * the ones that say "nothing was done, come back later": 429, 502, 503, 504, plus
 * network failures and timeouts.
 */
import { ValidationError } from "./errors.js";

/** Retry settings of a `Client`. */
export interface RetryOptions {
  /** Retries after the first attempt (default 2; 0 disables retrying). */
  max?: number;
  /** The first backoff window in ms; it doubles per retry (default 250). */
  baseDelayMs?: number;
  /** The largest backoff window in ms (default 8,000). */
  maxDelayMs?: number;
  /**
   * The longest `Retry-After` (ms) the client waits out by itself (default 60,000); a
   * longer one is not retried: the `RateLimitError` reaches the caller with `retryAfter`.
   */
  maxRetryAfterMs?: number;
}

/** {@link RetryOptions} with every default filled in. */
export type RetryPolicy = Required<RetryOptions>;

export const DEFAULT_RETRY: RetryPolicy = { max: 2, baseDelayMs: 250, maxDelayMs: 8_000, maxRetryAfterMs: 60_000 };

/** The statuses worth another attempt of an idempotent call. */
export const RETRY_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** Fills in defaults; `retries` is a count or the full options. */
export function retryPolicy(retries: number | RetryOptions | undefined): RetryPolicy {
  const options = typeof retries === "number" ? { max: retries } : (retries ?? {});
  const policy = { ...DEFAULT_RETRY };
  for (const name of Object.keys(DEFAULT_RETRY) as (keyof RetryPolicy)[]) {
    const value = options[name];
    if (value !== undefined) {
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
        throw new ValidationError(`retries${typeof retries === "number" ? "" : `.${name}`} must be a number >= 0`, "invalid_option");
      }
      policy[name] = value;
    }
  }
  policy.max = Math.floor(policy.max);
  return policy;
}

/**
 * How long to wait (ms) before retry number `retry` (0 for the first retry), or
 * `undefined` if the server's `Retry-After` is longer than the policy waits out.
 * Full jitter: a uniform draw in [0, min(maxDelayMs, baseDelayMs · 2^retry)); with a
 * `Retry-After`, at least that long.
 */
export function retryDelay(
  retry: number,
  policy: RetryPolicy,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number | undefined {
  if (retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs) return undefined;
  const window = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  const jitter = Math.floor(random() * window);
  return Math.max(retryAfterMs ?? 0, jitter);
}

/**
 * `Retry-After` in ms: delta-seconds or an HTTP date (RFC 9110 §10.2.3); `undefined` if
 * absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
