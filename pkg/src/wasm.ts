/**
 * The wasm core, loaded on first use. `Client` never imports this module, so using only
 * the HTTP client loads (and, in a bundle, ships) no wasm at all.
 *
 * - Node and workerd load it synchronously the first time a helper is called (Node reads
 *   the file beside the package; workerd instantiates the module its bundler imported:
 *   Workers cannot compile wasm from bytes at run time, but may instantiate a module).
 * - Browsers have no synchronous way to fetch it: call `await ready()` once before the
 *   first helper. A helper called earlier throws `KeywardError` `wasm_not_ready` rather
 *   than becoming async on one platform only (the helpers keep one signature everywhere).
 */
import * as glue from "../wasm/keyward_wasm.js";
import { KeywardError } from "./errors.js";
import { type WasmSource, wasmProvider } from "./wasm-source.js";

let loaded = false;
let loading: Promise<void> | undefined;

/** Options of {@link ready}. */
export interface ReadyOptions {
  /**
   * Where to take the core from instead of the platform default (the `.wasm` file beside
   * the package): a URL, a `fetch` Response, its bytes or a compiled `WebAssembly.Module`.
   * Useful when a bundler moves the file or a Content-Security-Policy limits origins.
   */
  wasm?: WasmSource;
}

/**
 * Loads the wasm core if it is not loaded yet; resolves once the helpers (`parseKey`,
 * `keyPrefix`, `pkce.*`, `verifyWebhook`, `signWebhook`, `checkNamespaceName`,
 * `checkNamespaceKey`) can be called. Required once in browsers; harmless elsewhere
 * (Node and workerd load on first use anyway). Concurrent calls share one load; a
 * failed load may be retried.
 */
export function ready(options: ReadyOptions = {}): Promise<void> {
  if (loaded) return Promise.resolve();
  const provider = wasmProvider();
  if (options.wasm === undefined && provider?.sync) {
    try {
      loadSync(provider.sync());
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }
  if (!loading) {
    const source = options.wasm ?? provider?.async();
    if (source === undefined) return Promise.reject(notReady());
    loading = glue
      .default({ module_or_path: source })
      .then(() => {
        loaded = true;
      })
      .catch((err: unknown) => {
        loading = undefined;
        throw new KeywardError(`the wasm core could not be loaded: ${describe(err)}`, "wasm_load_failed");
      });
  }
  return loading;
}

/** The loaded glue: loads it synchronously where the platform can, else throws `wasm_not_ready`. */
export function core(): typeof glue {
  if (!loaded) {
    const provider = wasmProvider();
    if (!provider?.sync) throw notReady();
    loadSync(provider.sync());
  }
  return glue;
}

function loadSync(module: WebAssembly.Module | BufferSource): void {
  glue.initSync({ module });
  loaded = true;
}

function notReady(): KeywardError {
  return new KeywardError(
    "the wasm core is not loaded yet: in a browser, `await ready()` (exported by keyward) once before using parseKey, keyPrefix, pkce, verifyWebhook, signWebhook or checkNamespace*",
    "wasm_not_ready",
  );
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
