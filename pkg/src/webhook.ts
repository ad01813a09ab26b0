/**
 * Webhook verification (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
 * `webhook-signature`), computed by the wasm core so Node and browsers agree byte for byte.
 */
import { core } from "./wasm.js";
import { WebhookVerificationError, coreCall } from "./errors.js";

/** Header values, as a `Headers` object or a plain record (names case-insensitive). */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

/** Options of {@link verifyWebhook}. */
export interface VerifyWebhookOptions {
  /** Allowed distance between the timestamp and now, in seconds (default 300). */
  toleranceSeconds?: number;
  /** "Now" in Unix seconds, for tests (default: the system clock). */
  now?: number;
}

function header(headers: WebhookHeaders, name: string): string {
  if (typeof Headers !== "undefined" && headers instanceof Headers) {
    return headers.get(name) ?? "";
  }
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value.join(" ") : (value ?? "");
}

/**
 * Verifies a delivery and returns its parsed JSON body (from Keyward, a
 * `WebhookEvent`: the shape is not checked, so the result is `unknown`). Pass the raw
 * body exactly as received (string or bytes): re-serialised JSON will not verify.
 * Throws `WebhookVerificationError` (`code`: `no_matching_signature`,
 * `timestamp_out_of_tolerance`, `malformed_timestamp`, `malformed_message_id`,
 * `malformed_secret`, `invalid_json`).
 */
export function verifyWebhook(
  body: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string,
  options: VerifyWebhookOptions = {},
): unknown {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  coreCall(
    () =>
      core().webhookVerify(
        secret,
        header(headers, "webhook-id"),
        header(headers, "webhook-timestamp"),
        header(headers, "webhook-signature"),
        bytes,
        now,
        options.toleranceSeconds,
      ),
    WebhookVerificationError,
  );
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new WebhookVerificationError("webhook body is not JSON", "invalid_json");
  }
}

/** Signs a delivery (for senders and tests): returns the `webhook-signature` value. */
export function signWebhook(
  body: string | Uint8Array,
  msgId: string,
  timestamp: number,
  secret: string,
): string {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  return coreCall(() => core().webhookSign(secret, msgId, timestamp, bytes), WebhookVerificationError);
}
