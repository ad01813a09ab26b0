/**
 * The Workers entry. Workers cannot compile wasm from bytes at run time, so the module
 * is imported (wrangler and esbuild bundle `.wasm` imports as `WebAssembly.Module`); it
 * is instantiated synchronously the first time a helper needs it, never at import.
 */
import wasmModule from "../wasm/keyward_wasm_bg.wasm";
import { provideWasm } from "./wasm-source.js";

provideWasm({ sync: () => wasmModule, async: () => wasmModule });

export * from "./index.js";
