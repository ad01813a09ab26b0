/** API-key helpers: parse a key strictly, and the only part of it that is safe to show. */
import { core } from "./wasm.js";
import { coreCall } from "./errors.js";

/** What a key's shape tells, without asking the service. */
export interface ParsedKey {
  /** `lookup` (`{p}_` + 43 base64url chars) or `id_secret` (`{p}_<32 hex>_<64 hex>`). */
  scheme: "lookup" | "id_secret";
  /** The first 12 characters: safe to log and display. */
  keyPrefix: string;
  /** The credential id embedded in an `id_secret` key, else `null`. */
  credentialId: string | null;
}

/** Options of {@link parseKey}. */
export interface ParseKeyOptions {
  /** The deployment's key prefix (`KEY_PREFIX`); by default, the one the key claims. */
  prefix?: string;
}

/**
 * Parses an API key strictly (canonical base64url, lowercase hex, exact lengths).
 * Throws `ValidationError` with a `code` such as `malformed_key` or `unknown_token_shape`.
 */
export function parseKey(key: string, options: ParseKeyOptions = {}): ParsedKey {
  return coreCall(() => core().parseKey(key, options.prefix) as ParsedKey);
}

/** The first 12 characters of a token: the only part ever logged or shown. */
export function keyPrefix(token: string): string {
  return core().keyPrefix(token);
}
