/**
 * The Node entry. Registers how to load the wasm core (read synchronously from the
 * package's own folder, the first time a helper needs it) and exports the SDK.
 */
import { readFileSync } from "node:fs";
import { provideWasm } from "./wasm-source.js";

const file = new URL("../wasm/keyward_wasm_bg.wasm", import.meta.url);
provideWasm({ sync: () => readFileSync(file), async: () => readFileSync(file) });

export * from "./index.js";
