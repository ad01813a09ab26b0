/** The Node entry: loads the wasm synchronously from the package's own folder. */
import { readFileSync } from "node:fs";
import { initSync } from "../wasm/keyward_wasm.js";

initSync({ module: readFileSync(new URL("../wasm/keyward_wasm_bg.wasm", import.meta.url)) });

export * from "./index.js";
