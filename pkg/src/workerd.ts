/**
 * The Workers entry: Workers cannot compile wasm from bytes at run time, so the module
 * is imported (wrangler and esbuild bundle `.wasm` imports as `WebAssembly.Module`).
 */
import { initSync } from "../wasm/keyward_wasm.js";
import wasmModule from "../wasm/keyward_wasm_bg.wasm";

initSync({ module: wasmModule });

export * from "./index.js";
