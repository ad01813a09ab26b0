// Builds the Worker (worker/build/) with worker-build, pointing it at local tools so
// that nothing is downloaded: wasm-bindgen from cargo, esbuild and wasm-opt from
// node_modules. wrangler.toml's [build] command runs this, so `wrangler dev` and
// `wrangler deploy` build the same way. When the build is newer than every source it
// is kept, so the tests' repeated `wrangler dev` starts do not rebuild.
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { root, run } from "./lib.mjs";

const sources = ["worker/src", "worker/Cargo.toml", "core/src", "core/Cargo.toml", "Cargo.toml", "Cargo.lock", ".cargo/config.toml"];
const output = path.join(root, "worker", "build", "index_bg.wasm");

function newest(entry) {
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(entry).map((name) => newest(path.join(entry, name))));
}

const upToDate =
  existsSync(output) && statSync(output).mtimeMs > Math.max(...sources.map((s) => newest(path.join(root, s))));
if (upToDate && !process.argv.includes("--force")) {
  console.log("worker build is up to date");
} else {
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
}
