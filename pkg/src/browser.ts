/**
 * The browser entry: fetches and instantiates the wasm beside this file before any
 * export is used (top-level await), so every function is synchronous afterwards.
 */
import init from "../wasm/keyward_wasm.js";

await init({ module_or_path: new URL("../wasm/keyward_wasm_bg.wasm", import.meta.url) });

export * from "./index.js";
