/**
 * Namespace names and keys, checked offline by the same core code the service runs
 * (`keyward_core::namespace`), so a tool can refuse a bad name before sending it.
 * `Client` does not call these (it would have to load the wasm): it lets the service
 * answer, which gives the same `ValidationError` with the same `code`.
 */
import { coreCall } from "./errors.js";
import { core } from "./wasm.js";

/**
 * Throws `ValidationError` (`code`: `invalid_namespace`) unless `name` is a valid
 * namespace name (`[a-z0-9][a-z0-9._-]{0,62}`).
 */
export function checkNamespaceName(name: string): void {
  coreCall(() => core().checkNamespaceName(name));
}

/**
 * Throws `ValidationError` (`code`: `invalid_key`) unless `key` is a valid key inside a
 * namespace (1-400 bytes of UTF-8 without control characters).
 */
export function checkNamespaceKey(key: string): void {
  coreCall(() => core().checkNamespaceKey(key));
}
