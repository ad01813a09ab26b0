/**
 * keyward: the JavaScript SDK of Keyward.
 *
 * Every function here is backed by the Rust core compiled to WebAssembly, so the SDK,
 * the service and the native tests make the same decisions. The entry points
 * (`node.ts`, `browser.ts`, `workerd.ts`) only differ in how they load the wasm.
 */
export {
  AuthenticationError,
  ConflictError,
  KeywardError,
  NetworkError,
  NotFoundError,
  PermissionError,
  RateLimitError,
  ValidationError,
  WebhookVerificationError,
} from "./errors.js";
export type { TokenSource } from "./token-source.js";
export { keyPrefix, parseKey } from "./keys.js";
export type { ParseKeyOptions, ParsedKey } from "./keys.js";
export * as pkce from "./pkce.js";
export type { PkcePair } from "./pkce.js";
export { signWebhook, verifyWebhook } from "./webhook.js";
export type { VerifyWebhookOptions, WebhookHeaders } from "./webhook.js";
