// Builds the Worker (worker/build/) with worker-build, pointing it at local tools so
// that nothing is downloaded: wasm-bindgen from cargo, esbuild from node_modules.
// wrangler.toml's [build] command runs this, so `wrangler dev` and `wrangler deploy`
// build the same way.
import path from "node:path";
import { root, run } from "./lib.mjs";

const bin = (name) => path.join(root, "node_modules", ".bin", name);
run("worker-build", ["--release"], {
  cwd: path.join(root, "worker"),
  env: {
    ...process.env,
    WASM_BINDGEN_BIN: process.env.WASM_BINDGEN_BIN ?? "wasm-bindgen",
    ESBUILD_BIN: bin("esbuild"),
    WASM_OPT_BIN: bin("wasm-opt"),
  },
});
