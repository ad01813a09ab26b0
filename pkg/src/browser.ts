/**
 * The browser entry. Registers how to load the wasm core (fetched from beside this file
 * by `await ready()`, never at import) and exports the SDK. Browsers cannot fetch
 * synchronously, so the helpers need `ready()` once; `Client` needs no wasm at all.
 */
import { provideWasm } from "./wasm-source.js";

provideWasm({ async: () => new URL("../wasm/keyward_wasm_bg.wasm", import.meta.url) });

export * from "./index.js";
