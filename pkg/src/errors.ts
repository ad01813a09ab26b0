/**
 * Typed errors. Every error the SDK throws is a `KeywardError` with a stable `code`
 * (the same strings the Rust core and the service use); HTTP errors also carry the
 * `status` and the server's `requestId`. Two things pass through unchanged: the reason
 * of the caller's own `AbortSignal`, and whatever a caller's `TokenSource` throws.
 */

/** The base of every error the SDK throws. */
export class KeywardError extends Error {
  /** A stable machine-readable code, e.g. `malformed_key`, `unauthorized`. */
  readonly code: string;
  /** The HTTP status, when the error came from the service. */
  readonly status: number | undefined;
  /** The service's `X-Request-Id`, when the error came from the service. */
  readonly requestId: string | undefined;

  constructor(message: string, code: string, status?: number, requestId?: string) {
    super(message);
    // Not `new.target.name`: minifiers rename classes, and callers test `err.name`.
    this.name = "KeywardError";
    this.code = code;
    this.status = status;
    this.requestId = requestId;
  }
}

/**
 * A value given to the SDK is malformed (a key, a verifier, a namespace name…), or the
 * service refused the request's input (400, 413, 422).
 */
export class ValidationError extends KeywardError {
  override name = "ValidationError";
}

/** 401: the credential is missing, unknown, expired or revoked ("authentication failed…"). */
export class AuthenticationError extends KeywardError {
  override name = "AuthenticationError";
}

/** 403: the credential is valid but may not do this ("permission denied…"). */
export class PermissionError extends KeywardError {
  override name = "PermissionError";
}

/** 404: no such resource in the caller's org. */
export class NotFoundError extends KeywardError {
  override name = "NotFoundError";
}

/** 409: the resource exists, or changed concurrently. */
export class ConflictError extends KeywardError {
  override name = "ConflictError";
}

/** 429: over a rate limit; `retryAfter` is the server's `Retry-After`, in seconds. */
export class RateLimitError extends KeywardError {
  override name = "RateLimitError";
  readonly retryAfter: number | undefined;

  constructor(message: string, code: string, status?: number, requestId?: string, retryAfter?: number) {
    super(message, code, status, requestId);
    this.retryAfter = retryAfter;
  }
}

/** The service could not be reached, or did not answer in time (no HTTP status). */
export class NetworkError extends KeywardError {
  override name = "NetworkError";
}

/** A webhook delivery did not verify: bad signature, stale timestamp, bad secret. */
export class WebhookVerificationError extends KeywardError {
  override name = "WebhookVerificationError";
}

/**
 * Runs a call into the wasm core and turns its coded `Error` into `ErrorType`.
 * The core's errors carry `code`; anything without one is a bug and is rethrown as is.
 */
export function coreCall<T>(
  call: () => T,
  ErrorType: new (message: string, code: string) => KeywardError = ValidationError,
): T {
  try {
    return call();
  } catch (err) {
    // Already ours (e.g. `wasm_not_ready` from loading the core): keep its class.
    if (err instanceof KeywardError) throw err;
    if (err instanceof Error && typeof (err as { code?: unknown }).code === "string") {
      throw new ErrorType(err.message, (err as unknown as { code: string }).code);
    }
    throw err;
  }
}
